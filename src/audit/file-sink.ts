// The file sink: an append-only JSONL file, written with one write per batch
// and made durable by an fdatasync (the writer pipelines the two), and the chain head recovered from the file's tail on
// open (reading backwards from the end, never the whole file).
//
// Torn tail: a crash (or a failed write) mid-batch can leave a last line
// without its newline. No record in it was acknowledged (append() resolves
// only after the whole batch is written and fdatasync'd), so the bytes after
// the last newline are truncated on open and reported in `OpenedFile.torn`;
// the writer then appends an `audit.torn-tail-truncated` event record with
// their length and SHA-256. A complete last line that is not a valid record
// (e.g. zero-filled blocks after a power loss) is NOT repaired: open throws
// and the gateway refuses to start until a person looks (verify-cli names it).

import fs from 'node:fs'
import path from 'node:path'
import { GENESIS_HEAD, hashLine, headFromLine } from './chain.ts'
import type { ChainHead } from './chain.ts'

/** The file operations the sink uses: real by default, injectable in tests. */
export interface AuditFileSystem {
  open (file: string, flags: string, mode?: number): Promise<number>
  /** Writes from `buf`; may write fewer bytes than asked (the sink loops). */
  write (fd: number, buf: Uint8Array): Promise<number>
  fdatasync (fd: number): Promise<void>
  fsync (fd: number): Promise<void>
  size (fd: number): Promise<number>
  read (fd: number, buf: Uint8Array, position: number): Promise<number>
  truncate (fd: number, length: number): Promise<void>
  close (fd: number): Promise<void>
}

