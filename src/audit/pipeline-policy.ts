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
// wins. Which holds is measured rather than guessed: the log starts in
// lockstep and, after a warm-up window and one measured window of
// fdatasyncs, tries pipelining for two windows, keeping whichever made more
// records durable per millisecond; from then on it probes the other mode the
// same way every few windows, less and less often while the choice holds, so
// the probes cost little. Only the timing of writes changes; every record is
// still acknowledged only after an fdatasync that covers it.

export interface PipelinePolicyOptions {
  /** 'adaptive' (default) measures as described above; 'always' and 'never' fix the mode. */
  pipelining?: 'adaptive' | 'always' | 'never'
  /** Fdatasyncs per measurement window. Default 32. */
  window?: number
  /** Windows in the chosen mode before probing the other after a switch; doubles (up to 8 times) each time a probe confirms the choice. Default 8. */
  probeEvery?: number
}

type Mode = 'pipelined' | 'lockstep'

export class PipelinePolicy {
  readonly #window: number
  readonly #probeEvery: number
  readonly #adaptive: boolean
  #probeAfter: number
  #mode: Mode = 'lockstep'
  #probing = false
  #windows = 0
  #syncs = 0
  #records = 0
  #startMs: number
  /** The chosen mode's records and milliseconds since it was last chosen (what a probe is compared with). */
  #stretch = { records: 0, ms: 0 }
  /** The first window runs cold code (JIT, caches): it is not measured. */
  #warm = false

  constructor (nowMs: number, opts: PipelinePolicyOptions = {}) {
    this.#window = Math.max(1, opts.window ?? 32)
    this.#probeEvery = Math.max(1, opts.probeEvery ?? 8)
    this.#probeAfter = 1
    this.#startMs = nowMs
    this.#adaptive = (opts.pipelining ?? 'adaptive') === 'adaptive'
    if (opts.pipelining === 'always') this.#mode = 'pipelined'
  }

  get pipelined (): boolean {
    return this.#mode === 'pipelined'
  }

  /** An fdatasync returned at `nowMs`, making `records` records durable. */
  synced (records: number, nowMs: number): void {
    if (!this.#adaptive) return
    this.#syncs++
    this.#records += records
    // A probe lasts two windows: one window's rate swings more than the modes differ.
    if (this.#syncs < (this.#probing ? 2 * this.#window : this.#window)) return
    const ms = Math.max(nowMs - this.#startMs, 1e-3)
    const windowRecords = this.#records
    this.#syncs = 0
    this.#records = 0
    this.#startMs = nowMs
    if (!this.#warm) {
      this.#warm = true
      return
    }
    if (this.#probing) {
      // Keep whichever made more records durable per millisecond.
      this.#probing = false
      this.#windows = 0
      const chosen = this.#stretch
      this.#stretch = { records: 0, ms: 0 }
      if (windowRecords / ms > chosen.records / chosen.ms) {
        this.#probeAfter = this.#probeEvery // a switch: look again soon
      } else {
        // The choice held: probe less often while it keeps holding.
        this.#mode = this.#mode === 'pipelined' ? 'lockstep' : 'pipelined'
        this.#probeAfter = Math.min(2 * this.#probeAfter, 8 * this.#probeEvery)
      }
      return
    }
    this.#stretch.records += windowRecords
    this.#stretch.ms += ms
    if (++this.#windows >= this.#probeAfter) {
      this.#probing = true
      this.#mode = this.#mode === 'pipelined' ? 'lockstep' : 'pipelined'
    }
  }
}
