// Chooses how the writer (writer.ts) overlaps fdatasyncs with the requests
// they acknowledge:
// - pipelined: a long turn's records reach an idle sink as two batches, and
//   records that queued during an fdatasync are written the moment it
//   returns, before the requests it acknowledged continue; so one batch's
//   fdatasync runs while the requests of the other compute;
// - lockstep: one batch per turn, so every waiting request shares one
//   fdatasync and the process waits for it with nothing else to do.
// Pipelining pays when an fdatasync can run beside the requests (a core to
// spare for the thread pool); on a saturated machine its extra fdatasyncs
// compete with the requests for the CPU and each takes longer, and lockstep
// wins. Which holds is measured rather than guessed: the records made durable
// per millisecond over a window of fdatasyncs, and every few windows one
// window the other way, kept if it did better. Only the timing of writes
// changes; every record is still acknowledged only after an fdatasync that
// covers it.

export interface PipelinePolicyOptions {
  /** Fdatasyncs per measurement window. Default 32. */
  window?: number
  /** Windows in the chosen mode before one window of the other. Default 8. */
  probeEvery?: number
}

type Mode = 'pipelined' | 'lockstep'

export class PipelinePolicy {
  readonly #window: number
  readonly #probeEvery: number
  #mode: Mode = 'pipelined'
  #probing = false
  #windowsInMode = 0
  #syncs = 0
  #records = 0
  #startMs: number
  /** Records per millisecond measured in each mode's last window. */
  readonly #rate: Record<Mode, number> = { pipelined: NaN, lockstep: NaN }

  constructor (nowMs: number, opts: PipelinePolicyOptions = {}) {
    this.#window = Math.max(1, opts.window ?? 32)
    this.#probeEvery = Math.max(1, opts.probeEvery ?? 8)
    this.#startMs = nowMs
  }

  get pipelined (): boolean {
    return this.#mode === 'pipelined'
  }

  /** An fdatasync returned at `nowMs`, making `records` records durable. */
  synced (records: number, nowMs: number): void {
    this.#syncs++
    this.#records += records
    if (this.#syncs < this.#window) return
    const mode = this.#mode
    const other: Mode = mode === 'pipelined' ? 'lockstep' : 'pipelined'
    this.#rate[mode] = this.#records / Math.max(nowMs - this.#startMs, 1e-3)
    this.#syncs = 0
    this.#records = 0
    this.#startMs = nowMs
    if (this.#probing) {
      // The probe window is over: keep the mode that made more records durable per millisecond.
      this.#probing = false
      this.#windowsInMode = 0
      if (!(this.#rate[mode] > this.#rate[other])) this.#mode = other
      return
    }
    if (++this.#windowsInMode >= this.#probeEvery) {
      this.#probing = true
      this.#mode = other
    }
  }
}
