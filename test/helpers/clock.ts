// A clock tests move by hand, so TTL expiry is a step in the test rather than a sleep.
export class ManualClock {
  #ms: number

  constructor (startMs = 1_000_000) {
    this.#ms = startMs
  }

  /** Pass as a `clock`/`now` option. */
  readonly now = (): number => this.#ms

  advance (ms: number): void {
    this.#ms += ms
  }
}
