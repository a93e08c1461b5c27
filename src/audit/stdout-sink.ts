// The stdout sink: the same lines to a stream (process.stdout by default) for
// log shippers. No fsync is possible; a batch counts as written once the
// stream's write callback fires. Alone it cannot resume a chain across
// restarts (there is nothing to read back), so each process starts at genesis.

export interface LineStream {
  write (chunk: Uint8Array, cb: (err?: Error | null) => void): boolean
}

export class StreamSink {
  readonly #stream: LineStream

  constructor (stream: LineStream) {
    this.#stream = stream
  }

  write (data: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      try {
        this.#stream.write(data, (err) => { if (err) reject(err); else resolve() })
      } catch (err) {
        reject(err)
      }
    })
  }
}
