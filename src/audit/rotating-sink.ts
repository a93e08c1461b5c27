// The file sink with rotation and retention. Rotation follows lumberjack (what
// kube-apiserver's --audit-log-maxsize/-maxage/-maxbackup use): the active
// file is renamed aside once it is big or old enough and a new one is opened;
// here the rename happens between two batches, so a file ends on a complete,
// synced record, and the next file's first record chains to it (seq and
// prevHash continue — the verifier checks the files as one chain).
//
// Retention keeps `maxFiles` rotated files. A file is deleted only when every
// forwarder acknowledged its last seq; when the oldest is still unacknowledged
// and the active file is full, the budget (maxBytes × (maxFiles + 1)) is
// reached: `budgetBlocked()` says why and the writer refuses records (503) —
// fail closed, never a silent drop. The writer notes each deletion in the
// chain (`audit.retention`) BEFORE the file is removed, so a verifier can tell
// files removed by retention from files removed by hand.
//
// Crash safety: rename is atomic and the directory is fsync'd. A crash after
// the rename but before the new file exists leaves no active file: open()
// then resumes the chain from the newest rotated file's last record.
import path from 'node:path'
import { headFromLine } from './chain.ts'
import { FileSink, nodeFileSystem, readChainHead, readFirstLine } from './file-sink.ts'
import type { AuditFileSystem, OpenedFile } from './file-sink.ts'
import { listAuditFiles, rotatedName } from './files.ts'
import type { AuditRotationConfig } from './config-schema.ts'
import { unlink, rename } from 'node:fs/promises'

/** A rotated file that retention removes, as the chain notes it. */
export interface RetiredFile {
  file: string
  firstSeq: number
  lastSeq: number
  /** Hash of its last line (the next file's first prevHash). */
  lastHash: string
}

export interface RotatingFileSinkOptions {
  file: string
  rotation: AuditRotationConfig
  fs?: AuditFileSystem
  /** The lowest seq every forwarder has acknowledged (Infinity without forwarders). */
  acknowledgedSeq?: () => number
}

export class RotatingFileSink {
  readonly file: string
  readonly #sink: FileSink
  readonly #fs: AuditFileSystem
  readonly #maxBytes: number
  readonly #maxAgeMs: number
  readonly #maxFiles: number
  readonly #acknowledged: () => number
  #size = 0
  #firstSeq: number | null = null
  #firstTimeMs: number | null = null
  /** First seqs of the rotated files, oldest first. */
  #rotated: number[] = []

  constructor (opts: RotatingFileSinkOptions) {
    this.file = opts.file
    this.#fs = opts.fs ?? nodeFileSystem
    this.#sink = new FileSink(opts.fs ? { file: opts.file, fs: opts.fs } : { file: opts.file })
    this.#maxBytes = opts.rotation.maxBytes
    this.#maxAgeMs = opts.rotation.maxAgeHours * 3_600_000
    this.#maxFiles = opts.rotation.maxFiles
    this.#acknowledged = opts.acknowledgedSeq ?? (() => Infinity)
  }

