// The processes behind simulated containers. Containers with stdin (debug
// containers) run a small deterministic shell; containers given a shell
// command run it and exit; everything else (nginx, envoy, app images) is a
// "service" that logs a few startup lines and runs until its pod is deleted.
// A real /bin/sh can replace the simulated shell for the loopback demo.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { BaseProcess } from './process-base.ts'
import type { LogQuery, LogRecord } from './process-log.ts'
import { LineShell, SHELL_BUILTINS } from './process-shell.ts'

export interface ContainerProcess {
  readonly exited: boolean
  readonly exitCode: number | undefined
  /** Bytes written to stdout/stderr so far are kept (bounded) for `pods/log`. */
  onOutput (listener: (stream: 'stdout' | 'stderr', chunk: Buffer) => void): () => void
  onExit (listener: (code: number) => void): () => void
  write (data: Buffer): void // stdin
  closeStdin (): void
  resize (cols: number, rows: number): void
  logSince (opts: { tailLines?: number, sinceSeconds?: number }): Buffer
  /** The container has a tty: one output stream, resize applies (the kubelet takes tty from the container, not the request). */
  readonly tty?: boolean
  /** The container has stdin open (`stdin: true`); attach input to other containers goes nowhere. */
  readonly stdin?: boolean
  /** Container `stdinOnce`: an attach client's stdin EOF closes the container's stdin (without tty). */
  readonly stdinOnce?: boolean
  /** Pauses bulk output until the returned release function is called (back-pressure). */
  hold? (): () => void
  /** Log lines with their write times (for `timestamps`). */
  logRecords? (opts: LogQuery): LogRecord[]
  /** Ends the process (pod deletion); exit code 137 unless given. */
  kill? (code?: number): void
}

export interface ProcessSpec {
  namespace: string
  pod: string
  container: string
  image: string
  command?: string[]
  args?: string[]
  stdin: boolean
  tty: boolean
  stdinOnce?: boolean
  /** The process environment as the kubelet and runtime set it (container-env.ts); default PATH/HOSTNAME/HOME(/TERM). */
  env?: Record<string, string>
}

const SHELLS = new Set(['sh', 'bash', 'ash', 'dash', 'zsh'])

function basename (p: string): string {
  return p.slice(p.lastIndexOf('/') + 1)
}

function quote (word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`
}

/**
 * busybox/coreutils `timeout [-s SIG] [-k DURATION] DURATION COMMAND...` runs COMMAND; the
 * simulated container runs COMMAND (the deadline is not simulated).
 */
function withoutTimeout (argv: string[]): string[] {
  if (argv[0] === undefined || basename(argv[0]) !== 'timeout') return argv
  let i = 1
  while (argv[i] === '-s' || argv[i] === '-k') i += 2
  return argv.slice(i + 1)
}

/**
 * What a container runs: `{ script }` for a shell command or a known builtin (runs, then exits),
 * `interactive` for a bare shell, `service` for anything else (an image's own server).
 */
export function classifyCommand (spec: Pick<ProcessSpec, 'command' | 'args' | 'stdin'>): { kind: 'script', lines: string[] } | { kind: 'interactive' } | { kind: 'service' } {
  const argv = withoutTimeout([...(spec.command ?? []), ...(spec.args ?? [])])
  const first = argv[0]
  if (first === undefined) return spec.stdin ? { kind: 'interactive' } : { kind: 'service' }
  if (SHELLS.has(basename(first))) {
    const c = argv.indexOf('-c')
    if (c !== -1) return { kind: 'script', lines: (argv[c + 1] ?? '').split('\n') }
    // `sh` without -c reads stdin: interactive with stdin, exits at once without.
    return spec.stdin ? { kind: 'interactive' } : { kind: 'script', lines: [] }
  }
  if (SHELL_BUILTINS.has(basename(first))) return { kind: 'script', lines: [[basename(first), ...argv.slice(1)].map(quote).join(' ')] }
  return { kind: 'service' }
}

function startupLines (image: string, argv: string[], now: Date): Array<['stdout' | 'stderr', string]> {
  const d = now.toISOString()
  const ngx = `${d.slice(0, 10).replace(/-/g, '/')} ${d.slice(11, 19)}`
  if (/(^|\/)nginx(:|@|$)/.test(image)) {
    return [
      ['stdout', '/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration'],
      ['stdout', '/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/'],
      ['stdout', '/docker-entrypoint.sh: Configuration complete; ready for start up'],
      ['stderr', `${ngx} [notice] 1#1: using the "epoll" event method`],
      ['stderr', `${ngx} [notice] 1#1: start worker processes`]
    ]
  }
  if (/(^|\/)envoy(:|@|$)/.test(image)) {
    const ts = `[${d.slice(0, 10)} ${d.slice(11, 23)}]`
    return [
      ['stderr', `${ts}[1][info][main] [source/server/server.cc:430] initializing epoch 0 (base id=0, hot restart version=11.104)`],
      ['stderr', `${ts}[1][info][main] [source/server/server.cc:990] starting main dispatch loop`]
    ]
  }
  const what = argv.length > 0 ? argv.join(' ') : image
  return [['stdout', `starting ${what}`], ['stdout', 'listening on :8080']]
}