function cb<T> (run: (done: (err: NodeJS.ErrnoException | null, v?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => run((err, v) => { if (err) reject(err); else resolve(v as T) }))
}

export const nodeFileSystem: AuditFileSystem = {
  open: (file, flags, mode) => cb<number>((done) => fs.open(file, flags, mode, done)),
  // Synchronous: a write to the page cache takes microseconds, less than a
  // thread-pool round trip, and the bytes are in the file when the call
  // returns, so the writer can start the fdatasync that covers them at once
  // (the fdatasync, which waits for the disk, stays on the thread pool).
  write: async (fd, buf) => fs.writeSync(fd, buf, 0, buf.byteLength, null),
  fdatasync: (fd) => cb<void>((done) => fs.fdatasync(fd, done)),
  fsync: (fd) => cb<void>((done) => fs.fsync(fd, done)),
  size: (fd) => cb<fs.Stats>((done) => fs.fstat(fd, done)).then((st) => st.size),
  read: (fd, buf, position) => cb<number>((done) => fs.read(fd, buf, 0, buf.byteLength, position, done)),
  truncate: (fd, length) => cb<void>((done) => fs.ftruncate(fd, length, done)),
  close: (fd) => cb<void>((done) => fs.close(fd, done))
}

export interface TornTail {
  /** Bytes removed from the end of the file. */
  bytes: number
  /** Hex SHA-256 of the removed bytes, so the note can be matched to a copy of them. */
  sha256: string
  /** File size before truncation. */
  offset: number
}

export interface OpenedFile {
  head: ChainHead
  torn?: TornTail
}

/** Tail reading stops (and open refuses) beyond this: no record is this long. */
const MAX_TAIL_BYTES = 8 * 1024 * 1024
const CHUNK = 64 * 1024
const NL = 0x0a

export interface FileSinkOptions {
  file: string
  fs?: AuditFileSystem
  /** File mode when created; the trail names people and reasons, so private by default. */
  mode?: number
}

export class FileSink {
  readonly file: string
  readonly #fs: AuditFileSystem
  readonly #mode: number
  #fd: number | null = null

  constructor (opts: FileSinkOptions) {
    this.file = opts.file
    this.#fs = opts.fs ?? nodeFileSystem
    this.#mode = opts.mode ?? 0o600
  }

  get isOpen (): boolean { return this.#fd !== null }

  /** (Re)opens the file in append mode and finds the chain head, truncating a torn tail. Throws if the last complete line is not a record. */
  async open (): Promise<OpenedFile> {
    await this.close()
    // 'a+': every write appends (O_APPEND), and pread works for the tail.
    const fd = await this.#fs.open(this.file, 'a+', this.#mode)
    try {
      const opened = await readChainHead(this.#fs, fd, this.file, true)
      await this.#syncDir()
      this.#fd = fd
      return opened
    } catch (err) {
      await this.#fs.close(fd).catch(() => {})
      throw err
    }
  }

  /** Writes all of `data` (to the page cache: durable only after sync()). */
  async write (data: Uint8Array): Promise<void> {
    const fd = this.#fd
    if (fd === null) throw new Error(`audit file ${this.file} is not open`)
    let off = 0
    while (off < data.byteLength) {
      const n = await this.#fs.write(fd, off === 0 ? data : data.subarray(off))
      if (n <= 0) throw new Error(`audit file ${this.file}: write made no progress`)
      off += n
    }
  }

  /** Makes everything written so far durable (fdatasync). */
  async sync (): Promise<void> {
    const fd = this.#fd
    if (fd === null) throw new Error(`audit file ${this.file} is not open`)
    await this.#fs.fdatasync(fd)
  }

  /** Bytes in the file now (what rotation measures). */
  async size (): Promise<number> {
    const fd = this.#fd
    if (fd === null) throw new Error(`audit file ${this.file} is not open`)
    return await this.#fs.size(fd)
  }

  async close (): Promise<void> {
    const fd = this.#fd
    this.#fd = null
    if (fd !== null) await this.#fs.close(fd).catch(() => {})
  }

  async #syncDir (): Promise<void> {
    // A newly created file survives a crash only once its directory entry is durable.
    let dfd: number | null = null
    try {
      dfd = await this.#fs.open(path.dirname(this.file), 'r')
      await this.#fs.fsync(dfd)
    } catch {
      // Some filesystems refuse fsync on directories; the file itself is still synced.
    } finally {
      if (dfd !== null) await this.#fs.close(dfd).catch(() => {})
    }
  }
}

/**
 * The chain head at the end of an open file: its last complete line's seq and
 * hash. With `repair`, a torn tail (bytes after the last newline) is truncated
 * and reported; without, a torn tail is an error (rotated files were complete
 * and synced before they were renamed).
 */
export async function readChainHead (fsx: AuditFileSystem, fd: number, file: string, repair: boolean): Promise<OpenedFile> {
  const size = await fsx.size(fd)
  if (size === 0) return { head: GENESIS_HEAD }
  // Read backwards until the buffer holds two newlines (the end of the last
  // complete line and the one before it) or the start of the file.
  let start = size
  let buf = Buffer.alloc(0)
  while (start > 0 && countNewlines(buf, 2) < 2) {
    if (size - start >= MAX_TAIL_BYTES) throw new Error(`audit file ${file}: no line break in the last ${MAX_TAIL_BYTES} bytes; not an audit log? refusing to start`)
    const len = Math.min(CHUNK, start)
    start -= len
    const chunk = Buffer.alloc(len)
    await readFully(fsx, fd, chunk, start)
    buf = buf.byteLength === 0 ? chunk : Buffer.concat([chunk, buf])
  }
  let torn: TornTail | undefined
  const lastNl = buf.lastIndexOf(NL)
  if (buf[buf.byteLength - 1] !== NL) {
    if (!repair) throw new Error(`audit file ${file}: the last line has no newline`)
    const tornBytes = buf.subarray(lastNl + 1)
    const keep = start + lastNl + 1
    torn = { bytes: tornBytes.byteLength, sha256: hashLine(tornBytes), offset: size }
    await fsx.truncate(fd, keep)
    await fsx.fsync(fd)
    if (lastNl < 0) return { head: GENESIS_HEAD, torn }
  }
  const prevNl = lastNl > 0 ? buf.lastIndexOf(NL, lastNl - 1) : -1
  const line = buf.subarray(prevNl + 1, lastNl).toString('utf8')
  try {
    return torn ? { head: headFromLine(line), torn } : { head: headFromLine(line) }
  } catch (err) {
    throw new Error(`audit file ${file}: ${(err as Error).message}; refusing to start (run kdebug-audit-verify on it)`, { cause: err })
  }
}

/** The first line of an open file (without its newline), or null when it has no complete line. */
export async function readFirstLine (fsx: AuditFileSystem, fd: number): Promise<string | null> {
  const size = await fsx.size(fd)
  let buf = Buffer.alloc(0)
  let pos = 0
  while (pos < size && pos < MAX_TAIL_BYTES) {
    const chunk = Buffer.alloc(Math.min(CHUNK, size - pos))
    await readFully(fsx, fd, chunk, pos)
    pos += chunk.byteLength
    buf = buf.byteLength === 0 ? chunk : Buffer.concat([buf, chunk])
    const nl = buf.indexOf(NL)
    if (nl >= 0) return buf.subarray(0, nl).toString('utf8')
  }
  return null
}

function countNewlines (buf: Buffer, max: number): number {
  let n = 0
  let i = buf.byteLength
  while (n < max && (i = buf.lastIndexOf(NL, i - 1)) >= 0) {
    n++
    if (i === 0) break
  }
  return n
}

async function readFully (fsx: AuditFileSystem, fd: number, buf: Buffer, position: number): Promise<void> {
  let off = 0
  while (off < buf.byteLength) {
    const n = await fsx.read(fd, buf.subarray(off), position + off)
    if (n <= 0) throw new Error('audit file shrank while reading its tail')
    off += n
  }
}
