// What every command gets: its parsed arguments, the terminal, and the
// gateway client (created on first use: credentials are resolved only when a
// command talks to the gateway).
import type { CommandSpec, ParsedCommandLine } from './args.ts'
import type { GatewayClient } from './client.ts'
import type { Terminal } from './terminal.ts'

export interface CommandIo {
  stdin: NodeJS.ReadStream
  stdout: NodeJS.WriteStream
  stderr: NodeJS.WriteStream
  terminal: Terminal
}

export interface CommandContext {
  /** `kdebug` or `kubectl kdebug`, for messages. */
  program: string
  args: ParsedCommandLine
  io: CommandIo
  now: () => number
  /** -n, else the kubeconfig context's namespace, else `default`. */
  namespace: () => Promise<string>
  /** -n as given, undefined without it. */
  explicitNamespace: () => string | undefined
  client: () => Promise<GatewayClient>
}

export interface Command {
  spec: CommandSpec
  /** Resolves to the exit code. */
  run: (ctx: CommandContext) => Promise<number>
}

/** A string flag's value. */
export function str (ctx: CommandContext, name: string): string | undefined {
  const v = ctx.args.values[name]
  return typeof v === 'string' ? v : undefined
}

export function bool (ctx: CommandContext, name: string): boolean {
  return ctx.args.values[name] === true
}

export function list (ctx: CommandContext, name: string): string[] | undefined {
  const v = ctx.args.values[name]
  return Array.isArray(v) ? v : undefined
}

export function println (stream: NodeJS.WritableStream, line = ''): void {
  stream.write(line + '\n')
}
