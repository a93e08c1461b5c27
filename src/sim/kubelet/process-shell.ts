// A small deterministic shell standing in for `/bin/sh` in simulated
// containers. With a tty it behaves like a shell behind a pty in canonical
// mode (the line discipline echoes what is typed, CR becomes NL, output NL
// becomes CRNL, ^C interrupts, ^D on an empty line is EOF); without a tty it
// reads raw stdin lines and echoes nothing, like `sh` reading a pipe.
import { BaseProcess } from './process-base.ts'
import { parseCommandLine, type Command } from './shell-syntax.ts'

export interface ShellOptions {
  tty: boolean
  /** The container has stdin open (false for command containers without `stdin: true`). */
  stdin?: boolean
  stdinOnce: boolean
  hostname: string
  /** The process environment (default PATH, HOSTNAME, HOME and TERM with a tty). */
  env?: Record<string, string>
  /** Run these lines non-interactively, then exit with the last status (container `command`/`args`). */
  script?: string[]
  logLimitBytes?: number
}

type Job = Promise<number> & { interrupted?: boolean }

export const FLOOD_LINE_BYTES = 64
const ALPHABET = Buffer.from('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'.repeat(2))
const PROMPT = '/ # '
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
/** Commands the shell knows; ProcessTable uses it to tell scripts from service binaries. */
export const SHELL_BUILTINS: ReadonlySet<string> = new Set([
  'echo', 'exit', 'size', 'stty', 'stderr', 'true', 'false', 'env', 'hostname', 'pwd', 'sleep', 'cat', 'flood', 'yes', 'ss', ':'
])

/**
 * Bytes [offset, offset+length) of the `flood` output: 64-byte lines, each a 10-digit
 * line number, a space and letters rotated by the line number, ending in `\n` (`\r\n` with crlf).
 * Pure, so tests can compute the expected stream.
 */
export function floodContent (offset: number, length: number, crlf = false): Buffer {
  const first = Math.floor(offset / FLOOD_LINE_BYTES)
  const last = Math.ceil((offset + length) / FLOOD_LINE_BYTES)
  const buf = Buffer.allocUnsafe((last - first) * FLOOD_LINE_BYTES)
  const fill = FLOOD_LINE_BYTES - 11 - (crlf ? 2 : 1)
  for (let line = first, p = 0; line < last; line++, p += FLOOD_LINE_BYTES) {
    let n = line
    for (let d = 9; d >= 0; d--) { buf[p + d] = 48 + (n % 10); n = Math.floor(n / 10) }
    buf[p + 10] = 32
    const r = line % 52
    ALPHABET.copy(buf, p + 11, r, r + fill)
    if (crlf) buf[p + FLOOD_LINE_BYTES - 2] = 13
    buf[p + FLOOD_LINE_BYTES - 1] = 10
  }
  const start = offset - first * FLOOD_LINE_BYTES
  return buf.subarray(start, start + length)
}

export class LineShell extends BaseProcess {
  readonly #hostname: string
  readonly #envVars: Record<string, string> | undefined
  readonly #script: string[] | undefined
  #cols = 0
  #rows = 0
  #status = 0
  #stdinClosed = false
  /** Cooked input waiting for a reader; null is an EOF read (^D on an empty tty line). */
  #queue: Array<Buffer | null> = []
  /** The tty line being edited (canonical mode). */
  #line: number[] = []
  #busy = false
  #cancel: (() => void) | undefined
  /** Set while `cat` consumes stdin. */
  #reader: ((item: Buffer | null) => void) | undefined

