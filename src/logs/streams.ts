/** Open log streams, so shutdown can end them (an open stream would block app.close()). */
export class LogStreams {
  readonly #ends = new Set<() => void>()
  /** Set by closeAll: new streams are refused (503) from then on. */
  closing = false
  add (end: () => void): () => void {
    this.#ends.add(end)
    return () => this.#ends.delete(end)
  }

  get size (): number { return this.#ends.size }
  closeAll (): void {
    this.closing = true
    for (const end of [...this.#ends]) end()
  }
}
