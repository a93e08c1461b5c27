// Token buckets per caller (the classic shaper: golang.org/x/time/rate's
// Limiter, refilled lazily from the clock on each take). Idle full buckets are
// forgotten, so the map holds only callers that spent something recently.
import type { BudgetKey } from './keys.ts'

export interface TokenBucketOptions {
  ratePerMinute: number
  burst: number
  clock: () => number
}

interface Bucket { tokens: number, at: number, factor: number }

export class TokenBuckets {
  readonly #perMs: number
  readonly #burst: number
  readonly #clock: () => number
  readonly #buckets = new Map<string, Bucket>()

  constructor (opts: TokenBucketOptions) {
    this.#perMs = opts.ratePerMinute / 60_000
    this.#burst = opts.burst
    this.#clock = opts.clock
  }

  #level (key: string, factor: number, now: number): number {
    const b = this.#buckets.get(key)
    const cap = this.#burst * factor
    if (!b) return cap
    return Math.min(cap, b.tokens + (now - b.at) * this.#perMs * factor)
  }

  /** Takes one token from every key, or none: 0 when taken, else the seconds until one would be there. */
  take (keys: readonly BudgetKey[]): number {
    const now = this.#clock()
    let wait = 0
    for (const k of keys) {
      const level = this.#level(k.key, k.factor, now)
      if (level < 1) wait = Math.max(wait, Math.ceil((1 - level) / (this.#perMs * k.factor) / 1000))
    }
    if (wait > 0) return wait
    for (const k of keys) this.#buckets.set(k.key, { tokens: this.#level(k.key, k.factor, now) - 1, at: now, factor: k.factor })
    this.#sweep(now)
    return 0
  }

  #sweep (now: number): void {
    if (this.#buckets.size < 1024) return
    for (const [key, b] of this.#buckets) {
      if (b.tokens + (now - b.at) * this.#perMs * b.factor >= this.#burst * b.factor) this.#buckets.delete(key)
    }
  }
}