  constructor (opts: ShellOptions) {
    super({ tty: opts.tty, stdin: opts.stdin ?? true, stdinOnce: opts.stdinOnce, logLimitBytes: opts.logLimitBytes })
    this.#hostname = opts.hostname
    this.#envVars = opts.env
    this.#script = opts.script ? [...opts.script] : undefined
    this.#stdinClosed = !this.stdin // no stdin: reads see EOF (/dev/null)
    if (!this.#script) this.#prompt()
    // Start on the next turn so listeners registered right after start() see everything a script prints.
    setImmediate(() => this.#pump())
  }

  write (data: Buffer): void {
    if (this.exited || this.#stdinClosed || data.length === 0) return
    if (this.tty) this.#discipline(data)
    else this.#queue.push(Buffer.from(data))
    this.#pump()
  }

  closeStdin (): void {
    if (this.exited || this.#stdinClosed) return
    this.#stdinClosed = true
    this.#pump()
  }

  resize (cols: number, rows: number): void {
    this.#cols = cols
    this.#rows = rows
  }

  kill (code = 137): void {
    this.finish(code)
  }

  #out (text: string, stream: 'stdout' | 'stderr' = 'stdout'): void {
    this.emit(stream, Buffer.from(this.tty ? text.replace(/\n/g, '\r\n') : text))
  }

  #prompt (): void {
    if (this.tty && !this.#script) this.#out(PROMPT)
  }

  /** The pty line discipline: ICANON, ECHO, ECHOE, ECHOCTL, ICRNL, ISIG. */
  #discipline (data: Buffer): void {
    const echo: number[] = []
    for (const b of data) {
      if (b === 3) { // ^C: SIGINT, input flushed
        echo.push(94, 67)
        this.#line = []
        this.#queue = []
        this.#flushEcho(echo)
        this.#interrupt()
        continue
      }
      if (b === 4) { // ^D: EOF on an empty line, else deliver the line without newline
        this.#queue.push(this.#line.length === 0 ? null : Buffer.from(this.#line))
        this.#line = []
        continue
      }
      if (b === 13 || b === 10) {
        echo.push(13, 10)
        this.#line.push(10)
        this.#queue.push(Buffer.from(this.#line))
        this.#line = []
        continue
      }
      if (b === 0x7f || b === 8) {
        if (this.#line.length > 0) {
          // Drop a whole UTF-8 character.
          while (this.#line.length > 1 && ((this.#line.at(-1) ?? 0) & 0xc0) === 0x80) this.#line.pop()
          this.#line.pop()
          echo.push(8, 32, 8)
        }
        continue
      }
      if (b === 0x15) { // ^U: kill the line
        for (let i = 0; i < this.#line.length; i++) echo.push(8, 32, 8)
        this.#line = []
        continue
      }
      if (b < 32 && b !== 9) echo.push(94, b + 64) // ECHOCTL
      else echo.push(b)
      this.#line.push(b)
    }
    this.#flushEcho(echo)
  }

  #flushEcho (echo: number[]): void {
    if (echo.length > 0) this.emit('stdout', Buffer.from(echo))
    echo.length = 0
  }

  #interrupt (): void {
    if (this.exited) return
    if (this.#script) { this.finish(130); return }
    const cancel = this.#cancel
    this.#cancel = undefined
    this.#status = 130
    if (cancel) cancel()
    else {
      this.#out('\n')
      this.#prompt()
    }
  }

  #takeLine (): string | null | undefined {
    const q = this.#queue
    if (q[0] === null) { q.shift(); return null }
    const parts: Buffer[] = []
    for (let i = 0; i < q.length; i++) {
      const b = q[i]
      if (b === null || b === undefined) break
      const nl = b.indexOf(10)
      if (nl !== -1) {
        parts.push(b.subarray(0, nl))
        const rest = b.subarray(nl + 1)
        q.splice(0, i + 1, ...(rest.length > 0 ? [rest] : []))
        return Buffer.concat(parts).toString('utf8')
      }
      parts.push(b)
    }
    if (this.#stdinClosed && parts.length > 0 && parts.length === q.length) {
      q.length = 0
      return Buffer.concat(parts).toString('utf8')
    }
    return undefined
  }

  #pump (): void {
    if (this.exited) return
    if (this.#reader) {
      // The reader may go away (EOF) while it consumes, hence the re-reads.
      const reader = (): ((item: Buffer | null) => void) | undefined => this.#reader
      for (let r = reader(); r && this.#queue.length > 0; r = reader()) r(this.#queue.shift() ?? null)
      if (this.#stdinClosed) reader()?.(null)
      return
    }
    while (!this.#busy && !this.exited) {
      let line: string | null | undefined
      if (this.#script) {
        line = this.#script.shift()
        if (line === undefined) { this.finish(this.#status); return }
      } else {
        line = this.#takeLine()
        if (line === undefined && !this.#stdinClosed) return
        if (line === undefined || line === null) { this.#atEof(); return }
      }
      this.#runFrom(this.#parse(line), 0)
      if (!this.#busy && !this.exited) this.#prompt()
    }
  }

  #atEof (): void {
    if (this.tty) this.#out('exit\n')
    this.finish(this.#status)
  }

  #parse (line: string): Command[] {
    try {
      return parseCommandLine(line, name => this.#variable(name))
    } catch (err) {
      this.#out(`sh: syntax error: ${(err as Error).message}\n`, 'stderr')
      this.#status = 2
      return []
    }
  }

  #variable (name: string): string {
    if (name === '?') return String(this.#status)
    return this.#env()[name] ?? ''
  }

  #env (): Record<string, string> {
    if (this.#envVars) return this.#envVars
    const env: Record<string, string> = { PATH, HOSTNAME: this.#hostname, HOME: '/root' }
    if (this.tty) env['TERM'] = 'xterm'
    return env
  }

  #runFrom (cmds: Command[], start: number): void {
    for (let i = start; i < cmds.length; i++) {
      const prev = cmds[i - 1]
      if (prev?.op === '&&' && this.#status !== 0) continue
      if (prev?.op === '||' && this.#status === 0) continue
      const cmd = cmds[i] as Command
      const r = this.#exec(cmd)
      if (this.exited) return
      if (typeof r === 'number') { this.#status = r; continue }
      this.#busy = true
      r.then(code => {
        this.#busy = false
        this.#cancel = undefined
        this.#reader = undefined
        if (this.exited) return
        this.#status = code
        if (r.interrupted) this.#out('\n')
        else this.#runFrom(cmds, i + 1)
        if (!this.#busy && !this.exited) {
          this.#prompt()
          this.#pump()
        }
      }, () => {})
      return
    }
  }

  #exec (cmd: Command): number | Job {
    const [name, ...args] = cmd.argv
    const out = (s: string): void => this.#out(s, cmd.toStderr ? 'stderr' : 'stdout')
    switch (name) {
      case undefined:
        return this.#status
      case ':':
      case 'true':
        return 0
      case 'false':
        return 1
      case 'echo': {
        const noNewline = args[0] === '-n'
        out((noNewline ? args.slice(1) : args).join(' ') + (noNewline ? '' : '\n'))
        return 0
      }
      case 'exit': {
        const code = args[0] === undefined ? this.#status : Number.parseInt(args[0], 10)
        this.finish(Number.isNaN(code) ? 2 : code & 255)
        return this.exitCode ?? 0
      }
      case 'size':
        out(`${this.#rows} ${this.#cols}\n`)
        return 0
      case 'stty':
        if (!this.tty) { this.#out('stty: standard input: Not a tty\n', 'stderr'); return 1 }
        if (args[0] === 'size') out(`${this.#rows} ${this.#cols}\n`)
        return 0
      case 'stderr':
        this.#out(args.join(' ') + '\n', 'stderr')
        return 0
      case 'env':
        out(Object.entries(this.#env()).map(([k, v]) => `${k}=${v}\n`).join(''))
        return 0
      case 'hostname':
        out(this.#hostname + '\n')
        return 0
      case 'pwd':
        out('/\n')
        return 0
      case 'ss':
        out('State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n' +
          'LISTEN 0      511          0.0.0.0:80        0.0.0.0:*\n')
        return 0
      case 'sleep':
        return this.#sleep(args[0])
      case 'cat':
        if (args.length > 0) { this.#out(`cat: can't open '${args[0]}': No such file or directory\n`, 'stderr'); return 1 }
        return this.#cat(cmd.toStderr)
      case 'flood':
        return this.#flood(args)
      case 'yes':
        return this.#yes(args)
      default:
        this.#out(`sh: ${name}: not found\n`, 'stderr')
        return 127
    }
  }

  /** Runs an async command; ^C (or the process ending) cancels it. */
  #job (run: (done: (code: number) => void, onCancel: (fn: () => void) => void) => void): Job {
    let cancelFn: (() => void) | undefined
    const job: Job = new Promise<number>(resolve => {
      let settled = false
      const done = (code: number): void => {
        if (settled) return
        settled = true
        removeCleanup()
        resolve(code)
      }
      const removeCleanup = this.addCleanup(() => cancelFn?.())
      this.#cancel = () => {
        job.interrupted = true
        cancelFn?.()
        done(130)
      }
      run(done, fn => { cancelFn = fn })
    })
    return job
  }

  #sleep (arg: string | undefined): number | Job {
    const seconds = arg === 'infinity' ? Infinity : Number(arg ?? 'x')
    if (!Number.isFinite(seconds) && seconds !== Infinity) {
      this.#out(`sleep: invalid number '${arg ?? ''}'\n`, 'stderr')
      return 1
    }
    return this.#job((done, onCancel) => {
      if (seconds === Infinity) { onCancel(() => {}); return }
      const t = setTimeout(() => done(0), seconds * 1000)
      onCancel(() => clearTimeout(t))
    })
  }

  #cat (toStderr: boolean): Job {
    return this.#job((done, onCancel) => {
      this.#reader = item => {
        if (item === null) { this.#reader = undefined; done(0); return }
        this.emit(toStderr ? 'stderr' : 'stdout', this.tty ? Buffer.from(item.toString('latin1').replace(/\n/g, '\r\n'), 'latin1') : item)
      }
      onCancel(() => { this.#reader = undefined })
      queueMicrotask(() => this.#pump())
    })
  }

  #flood (args: string[]): number | Job {
    const total = Number(args[0])
    const chunk = args[1] === undefined ? 64 * 1024 : Number(args[1])
    if (!Number.isSafeInteger(total) || total < 0 || !Number.isSafeInteger(chunk) || chunk < 1) {
      this.#out('usage: flood BYTES [CHUNK]\n', 'stderr')
      return 2
    }
    let offset = 0
    return this.#generate(() => {
      if (offset >= total) return undefined
      const n = Math.min(chunk, total - offset)
      const b = floodContent(offset, n, this.tty)
      offset += n
      return b
    })
  }

  #yes (args: string[]): Job {
    const count = args[0] === undefined ? Infinity : Number(args[0])
    const line = this.tty ? 'y\r\n' : 'y\n'
    const perChunk = 16384
    const full = Buffer.from(line.repeat(perChunk))
    let left = Number.isFinite(count) && count >= 0 ? Math.floor(count) : Infinity
    return this.#generate(() => {
      if (left <= 0) return undefined
      const n = Math.min(perChunk, left)
      left -= n
      return n === perChunk ? full : full.subarray(0, n * line.length)
    })
  }

  /** Emits chunks from `next` as fast as the holds allow, yielding to I/O between batches. */
  #generate (next: () => Buffer | undefined): Job {
    return this.#job((done, onCancel) => {
      let stopped = false
      let timer: NodeJS.Immediate | undefined
      onCancel(() => { stopped = true; if (timer) clearImmediate(timer) })
      const step = (): void => {
        timer = undefined
        if (stopped || this.exited) return
        if (this.held) { this.whenUnheld(() => { if (!timer) timer = setImmediate(step) }); return }
        for (let i = 0; i < 16; i++) {
          const b = next()
          if (b === undefined) { done(0); return }
          this.emit('stdout', b)
          if (this.held || this.exited || stopped) break
        }
        timer = setImmediate(step)
      }
      timer = setImmediate(step)
    })
  }
}
