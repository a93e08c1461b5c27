// Every command, in the order help lists them.
import type { Command } from '../command.ts'
import { attachCommand } from './attach.ts'
import { copyCommand } from './copy.ts'
import { debugCommand } from './debug.ts'
import { dropsCommand } from './drops.ts'
import { endCommand } from './end.ts'
import { logsCommand } from './logs.ts'
import { nodeCommand } from './node.ts'
import { sessionsCommand } from './sessions.ts'
import { whoamiCommand } from './whoami.ts'

export const COMMANDS: readonly Command[] = [
  debugCommand, copyCommand, nodeCommand, attachCommand, logsCommand,
  sessionsCommand, endCommand, dropsCommand, whoamiCommand
]
