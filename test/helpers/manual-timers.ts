// Timers that fire when the test moves time (advance), for code that takes a
// RelayTimers-shaped option: a timing property is then a step in the test,
// not a race against the machine's load.
interface Timer { at: number, every: number | undefined, fn: () => void }

export class ManualTimers {
  #ms: number
  readonly #timers = new Set<Timer>()

  constructor (startMs = 1_000_000) {
    this.#ms = startMs
  }

  readonly now = (): number => this.#ms
  readonly setTimeout = (fn: () => void, ms: number): unknown => this.#add({ at: this.#ms + ms, every: undefined, fn })
  readonly setInterval = (fn: () => void, ms: number): unknown => this.#add({ at: this.#ms + ms, every: ms, fn })
  readonly clear = (handle: unknown): void => { this.#timers.delete(handle as Timer) }

  #add (t: Timer): Timer {
    this.#timers.add(t)
    return t
  }

  /** Pending timers (tests assert that an ended session left none). */
  get pending (): number { return this.#timers.size }

  /** Moves time forward, firing every timer that falls due on the way, in order. */
  advance (ms: number): void {
    const end = this.#ms + ms
    for (;;) {
      let next: Timer | undefined
      for (const t of this.#timers) if (t.at <= end && (next === undefined || t.at < next.at)) next = t
      if (next === undefined) break
      this.#ms = next.at
      if (next.every === undefined) this.#timers.delete(next)
      else next.at += Math.max(1, next.every)
      next.fn()
    }
    this.#ms = end
  }
}
