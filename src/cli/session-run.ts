// The shared flow of debug, copy and node: build the request body from the
// flags (pure), create the session through the gateway, then — as `kubectl
// debug` does — attach with -i, or run `-- COMMAND` once and print its output,
// or just report the session.
import { oneOf, parseDuration, parsePairs, parseSeconds, type OptionSpecs } from './args.ts'
import { attach } from './attach-flow.ts'
import { bool, list, println, str, type CommandContext } from './command.ts'
import { CliError, UsageError } from './errors.ts'
import { EXIT } from './exit-codes.ts'
import { formatData } from './output.ts'

export const PROFILES = ['legacy', 'general', 'baseline', 'restricted', 'netadmin', 'sysadmin'] as const

/** Flags shared by debug, copy and node (kubectl debug's names). */
export const CREATE_OPTIONS: OptionSpecs = {
  image: { type: 'string', value: 'IMAGE', description: 'Debug container image (required; policy decides which).' },
  container: { type: 'string', short: 'c', value: 'NAME', description: 'Debug container name (default debugger-xxxxx).' },
  profile: { type: 'string', value: 'PROFILE', description: `Security profile: ${PROFILES.join(', ')} (default general).` },
  cap: { type: 'string', multiple: true, value: 'CAP', description: 'Add a capability, e.g. SYS_PTRACE (repeatable; policy decides which).' },
  env: { type: 'string', multiple: true, value: 'KEY=VALUE', description: 'Environment variable of the debug container (repeatable).' },
  reason: { type: 'string', value: 'TEXT', description: 'Why (recorded on the object and in the audit log; policy may require it).' },
  ticket: { type: 'string', value: 'ID', description: 'Incident or change ticket to record.' },
  ttl: { type: 'string', value: 'DURATION', description: 'Session lifetime, e.g. 30m (policy caps it).' },
  stdin: { type: 'boolean', short: 'i', description: 'Keep stdin open and attach (interactive).' },
  tty: { type: 'boolean', short: 't', description: 'Allocate a TTY (with -i: a raw-mode terminal).' },
  wait: { type: 'string', value: 'DURATION', description: 'How long to wait for the container to start (default 60s with -i or a command; 0 without).' },
  'dry-run': { type: 'boolean', description: 'Print what would be created (server-side dry run included); create nothing.' },
  'idempotency-key': { type: 'string', value: 'KEY', description: 'Retry safely: the same key and flags return the first result.' },
  output: { type: 'string', short: 'o', value: 'FORMAT', description: 'Print the created session as json or yaml instead of a summary.' }
}

export const COMMAND_EXAMPLES_NOTE = 'Words after -- are the container\'s command.'

export interface RunMode {
  interactive: boolean
  tty: boolean
  oneShot: boolean
}

/** -i, -t and `-- COMMAND` decide the mode; -t without a local terminal falls back as kubectl does. */
export function runMode (ctx: CommandContext): RunMode {
  const interactive = bool(ctx, 'stdin')
  const wantTty = bool(ctx, 'tty')
  if (wantTty && !interactive) throw new UsageError('-t needs -i (an interactive session)', ctx.args.command)
  let tty = wantTty
  if (tty && !ctx.io.terminal.interactive) {
    println(ctx.io.stderr, 'Unable to use a TTY - input is not a terminal or the right kind of file')
    tty = false
  }
  return { interactive, tty, oneShot: !interactive && ctx.args.rest !== undefined && ctx.args.rest.length > 0 }
}

/** The request body fields every create shares (pure apart from reading the parsed flags). */
export function commonBody (ctx: CommandContext, mode: RunMode): Record<string, unknown> {
  const image = str(ctx, 'image')
  if (!image) throw new UsageError('--image is required', ctx.args.command)
  const body: Record<string, unknown> = { image, stdin: mode.interactive, tty: mode.tty }
  const container = str(ctx, 'container')
  if (container) body.container = container
  const profile = str(ctx, 'profile')
  if (profile) body.profile = oneOf(profile, PROFILES, 'profile')
  const caps = list(ctx, 'cap')
  if (caps && caps.length > 0) body.capabilities = { add: caps }
  const env = parsePairs(list(ctx, 'env'), 'env')
  if (env.length > 0) body.env = env.map(([name, value]) => ({ name, value }))
  const reason = str(ctx, 'reason')
  if (reason !== undefined) body.reason = reason
  const ticket = str(ctx, 'ticket')
  if (ticket !== undefined) body.ticket = ticket
  const ttl = str(ctx, 'ttl')
  if (ttl !== undefined) body.ttlSeconds = parseSeconds(ttl, 'ttl')
  const rest = ctx.args.rest
  if (rest && rest.length > 0) body.command = rest
  const wait = str(ctx, 'wait')
  const waitSeconds = wait !== undefined ? Math.ceil(parseDuration(wait, 'wait')) : (mode.interactive || mode.oneShot ? 60 : 0)
  if (waitSeconds > 300) throw new UsageError('--wait is at most 5m', ctx.args.command)
  if (waitSeconds > 0) body.wait = waitSeconds
  return body
}

