// One forwarder per sink: follows the log from its persisted cursor and hands
// batches to the sink's delivery, at least once. The loop:
//   read the lines after the cursor (up to the durable head) → deliver →
//   on success persist the cursor (then retention may delete what it covers)
//   → on failure retry the SAME batch with exponential backoff and full jitter
//   (AWS Architecture Blog "Exponential Backoff And Jitter"), reporting the
//   sink down after maxAttempts and then retrying every maxBackoffMs.
// Nothing is dropped: while a sink is down its backlog grows, bounded by the
// rotation budget (retention keeps unacknowledged files; when the budget is
// reached the writer refuses mutations). Requests never wait for a sink: the
// forwarder runs beside the writer and only reads the files.
//
// Kill safety: the cursor is saved only after the sink acknowledged, and
// atomically (cursor.ts). A kill between delivery and save re-sends that
// batch after the restart — with the same seqs, so receivers dedupe.
import type { ChainHead } from '../chain.ts'
import { loadCursor, saveCursor } from './cursor.ts'
import { LogReader } from './reader.ts'

/** Delivers a batch of record lines; resolves once the sink acknowledged, rejects otherwise. */
export type Delivery = (lines: string[], range: { firstSeq: number, lastSeq: number }) => Promise<void>

export interface ForwarderOptions {
  name: string
  /** The active audit file (rotated files and the cursor sit beside it). */
  file: string
  deliver: Delivery
  /** The writer's durable head. */
  head: () => ChainHead
  batchMaxRecords: number
  maxAttempts: number
  initialBackoffMs: number
  maxBackoffMs: number
  /** Resolves after ms, or early when `signal` aborts (tests make it instant). */
  wait?: (ms: number, signal: AbortSignal) => Promise<void>
  random?: () => number
  onError?: (err: Error) => void
}

export interface ForwarderStatus {
  name: string
  acknowledgedSeq: number
  backlog: number
  up: boolean
  failures: number
  delivered: number
  lastError?: string
}

function defaultWait (ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const t = setTimeout(done, ms)
    t.unref()
    function done (): void { clearTimeout(t); signal.removeEventListener('abort', done); resolve() }
    signal.addEventListener('abort', done, { once: true })
  })
}

/** Until the signal aborts (new records, or close): no timer at all while idle. */
function untilAborted (signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve()
    else signal.addEventListener('abort', () => resolve(), { once: true })
  })
}

export class Forwarder {
  readonly name: string
  readonly #o: ForwarderOptions
  readonly #reader: LogReader
  readonly #wait: NonNullable<ForwarderOptions['wait']>
  readonly #random: () => number
  #acked = 0
  #up = true
  #failures = 0
  #delivered = 0
  #lastError: string | undefined
  #loop: Promise<void> | null = null
  #stop = new AbortController()
  #wake: AbortController = new AbortController()
  readonly #idle = new Set<() => void>()

  constructor (opts: ForwarderOptions) {
    this.name = opts.name
    this.#o = opts
    this.#reader = new LogReader(opts.file)
    this.#wait = opts.wait ?? defaultWait
    this.#random = opts.random ?? Math.random
  }

  /** Loads the cursor; the loop starts with start(). Without a cursor the sink gets every record still on disk. */
  async load (): Promise<void> {
    this.#acked = (await loadCursor(this.#o.file, this.name))?.seq ?? 0
  }

  start (): void {
    this.#loop ??= this.#run().catch((err: unknown) => { this.#o.onError?.(err as Error) })
  }

  /** The writer has new durable records. */
  notify (): void {
    this.#wake.abort()
  }

  acknowledgedSeq (): number {
    return this.#acked
  }

  status (): ForwarderStatus {
    const s: ForwarderStatus = {
      name: this.name,
      acknowledgedSeq: this.#acked,
      backlog: Math.max(0, this.#o.head().seq - this.#acked),
      up: this.#up,
      failures: this.#failures,
      delivered: this.#delivered
    }
    if (this.#lastError !== undefined) s.lastError = this.#lastError
    return s
  }

  /** Resolves once everything up to the head at call time is acknowledged (tests, drain). */
  caughtUp (): Promise<void> {
    const target = this.#o.head().seq
    if (this.#acked >= target) return Promise.resolve()
    return new Promise((resolve) => {
      const check = (): void => { if (this.#acked >= target) { this.#idle.delete(check); resolve() } }
      this.#idle.add(check)
    })
  }

  /** Keeps delivering until caught up or `drainMs` passed (preStop), then stops. */
  async close (drainMs = 0): Promise<void> {
    const deadline = drainMs > 0 ? this.#wait(drainMs, this.#stop.signal) : Promise.resolve()
    if (this.#loop !== null && drainMs > 0) await Promise.race([this.caughtUp(), deadline])
    this.#stop.abort()
    this.#wake.abort()
    await this.#loop
  }

  async #run (): Promise<void> {
    const { batchMaxRecords } = this.#o
    while (!this.#stop.signal.aborted) {
      const head = this.#o.head().seq
      if (this.#acked >= head) {
        await untilAborted(AbortSignal.any([this.#wake.signal, this.#stop.signal]))
        if (this.#wake.signal.aborted) this.#wake = new AbortController()
        continue
      }
      if (this.#wake.signal.aborted) this.#wake = new AbortController()
      const batch = await this.#reader.read(this.#acked, head, batchMaxRecords)
      if (batch.lines.length === 0) {
        // The head moved past what the files hold (nothing to read yet); wait for the next batch.
        await defaultWait(50, AbortSignal.any([this.#wake.signal, this.#stop.signal]))
        continue
      }
      if (batch.gapFrom !== undefined) this.#o.onError?.(new Error(`audit forwarder ${this.name}: records from seq ${batch.gapFrom} were no longer on disk`))
      const firstSeq = seqOfFirst(batch.lines, this.#acked)
      if (!await this.#deliverWithRetries(batch.lines, { firstSeq, lastSeq: batch.lastSeq })) return
      await saveCursor(this.#o.file, this.name, { seq: batch.lastSeq, time: new Date().toISOString() })
      this.#acked = batch.lastSeq
      this.#delivered += batch.lines.length
      for (const check of [...this.#idle]) check()
    }
  }

  /** True once delivered; false when stopped first. */
  async #deliverWithRetries (lines: string[], range: { firstSeq: number, lastSeq: number }): Promise<boolean> {
    const { initialBackoffMs, maxBackoffMs, maxAttempts } = this.#o
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#o.deliver(lines, range)
        this.#up = true
        this.#lastError = undefined
        return true
      } catch (err) {
        this.#failures++
        this.#lastError = (err as Error).message
        if (attempt >= maxAttempts) this.#up = false
        if (attempt === maxAttempts) this.#o.onError?.(new Error(`audit forwarder ${this.name}: ${this.#lastError}; ${attempt} attempts failed, retrying every ${maxBackoffMs} ms`))
      }
      if (this.#stop.signal.aborted) return false
      const cap = Math.min(maxBackoffMs, initialBackoffMs * 2 ** Math.min(attempt - 1, 30))
      await this.#wait(attempt >= maxAttempts ? maxBackoffMs : Math.max(1, Math.floor(cap * this.#random())), this.#stop.signal)
      if (this.#stop.signal.aborted) return false
    }
  }
}

function seqOfFirst (lines: string[], acked: number): number {
  const m = /^\{"seq":(\d+),/.exec(lines[0] ?? '')
  return m ? Number(m[1]) : acked + 1
}
