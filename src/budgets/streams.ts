// Concurrent streams per caller on this replica. acquire() is synchronous, so
// two upgrades racing in one event loop cannot both take the last slot.
import type { BudgetKey } from './keys.ts'

export class StreamBudget {
  readonly #limit: number
  readonly #held = new Map<string, number>()
  #total = 0

  constructor (limitPerUser: number) {
    this.#limit = limitPerUser
  }

  /** A release function (idempotent), or undefined when any key is at its limit. */
  tryAcquire (keys: readonly BudgetKey[]): (() => void) | undefined {
    for (const k of keys) {
      if ((this.#held.get(k.key) ?? 0) >= this.#limit * k.factor) return undefined
    }
    for (const k of keys) this.#held.set(k.key, (this.#held.get(k.key) ?? 0) + 1)
    this.#total++
    let released = false
    return () => {
      if (released) return
      released = true
      this.#total--
      for (const k of keys) {
        const n = (this.#held.get(k.key) ?? 1) - 1
        if (n <= 0) this.#held.delete(k.key)
        else this.#held.set(k.key, n)
      }
    }
  }

  held (key: string): number { return this.#held.get(key) ?? 0 }
  /** Streams open on this replica (all callers). */
  get total (): number { return this.#total }
  /** Callers holding at least one stream; 0 once everything is released (no leak). */
  get callers (): number { return this.#held.size }
}
