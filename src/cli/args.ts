// Pure command-line parsing on node:util parseArgs: the global flags, the
// command name wherever it stands among them (`kdebug -n demo sessions` works
// as `kubectl -n demo get pods` does), the command's own flags, positionals,
// and the words after `--` kept apart (the container's command).
import { parseArgs } from 'node:util'
import { UsageError } from './errors.ts'

export interface OptionSpec {
  type: 'string' | 'boolean'
  short?: string
  multiple?: boolean
  /** Shown in help as `--name VALUE`. */
  value?: string
  description: string
}

export type OptionSpecs = Record<string, OptionSpec>

export interface CommandSpec {
  name: string
  summary: string
  /** Usage line after the program name, e.g. `debug POD --image IMAGE [-it] [-- COMMAND…]`. */
  usage: string
  description?: string
  options: OptionSpecs
  /** Positionals before `--`: at least min, at most max (names in `positionalNames` for errors). */
  positionals: { names: string[], min: number }
  /** Words after `--` are allowed (a container command). */
  command?: boolean
  examples: string[]
}

export const GLOBAL_OPTIONS: OptionSpecs = {
  server: { type: 'string', value: 'URL', description: 'Gateway URL (env KDEBUG_SERVER).' },
  token: { type: 'string', value: 'TOKEN', description: 'Bearer token (env KDEBUG_TOKEN); default: the current kubeconfig user\'s credentials (token or exec plugin).' },
  kubeconfig: { type: 'string', value: 'FILE', description: 'Kubeconfig for credentials and the default namespace (default: $KUBECONFIG, ~/.kube/config).' },
  context: { type: 'string', value: 'NAME', description: 'Kubeconfig context to use.' },
  namespace: { type: 'string', short: 'n', value: 'NS', description: 'Namespace (default: the context\'s namespace, else default).' },
  as: { type: 'string', value: 'USER', description: 'Act on behalf of USER (Impersonate-User; the gateway checks you may).' },
  'as-group': { type: 'string', multiple: true, value: 'GROUP', description: 'Act on behalf of GROUP (repeatable).' },
  help: { type: 'boolean', short: 'h', description: 'Show help.' }
}

export interface ParsedCommandLine {
  /** undefined: no command given (`kdebug`, `kdebug --help`). */
  command: string | undefined
  values: Record<string, string | boolean | string[] | undefined>
  positionals: string[]
  /** Words after `--`; undefined when there was no `--`. */
  rest: string[] | undefined
}

type ParseOptions = NonNullable<Parameters<typeof parseArgs>[0]>['options']

function toParseArgs (specs: OptionSpecs): ParseOptions {
  const out: NonNullable<ParseOptions> = {}
  for (const [name, s] of Object.entries(specs)) {
    out[name] = { type: s.type, ...(s.short ? { short: s.short } : {}), ...(s.multiple ? { multiple: true } : {}) }
  }
  return out
}

/** Where the command name stands: the first positional, with every known flag's type applied (values are not commands). */
function findCommand (argv: string[], allOptions: OptionSpecs): { name: string, index: number } | undefined {
  const { tokens } = parseArgs({ args: argv, options: toParseArgs(allOptions), strict: false, allowPositionals: true, tokens: true })
  for (const t of tokens) {
    if (t.kind === 'option-terminator') return undefined
    if (t.kind === 'positional') return { name: t.value, index: t.index }
  }
  return undefined
}

/**
 * Parses argv (without the program name). `commands` gives each command's flags;
 * flags of all commands are known while looking for the command name.
 */
export function parseCommandLine (argv: string[], commands: readonly CommandSpec[]): ParsedCommandLine {
  const all: OptionSpecs = { ...GLOBAL_OPTIONS }
  for (const c of commands) Object.assign(all, c.options)
  const found = findCommand(argv, all)
  const spec = found ? commands.find(c => c.name === found.name) : undefined
  if (found && !spec) throw new UsageError(`unknown command "${found.name}"`)
  const args = found ? [...argv.slice(0, found.index), ...argv.slice(found.index + 1)] : argv
  const options = { ...GLOBAL_OPTIONS, ...spec?.options }
  let parsed
  try {
    parsed = parseArgs({ args, options: toParseArgs(options), strict: true, allowPositionals: true, allowNegative: true, tokens: true })
  } catch (err) {
    // parseArgs' messages name the flag ("Unknown option '--bogus'", "Option '-n, --namespace <value>' argument missing").
    throw new UsageError((err as Error).message.split('\n')[0] ?? 'bad arguments', spec?.name)
  }
  const terminator = parsed.tokens.find(t => t.kind === 'option-terminator')
  const positionals: string[] = []
  const rest: string[] = []
  for (const t of parsed.tokens) {
    if (t.kind !== 'positional') continue
    if (terminator && t.index > terminator.index) rest.push(t.value)
    else positionals.push(t.value)
  }
  const values = parsed.values as ParsedCommandLine['values']
  if (spec && values.help !== true) {
    const { names, min } = spec.positionals
    if (positionals.length < min) throw new UsageError(`missing ${names.slice(positionals.length, min).join(' ')}`, spec.name)
    if (positionals.length > names.length) throw new UsageError(`unexpected argument "${positionals[names.length] ?? ''}"${spec.command ? ' (a container command goes after --)' : ''}`, spec.name)
    if (terminator && !spec.command) throw new UsageError('this command takes no command after --', spec.name)
  }
  return { command: spec?.name, values, positionals, rest: terminator ? rest : undefined }
}

const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 }

/**
 * A Go-style duration as kubectl takes it (`30s`, `5m`, `1h30m`, `1.5h`) or whole seconds (`90`), in seconds.
 * Throws a UsageError naming the flag.
 */
export function parseDuration (text: string, flag: string): number {
  if (/^\d+$/.test(text)) return Number(text)
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy
  let total = 0
  let pos = 0
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * (UNIT_SECONDS[m[2] as string] as number)
    pos = re.lastIndex
  }
  if (text === '' || pos !== text.length) throw new UsageError(`--${flag}: "${text}" is not a duration (e.g. 30s, 5m, 1h30m)`)
  return total
}

/** Whole seconds from a duration flag, at least 1. */
export function parseSeconds (text: string, flag: string): number {
  const s = Math.ceil(parseDuration(text, flag))
  if (s < 1) throw new UsageError(`--${flag} must be at least 1s`)
  return s
}

/** A non-negative integer flag. */
export function parseCount (text: string, flag: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`--${flag}: "${text}" is not a whole number`)
  return Number(text)
}

/** `KEY=VALUE` pairs of a repeatable flag (`--env`, `--set-image`). */
export function parsePairs (items: string[] | undefined, flag: string): Array<[string, string]> {
  return (items ?? []).map(item => {
    const eq = item.indexOf('=')
    if (eq <= 0) throw new UsageError(`--${flag}: "${item}" is not KEY=VALUE`)
    return [item.slice(0, eq), item.slice(eq + 1)]
  })
}

/** One of the allowed words, or a UsageError listing them. */
export function oneOf<T extends string> (text: string, allowed: readonly T[], flag: string): T {
  if ((allowed as readonly string[]).includes(text)) return text as T
  throw new UsageError(`--${flag} must be one of ${allowed.join(', ')} (got "${text}")`)
}
