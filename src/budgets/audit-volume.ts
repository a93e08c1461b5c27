// Audit records per caller per minute (fixed windows). Records are counted as
// they are appended; a caller past the budget is refused (429) at the door
// until its window ends, and those refusals are not written one by one — one
// caller must not be able to fill the audit disk and so fail everyone's
// mutations. Nothing is lost silently: the first refusal of a window is
// written (`audit.budget-exceeded`), and when the window ends one
// `audit.budget-summary` record says how many requests were refused.
import type { BudgetKey } from './keys.ts'

export interface AuditVolumeOptions {
  limitPerMinute: number
  clock: () => number
  windowMs?: number
}

interface Window {
  start: number
  records: number
  refused: number
}

export interface RefusalSummary {
  key: string
  windowStart: number
  windowEnd: number
  refused: number
}

export type Admission = { ok: true } | { ok: false, retryAfterSeconds: number, first: boolean }

export class AuditVolumeBudget {
  readonly #limit: number
  readonly #clock: () => number
  readonly #windowMs: number
  readonly #windows = new Map<string, Window>()
  readonly #ended: RefusalSummary[] = []
  #lastSweep = -Infinity

  constructor (opts: AuditVolumeOptions) {
    this.#limit = opts.limitPerMinute
    this.#clock = opts.clock
    this.#windowMs = opts.windowMs ?? 60_000
  }

  #current (k: BudgetKey, now: number): Window {
    let w = this.#windows.get(k.key)
    if (w !== undefined && now - w.start >= this.#windowMs) {
      this.#close(k.key, w, now)
      w = undefined
    }
    if (w === undefined) {
      w = { start: now, records: 0, refused: 0 }
      this.#windows.set(k.key, w)
    }
    return w
  }

  #close (key: string, w: Window, now: number): void {
    this.#windows.delete(key)
    if (w.refused > 0) this.#ended.push({ key, windowStart: w.start, windowEnd: Math.min(now, w.start + this.#windowMs), refused: w.refused })
  }

  /** A record was appended on behalf of these keys. */
  note (keys: readonly BudgetKey[]): void {
    const now = this.#clock()
    for (const k of keys) this.#current(k, now).records++
  }

  /** Whether a request of these keys may proceed; a refusal is counted (and is `first` once per window). */
  admit (keys: readonly BudgetKey[]): Admission {
    const now = this.#clock()
    let over: Window | undefined
    for (const k of keys) {
      const w = this.#current(k, now)
      // Past the budget on several keys: the refusal lasts until the latest window ends.
      if (w.records >= this.#limit * k.factor && (over === undefined || w.start > over.start)) over = w
    }
    if (over === undefined) return { ok: true }
    const first = over.refused === 0
    over.refused++
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((over.start + this.#windowMs - now) / 1000)), first }
  }

  /** Counts a refusal that is not written (an anonymous caller past its budget); true when it may be written. */
  chargeOrSuppress (k: BudgetKey): boolean {
    const w = this.#current(k, this.#clock())
    if (w.records < this.#limit * k.factor) return true
    w.refused++
    return false
  }

  /** Summaries of windows that ended with refusals (and forgets quiet windows that ended). */
  drain (all = false): RefusalSummary[] {
    const now = this.#clock()
    // Windows of active callers roll as they come back; the rest are swept at most once a window.
    if (all || now - this.#lastSweep >= this.#windowMs) {
      this.#lastSweep = now
      for (const [key, w] of this.#windows) {
        if (all || now - w.start >= this.#windowMs) this.#close(key, w, now)
      }
    }
    return this.#ended.length === 0 ? [] : this.#ended.splice(0)
  }

  /** Callers with an open window (memory bound check in tests). */
  get tracked (): number { return this.#windows.size }
}