  async open (): Promise<OpenedFile> {
    this.#rotated = (await listAuditFiles(this.file)).rotated.map((r) => r.firstSeq)
    const opened = await this.#sink.open()
    this.#size = await this.#sink.size()
    this.#firstSeq = null
    this.#firstTimeMs = null
    if (this.#size > 0) {
      const first = await this.#readFirst(this.file)
      if (first) this.#learnFirst(first)
    }
    if (opened.head.seq === 0 && this.#rotated.length > 0) {
      // The active file holds no record yet: the chain continues from the newest rotated file.
      const newest = rotatedName(this.file, this.#rotated.at(-1) as number)
      const fd = await this.#fs.open(newest, 'r')
      try {
        const tail = await readChainHead(this.#fs, fd, newest, false)
        return opened.torn ? { head: tail.head, torn: opened.torn } : { head: tail.head }
      } finally {
        await this.#fs.close(fd).catch(() => {})
      }
    }
    return opened
  }

  async write (data: Uint8Array): Promise<void> {
    await this.#sink.write(data)
    if (this.#firstSeq === null) {
      const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
      const nl = buf.indexOf(0x0a)
      this.#learnFirst(buf.subarray(0, nl < 0 ? buf.byteLength : nl).toString('utf8'))
    }
    this.#size += data.byteLength
  }

  async sync (): Promise<void> {
    await this.#sink.sync()
  }

  async close (): Promise<void> {
    await this.#sink.close()
  }

  /** The active file is big or old enough to be rotated before the next batch. */
  shouldRotate (nowMs: number): boolean {
    if (this.#size === 0) return false
    if (this.#size >= this.#maxBytes) return true
    return this.#maxAgeMs > 0 && this.#firstTimeMs !== null && nowMs - this.#firstTimeMs >= this.#maxAgeMs
  }

  /** Why no record may be written now (the budget is reached), or null. */
  budgetBlocked (nowMs: number): string | null {
    if (!this.shouldRotate(nowMs)) return null
    const waiting = this.#unacknowledgedExcess()
    if (waiting === null) return null
    return `the audit disk budget is reached (audit.rotation.maxFiles=${this.#maxFiles} rotated files of up to audit.rotation.maxBytes=${this.#maxBytes} bytes): ` +
      `the oldest file ends at seq ${waiting.lastSeq}, and a forwarder has acknowledged only up to seq ${this.#ackText()}; it cannot be deleted until the forwarder catches up`
  }

  /**
   * Renames the active file aside and opens a new one. Returns the rotated
   * files retention will remove (note them in the chain, then call retire()).
   * Throws when the budget does not allow it (check budgetBlocked first).
   */
  async rotate (): Promise<RetiredFile[]> {
    if (this.#firstSeq === null) throw new Error('audit log: nothing to rotate')
    if (this.#unacknowledgedExcess() !== null) throw new Error('audit log: rotation would exceed the disk budget')
    const firstSeq = this.#firstSeq
    await this.#sink.close()
    await rename(this.file, rotatedName(this.file, firstSeq))
    this.#rotated.push(firstSeq)
    this.#size = 0
    this.#firstSeq = null
    this.#firstTimeMs = null
    await this.#sink.open() // creates the new active file and syncs the directory (which also makes the rename durable)
    return await this.#retirements()
  }

  /** Deletes files noted by rotate() (after their `audit.retention` records are durable). */
  async retire (files: RetiredFile[]): Promise<void> {
    for (const f of files) {
      await unlink(f.file).catch((err: NodeJS.ErrnoException) => { if (err.code !== 'ENOENT') throw err })
      this.#rotated = this.#rotated.filter((s) => s !== f.firstSeq)
    }
  }

  /** Rotated files on disk (for metrics). */
  rotatedFiles (): number {
    return this.#rotated.length
  }

  #ackText (): string {
    const a = this.#acknowledged()
    return Number.isFinite(a) ? String(a) : 'none'
  }

  /** The oldest file that must go for one more rotation but is not acknowledged yet, or null. */
  #unacknowledgedExcess (): { lastSeq: number } | null {
    const excess = this.#rotated.length + 1 - this.#maxFiles
    const acked = this.#acknowledged()
    for (let i = 0; i < excess; i++) {
      const lastSeq = this.#lastSeqOf(i)
      if (lastSeq > acked) return { lastSeq }
    }
    return null
  }

  /** Last seq of rotated file i: the next file's first seq − 1 (the active file's when i is the newest). */
  #lastSeqOf (i: number): number {
    const next = this.#rotated[i + 1] ?? this.#firstSeq ?? Infinity
    return next - 1
  }

  async #retirements (): Promise<RetiredFile[]> {
    const excess = this.#rotated.length - this.#maxFiles
    const out: RetiredFile[] = []
    for (let i = 0; i < excess; i++) {
      const firstSeq = this.#rotated[i] as number
      const nextSeq = this.#rotated[i + 1] as number // the just-rotated file is always after the excess ones
      const nextFirst = await this.#readFirst(rotatedName(this.file, nextSeq))
      if (nextFirst === null) break
      const { prevHash } = JSON.parse(nextFirst) as { prevHash: string }
      out.push({ file: rotatedName(this.file, firstSeq), firstSeq, lastSeq: nextSeq - 1, lastHash: prevHash })
    }
    return out
  }

  #learnFirst (line: string): void {
    try {
      this.#firstSeq = headFromLine(line).seq
      const { time } = JSON.parse(line) as { time?: unknown }
      const ms = typeof time === 'string' ? Date.parse(time) : NaN
      this.#firstTimeMs = Number.isFinite(ms) ? ms : null
    } catch {
      this.#firstSeq = null
    }
  }

  async #readFirst (file: string): Promise<string | null> {
    const fd = await this.#fs.open(file, 'r')
    try {
      return await readFirstLine(this.#fs, fd)
    } finally {
      await this.#fs.close(fd).catch(() => {})
    }
  }
}

export function describeRetired (f: RetiredFile): Record<string, unknown> {
  return { file: path.basename(f.file), firstSeq: f.firstSeq, lastSeq: f.lastSeq, lastHash: f.lastHash }
}
