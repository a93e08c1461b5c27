// kdebug attach POD: a container's stdin/stdout through the gateway (kubectl attach).
import type { Command } from '../command.ts'
import { bool, str } from '../command.ts'
import { attach } from '../attach-flow.ts'
import { UsageError } from '../errors.ts'
import { println } from '../command.ts'

export const attachCommand: Command = {
  spec: {
    name: 'attach',
    summary: 'Attach to a running container (a debug session\'s, or any you may attach to)',
    usage: 'attach POD [-c CONTAINER] [-i] [-t]',
    description: 'Like kubectl attach, over the gateway\'s kdebug.v1 WebSocket. Exits with the container\'s exit code when it ends.',
    options: {
      container: { type: 'string', short: 'c', value: 'NAME', description: 'Container (required when the pod has several).' },
      stdin: { type: 'boolean', short: 'i', description: 'Send stdin to the container.' },
      tty: { type: 'boolean', short: 't', description: 'The container has a TTY: raw-mode terminal, resizes follow the window.' },
      wait: { type: 'string', value: 'SECONDS', description: 'Wait up to this many seconds (≤ 60) for a starting container.' }
    },
    positionals: { names: ['POD'], min: 1 },
    examples: [
      'kdebug attach web -n demo -c debugger-abcde -it',
      'kdebug attach api -n demo -c app'
    ]
  },
  run: async (ctx) => {
    const pod = ctx.args.positionals[0] as string
    const ns = await ctx.namespace()
    const container = str(ctx, 'container')
    const stdin = bool(ctx, 'stdin')
    let tty = bool(ctx, 'tty')
    if (tty && !stdin) throw new UsageError('-t needs -i', 'attach')
    if (tty && !ctx.io.terminal.interactive) {
      println(ctx.io.stderr, 'Unable to use a TTY - input is not a terminal or the right kind of file')
      tty = false
    }
    const waitText = str(ctx, 'wait')
    const wait = waitText === undefined ? undefined : Number(waitText)
    if (wait !== undefined && (!Number.isInteger(wait) || wait < 0 || wait > 60)) throw new UsageError('--wait must be whole seconds from 0 to 60', 'attach')
    const path = `/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(pod)}/attach${container ? `?container=${encodeURIComponent(container)}` : ''}`
    const hint = `${ctx.program} attach ${pod} -n ${ns}${container ? ` -c ${container}` : ''}${tty ? ' -it' : stdin ? ' -i' : ''}`
    return await attach(ctx, { url: path, stdin, tty, ...(wait !== undefined ? { wait } : {}), resumeHint: hint })
  }
}