interface CreateAnswer {
  session: { id: string, kind: string, namespace: string, pod: string, container?: string, node?: string, state: string, status?: { reason?: string, message?: string, exitCode?: number }, expiresAt?: string }
  attach?: { url: string }
  warnings: Array<{ code: string, message: string }>
  idempotentReplay?: boolean
}

/** Creates the session at `path` and runs it in the mode the flags chose. */
export async function createAndRun (ctx: CommandContext, path: string, body: Record<string, unknown>, mode: RunMode): Promise<number> {
  const client = await ctx.client()
  const output = str(ctx, 'output')
  const format = output === undefined ? undefined : oneOf(output, ['json', 'yaml'] as const, 'output')
  const dryRun = bool(ctx, 'dry-run')
  const key = str(ctx, 'idempotency-key')
  const answer = await client.json<CreateAnswer>('POST', path, {
    body,
    query: { dryRun: dryRun || undefined },
    headers: key ? { 'idempotency-key': key } : {}
  })
  for (const w of answer.warnings) println(ctx.io.stderr, `Warning: ${w.message}`)
  if (dryRun) {
    ctx.io.stdout.write(formatData(answer, format ?? 'yaml'))
    return EXIT.ok
  }
  const s = answer.session
  if (format) ctx.io.stdout.write(formatData(answer, format))
  if (s.state === 'image-pull-failed') {
    throw new CliError(`session ${s.id}: the image could not be pulled: ${s.status?.reason ?? ''}${s.status?.message ? ` (${s.status.message})` : ''}`)
  }
  const where = `${s.namespace}/${s.pod}${s.container ? ` container ${s.container}` : ''}`
  const attachHint = `${ctx.program} attach ${s.pod} -n ${s.namespace}${s.container ? ` -c ${s.container}` : ''}${mode.tty ? ' -it' : mode.interactive ? ' -i' : ''}`
  if (!mode.interactive && !mode.oneShot) {
    if (!format) {
      println(ctx.io.stdout, `session ${s.id}: ${s.kind} ${where} (${s.state})${answer.idempotentReplay ? ' (replayed)' : ''}`)
      if (s.expiresAt) println(ctx.io.stdout, `expires at ${s.expiresAt}; end it with: ${ctx.program} end ${s.id} -n ${s.namespace}`)
      if (s.container) println(ctx.io.stdout, `attach with: ${attachHint}`)
    }
    return EXIT.ok
  }
  if (!answer.attach || !s.container) throw new CliError(`session ${s.id} has no container to attach to`)
  if (!format) println(ctx.io.stderr, `Session ${s.id}: ${s.kind} ${where}`)
  if (mode.oneShot || s.state === 'terminated') return await printRun(ctx, s)
  return await attach(ctx, { url: answer.attach.url, stdin: true, tty: mode.tty, wait: 30, resumeHint: attachHint })
}

/** A command container's output (followed to its end), then its exit code from the session's status. */
async function printRun (ctx: CommandContext, s: CreateAnswer['session']): Promise<number> {
  const client = await ctx.client()
  const logs = await client.request('GET', `/v1/namespaces/${encodeURIComponent(s.namespace)}/pods/${encodeURIComponent(s.pod)}/containers/${encodeURIComponent(s.container ?? '')}/logs`, { query: { follow: true } })
  if (logs.body) {
    for await (const chunk of logs.body) {
      if (!ctx.io.stdout.write(chunk)) await new Promise(resolve => ctx.io.stdout.once('drain', resolve))
    }
  }
  // The kubelet records the exit code a moment after the output ends (as `kubectl run -i` polls the pod).
  const deadline = ctx.now() + 30_000
  for (;;) {
    const now = await client.json<CreateAnswer['session']>('GET', `/v1/sessions/${encodeURIComponent(s.id)}`, { query: { namespace: s.namespace } })
    if (now.state === 'terminated' && typeof now.status?.exitCode === 'number') return now.status.exitCode
    if (now.state === 'image-pull-failed' || now.state === 'expired' || ctx.now() > deadline) {
      throw new CliError(`session ${s.id}: no exit code (state ${now.state}${now.status?.reason ? `, ${now.status.reason}` : ''})`)
    }
    await new Promise(resolve => setTimeout(resolve, 200))
  }
}
