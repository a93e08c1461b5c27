// Reads a rotated log forward from a seq: the lines after `afterSeq`, up to
// the writer's durable head (a line past it may still be in a batch whose
// fdatasync has not returned, and could be rolled back), across rotated files
// into the active one. Remembers where it stopped (file by its first seq, and
// byte offset), so following the log costs one read per batch; after a
// restart it finds the file from the names (a rotated file's name is its
// first seq) and skips to the seq once.
import { open } from 'node:fs/promises'
import { listAuditFiles, rotatedName } from '../files.ts'
import type { AuditFiles } from '../files.ts'

const CHUNK = 1024 * 1024
const MAX_LINE = 16 * 1024 * 1024
const SEQ_PREFIX = /^\{"seq":(\d+),/

interface Position {
  /** First seq of the file being read; null: the active file, not read yet. */
  fileFirstSeq: number | null
  offset: number
}

export interface ReadBatch {
  lines: string[]
  /** seq of the last line returned (afterSeq when none). */
  lastSeq: number
  /** Records between afterSeq and the first line returned are gone (deleted before they were read). */
  gapFrom?: number
}

export function seqOfLine (line: string): number {
  const m = SEQ_PREFIX.exec(line)
  if (m) return Number(m[1])
  const r = JSON.parse(line) as { seq?: unknown }
  if (!Number.isSafeInteger(r.seq)) throw new Error('audit line without a seq')
  return r.seq as number
}

export class LogReader {
  readonly #active: string
  #memo: (Position & { afterSeq: number }) | null = null

  constructor (activeFile: string) {
    this.#active = activeFile
  }

  async read (afterSeq: number, upToSeq: number, max: number): Promise<ReadBatch> {
    const out: string[] = []
    let lastSeq = afterSeq
    let files = await listAuditFiles(this.#active)
    let pos: Position = this.#memo?.afterSeq === afterSeq && this.#memo.fileFirstSeq !== null ? { ...this.#memo } : startOf(files, afterSeq)
    let gapFrom: number | undefined
    let restarts = 0
    while (out.length < max && lastSeq < upToSeq) {
      const rotated = pos.fileFirstSeq !== null && files.rotated.some((r) => r.firstSeq === pos.fileFirstSeq)
      const path = rotated ? rotatedName(this.#active, pos.fileFirstSeq as number) : this.#active
      let chunk: Buffer
      try {
        chunk = await readAt(path, pos.offset)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || restarts++ > 3) throw err
        files = await listAuditFiles(this.#active) // renamed or deleted meanwhile: find the place again
        pos = startOf(files, lastSeq)
        continue
      }
      let start = 0
      let progressed = false
      let nl: number
      while ((nl = chunk.indexOf(0x0a, start)) >= 0 && out.length < max) {
        const line = chunk.subarray(start, nl).toString('utf8')
        const seq = seqOfLine(line)
        if (pos.fileFirstSeq === null) pos.fileFirstSeq = seq
        if (seq > upToSeq) break
        pos.offset += nl - start + 1
        start = nl + 1
        progressed = true
        if (seq <= lastSeq) continue
        if (seq !== lastSeq + 1 && gapFrom === undefined) gapFrom = lastSeq + 1
        out.push(line)
        lastSeq = seq
      }
      if (progressed) continue
      if (out.length >= max || lastSeq >= upToSeq || (nl >= 0)) break
      // End of this file: go on with the next one, if this one was rotated.
      if (!rotated) break
      files = await listAuditFiles(this.#active)
      const next = files.rotated.find((r) => r.firstSeq > (pos.fileFirstSeq as number))
      pos = next ? { fileFirstSeq: next.firstSeq, offset: 0 } : { fileFirstSeq: null, offset: 0 }
    }
    this.#memo = pos.fileFirstSeq === null ? null : { ...pos, afterSeq: lastSeq }
    return gapFrom === undefined ? { lines: out, lastSeq } : { lines: out, lastSeq, gapFrom }
  }
}

/** Where the record after `afterSeq` is: the newest rotated file starting at or before it, else the oldest file. */
function startOf (files: AuditFiles, afterSeq: number): Position {
  const target = afterSeq + 1
  let pick: number | null = null
  for (const r of files.rotated) if (r.firstSeq <= target) pick = r.firstSeq
  if (pick === null && files.rotated.length > 0) pick = (files.rotated[0] as { firstSeq: number }).firstSeq
  return { fileFirstSeq: pick, offset: 0 }
}

/** Bytes from `offset`: at least one whole line when the file has one there (grows the read up to MAX_LINE). */
async function readAt (path: string, offset: number): Promise<Buffer> {
  const fh = await open(path, 'r')
  try {
    for (let size = CHUNK; ; size *= 2) {
      const buf = Buffer.alloc(size)
      const { bytesRead } = await fh.read(buf, 0, size, offset)
      const got = buf.subarray(0, bytesRead)
      if (bytesRead < size || got.indexOf(0x0a) >= 0) return got
      if (size >= MAX_LINE) throw new Error(`${path}: no line break in ${MAX_LINE} bytes at offset ${offset}`)
    }
  } finally {
    await fh.close()
  }
}
