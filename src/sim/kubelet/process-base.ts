// What every simulated container process shares: output fan-out, the log
// history, exit notification and the back-pressure holds bulk writers obey.
import { OutputLog, renderRecords, type LogQuery, type LogRecord } from './process-log.ts'

export type OutputStream = 'stdout' | 'stderr'
export type OutputListener = (stream: OutputStream, chunk: Buffer) => void

export abstract class BaseProcess {
  readonly tty: boolean
  readonly stdin: boolean
  readonly stdinOnce: boolean
  readonly #log: OutputLog
  readonly #outputListeners = new Set<OutputListener>()
  readonly #exitListeners = new Set<(code: number) => void>()
  readonly #cleanups = new Set<() => void>()
  #exitCode: number | undefined
  #holds = 0
  #unheldWaiters: Array<() => void> = []

  constructor (opts: { tty: boolean, stdin: boolean, stdinOnce: boolean, logLimitBytes?: number }) {
    this.tty = opts.tty
    this.stdin = opts.stdin
    this.stdinOnce = opts.stdinOnce
    this.#log = new OutputLog(opts.logLimitBytes)
  }

  get exited (): boolean { return this.#exitCode !== undefined }
  get exitCode (): number | undefined { return this.#exitCode }
  get held (): boolean { return this.#holds > 0 }

  onOutput (listener: OutputListener): () => void {
    if (this.exited) return () => {}
    this.#outputListeners.add(listener)
    return () => { this.#outputListeners.delete(listener) }
  }

  onExit (listener: (code: number) => void): () => void {
    const code = this.#exitCode
    if (code !== undefined) {
      queueMicrotask(() => listener(code))
      return () => {}
    }
    this.#exitListeners.add(listener)
    return () => { this.#exitListeners.delete(listener) }
  }

  /** Pauses bulk output (generators, a real shell's pipes) until every hold is released. */
  hold (): () => void {
    this.#holds++
    let released = false
    return () => {
      if (released) return
      released = true
      this.#holds--
      if (this.#holds === 0) {
        const waiters = this.#unheldWaiters
        this.#unheldWaiters = []
        for (const w of waiters) w()
      }
    }
  }

  logSince (opts: LogQuery): Buffer {
    return renderRecords(this.#log.records(opts), false)
  }

  logRecords (opts: LogQuery): LogRecord[] {
    return this.#log.records(opts)
  }

  /** Runs `fn` now if nothing holds the output, else once the last hold is released. */
  protected whenUnheld (fn: () => void): void {
    if (this.#holds === 0) fn()
    else this.#unheldWaiters.push(fn)
  }

  /** Registers teardown (timers, children) run once when the process ends. */
  protected addCleanup (fn: () => void): () => void {
    this.#cleanups.add(fn)
    return () => { this.#cleanups.delete(fn) }
  }

  protected emit (stream: OutputStream, chunk: Buffer): void {
    if (this.exited || chunk.length === 0) return
    // A pty has one output: with tty, stderr arrives as stdout (no stderr stream exists).
    const s: OutputStream = this.tty ? 'stdout' : stream
    this.#log.append(chunk)
    for (const l of this.#outputListeners) l(s, chunk)
  }

  protected finish (code: number): void {
    if (this.exited) return
    this.#exitCode = code
    for (const c of this.#cleanups) c()
    this.#cleanups.clear()
    this.#unheldWaiters = []
    this.#outputListeners.clear()
    const listeners = [...this.#exitListeners]
    this.#exitListeners.clear()
    for (const l of listeners) l(code)
  }
}