/** A long-running server: a few startup log lines, then nothing until it is killed. */
export class ServiceProcess extends BaseProcess {
  constructor (spec: ProcessSpec, opts: { logLimitBytes?: number } = {}) {
    super({ tty: spec.tty, stdin: spec.stdin, stdinOnce: spec.stdinOnce === true, logLimitBytes: opts.logLimitBytes })
    const argv = [...(spec.command ?? []), ...(spec.args ?? [])]
    for (const [stream, line] of startupLines(spec.image, argv, new Date())) this.emit(stream, Buffer.from(line + (spec.tty ? '\r\n' : '\n')))
  }

  write (): void {}
  closeStdin (): void {}
  resize (): void {}
  kill (code = 137): void { this.finish(code) }
}

/** A real `/bin/sh` (behind `script` for a pty when tty is asked and available). Demo only: it runs on this machine. */
export class RealShellProcess extends BaseProcess {
  readonly #child: ChildProcess

  constructor (spec: ProcessSpec, opts: { logLimitBytes?: number } = {}) {
    super({ tty: spec.tty, stdin: spec.stdin, stdinOnce: spec.stdinOnce === true, logLimitBytes: opts.logLimitBytes })
    // The container's variables, but HOME stays a directory of this machine (the shell runs here).
    const env = { PATH: '/usr/local/bin:/usr/bin:/bin', ...spec.env, HOME: tmpdir(), HOSTNAME: spec.pod, TERM: 'xterm', PS1: '/ # ' }
    const usePty = spec.tty && existsSync('/usr/bin/script')
    this.#child = usePty
      ? spawn('/usr/bin/script', ['-qefc', '/bin/sh -i', '/dev/null'], { cwd: tmpdir(), env, stdio: 'pipe' })
      : spawn('/bin/sh', spec.tty ? ['-i'] : [], { cwd: tmpdir(), env, stdio: 'pipe' })
    this.#child.stdout?.on('data', (b: Buffer) => this.emit('stdout', b))
    this.#child.stderr?.on('data', (b: Buffer) => this.emit('stderr', b))
    this.#child.stdin?.on('error', () => {})
    this.#child.on('error', () => this.finish(127))
    this.#child.on('exit', (code, signal) => this.finish(code ?? (signal ? 128 + 9 : 0)))
    this.addCleanup(() => { if (this.#child.exitCode === null) this.#child.kill('SIGKILL') })
  }

  override hold (): () => void {
    const release = super.hold()
    this.#child.stdout?.pause()
    this.#child.stderr?.pause()
    return () => {
      release()
      if (!this.held) {
        this.#child.stdout?.resume()
        this.#child.stderr?.resume()
      }
    }
  }

  write (data: Buffer): void { if (!this.exited) this.#child.stdin?.write(data) }
  closeStdin (): void { this.#child.stdin?.end() }
  resize (): void {} // `script` gives no way to resize its pty from outside
  kill (code = 137): void { this.finish(code) }
}

type SimProcess = ContainerProcess & { kill (code?: number): void }

export class ProcessTable {
  readonly #realShell: boolean
  readonly #procs = new Map<string, SimProcess>()
  readonly #previous = new Map<string, SimProcess>()

  constructor (opts?: { realShell?: boolean }) {
    this.#realShell = opts?.realShell === true
  }

  /** Called by the lifecycle when a container becomes Running. Idempotent while the process runs; a new process after it exited (restart). */
  start (spec: ProcessSpec): ContainerProcess {
    const key = `${spec.namespace}/${spec.pod}/${spec.container}`
    const existing = this.#procs.get(key)
    if (existing && !existing.exited) return existing
    if (existing) this.#previous.set(key, existing)
    const proc = this.#create(spec)
    this.#procs.set(key, proc)
    return proc
  }

  get (namespace: string, pod: string, container: string): ContainerProcess | undefined {
    return this.#procs.get(`${namespace}/${pod}/${container}`)
  }

  /** The instance before the last restart (`pods/log?previous=true`). */
  previous (namespace: string, pod: string, container: string): ContainerProcess | undefined {
    return this.#previous.get(`${namespace}/${pod}/${container}`)
  }

  /** Called when a pod is deleted: its processes end (137) and are forgotten. */
  killPod (namespace: string, pod: string): void {
    const prefix = `${namespace}/${pod}/`
    for (const [key, proc] of this.#procs) {
      if (!key.startsWith(prefix)) continue
      this.#procs.delete(key)
      proc.kill()
    }
    for (const key of this.#previous.keys()) if (key.startsWith(prefix)) this.#previous.delete(key)
  }

  closeAll (): void {
    for (const proc of this.#procs.values()) proc.kill()
    this.#procs.clear()
    this.#previous.clear()
  }

  #create (spec: ProcessSpec): SimProcess {
    const what = classifyCommand(spec)
    const base = { tty: spec.tty, stdin: spec.stdin, stdinOnce: spec.stdinOnce === true, hostname: spec.env?.HOSTNAME ?? spec.pod, ...(spec.env ? { env: spec.env } : {}) }
    if (what.kind === 'script') return new LineShell({ ...base, script: what.lines })
    if (what.kind === 'interactive') return this.#realShell ? new RealShellProcess(spec) : new LineShell(base)
    return new ServiceProcess(spec)
  }
}
