// The CLI as a function: argv and the process's streams in, an exit code out.
// Parsing and help happen before anything touches the network or the
// kubeconfig; every failure ends as one line on stderr and its exit code.
import { basename } from 'node:path'
import { parseCommandLine, type ParsedCommandLine } from './args.ts'
import { cliVersion, GatewayClient } from './client.ts'
import type { CommandContext, CommandIo } from './command.ts'
import { COMMANDS } from './commands/index.ts'
import { KubeconfigSource, resolveConnection, type ConnectionFlags, type Env } from './credentials.ts'
import { CliError, UsageError } from './errors.ts'
import { EXIT } from './exit-codes.ts'
import { commandHelp, mainHelp } from './help.ts'

export interface RunOptions {
  argv: string[]
  /** process.argv[1]: `kubectl-kdebug` makes messages say `kubectl kdebug`. */
  programPath?: string
  env: Env
  io: CommandIo
  now?: () => number
}

/** How the user invoked us, for help and hints. */
export function programName (programPath: string | undefined): string {
  const base = basename(programPath ?? 'kdebug').replace(/\.(ts|js|mjs)$/, '')
  return base.startsWith('kubectl-') ? `kubectl ${base.slice('kubectl-'.length).replaceAll('_', '-')}` : 'kdebug'
}

function flagsOf (values: ParsedCommandLine['values']): ConnectionFlags {
  const s = (k: string): string | undefined => (typeof values[k] === 'string' ? values[k] : undefined)
  const groups = values['as-group']
  return {
    server: s('server'),
    token: s('token'),
    kubeconfig: s('kubeconfig'),
    context: s('context'),
    as: s('as'),
    asGroups: Array.isArray(groups) ? groups : undefined
  }
}

export async function run (o: RunOptions): Promise<number> {
  const program = programName(o.programPath)
  const err = o.io.stderr
  let parsed: ParsedCommandLine | undefined
  try {
    if (o.argv.length === 1 && o.argv[0] === '--version') {
      o.io.stdout.write(`kdebug ${cliVersion()}\n`)
      return EXIT.ok
    }
    parsed = parseCommandLine(o.argv, COMMANDS.map(c => c.spec))
    const command = COMMANDS.find(c => c.spec.name === parsed?.command)
    if (!command) {
      if (parsed.values.help === true || o.argv.length === 0) {
        (o.argv.length === 0 ? err : o.io.stdout).write(mainHelp(program, COMMANDS.map(c => c.spec)))
        return o.argv.length === 0 ? EXIT.usage : EXIT.ok
      }
      throw new UsageError('no command given')
    }
    if (parsed.values.help === true) {
      o.io.stdout.write(commandHelp(program, command.spec))
      return EXIT.ok
    }
    const flags = flagsOf(parsed.values)
    const kubeconfig = new KubeconfigSource(flags)
    let client: GatewayClient | undefined
    const explicitNs = typeof parsed.values.namespace === 'string' ? parsed.values.namespace : undefined
    const ctx: CommandContext = {
      program,
      args: parsed,
      io: o.io,
      now: o.now ?? Date.now,
      explicitNamespace: () => explicitNs,
      namespace: async () => explicitNs ?? await kubeconfig.namespace(),
      client: async () => (client ??= new GatewayClient(await resolveConnection(flags, o.env, kubeconfig)))
    }
    return await command.run(ctx)
  } catch (e) {
    if (e instanceof UsageError) {
      err.write(`error: ${e.message}\n`)
      err.write(`See '${program}${e.command ? ` ${e.command}` : ''} --help'.\n`)
      return e.exitCode
    }
    if (e instanceof CliError) {
      err.write(`error: ${e.message}\n`)
      return e.exitCode
    }
    // A bug, not a gateway answer: say so without a stack full of internals.
    err.write(`error: ${(e as Error).message ?? String(e)}\n`)
    return EXIT.failed
  }
}
