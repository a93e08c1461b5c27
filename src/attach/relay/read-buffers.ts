// Read buffers for the upstream attach connection (net/tls `onread`): a flood's
// reads land in recycled 64 KiB buffers instead of a new ArrayBuffer per read.
// Those short-lived external buffers are what grows a relay's memory between
// collections (V8 collects them only when their wrappers are collected, and a
// relay allocates little else), and what drives its full collections under a
// flood. A connection that is not flooding reads into one small shared buffer
// and keeps a copy of what it read (the copy a read would allocate anyway), so
// an idle session holds no buffer of its own. Not thread-safe by design: reads
// and their callbacks run one at a time on the event loop, so the shared buffer
// is only ever filled for the one read being handled.

/** Node's own read size for a stream (lib/internal/stream_base_commons.js kReadBufferSize). */
export const READ_SIZE = 64 * 1024
/** A read at least this large suggests more is coming: the next one goes to a pooled buffer. */
export const LARGE_READ = 8 * 1024
/** Free buffers kept for reuse, for all connections together (4 MiB). */
const POOL_MAX = 64

const free: Buffer[] = []
const shared = Buffer.allocUnsafeSlow(16 * 1024)

/** One read into a pooled buffer: back to the pool once nothing refers to it. */
export class PooledRead {
  /** The read being handled holds one reference; each taken frame in it another until written. */
  refs = 1
  /** Some of it went where the pool cannot follow (ws kept a slice): never reused. */
  escaped = false
  readonly buf: Buffer
  constructor (buf: Buffer) { this.buf = buf }
}

/** The buffer for a connection's next read. */
export function nextReadBuffer (large: boolean): Buffer {
  return large ? (free.pop() ?? Buffer.allocUnsafeSlow(READ_SIZE)) : shared
}

/** Whether `buf` is the small shared buffer (its bytes must be copied before the read returns). */
export const isSharedReadBuffer = (buf: Buffer): boolean => buf === shared

export function release (read: PooledRead): void {
  if (--read.refs === 0 && !read.escaped && free.length < POOL_MAX) free.push(read.buf)
}

/** Free buffers held (tests). */
export const pooledReadBuffers = (): number => free.length
