// An in-memory sink for tests of code that audits: the same serialisation,
// chain and group commit as the file, plus a switch to make writes fail (to
// exercise the "audit unavailable → 503" path without filesystem tricks).

import { GENESIS_HEAD, headFromLine } from './chain.ts'
import type { OpenedFile } from './file-sink.ts'
import type { AuditRecord } from './types.ts'

export class MemorySink {
  readonly lines: string[] = []
  #failure: Error | null = null

  get records (): AuditRecord[] {
    return this.lines.map((l) => JSON.parse(l) as AuditRecord)
  }

  /** Every write fails with `err` until called again with null. */
  setFailure (err: Error | null): void {
    this.#failure = err
  }

  async open (): Promise<OpenedFile> {
    if (this.#failure) throw this.#failure
    const last = this.lines.at(-1)
    return { head: last === undefined ? GENESIS_HEAD : headFromLine(last) }
  }

  async write (data: Uint8Array): Promise<void> {
    if (this.#failure) throw this.#failure
    const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8')
    for (const line of text.split('\n')) if (line !== '') this.lines.push(line)
  }

  async sync (): Promise<void> {
    if (this.#failure) throw this.#failure
  }

  async close (): Promise<void> {}
}
