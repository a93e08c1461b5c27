// Cut-through for the upstream attach connection. `ws` reassembles every
// message it reads: a frame that spans two socket reads (every 64 KiB frame
// does) is copied into a new ArrayBuffer before the relay sees it, and those
// short-lived external buffers drive full (mark-compact) collections under a
// flood. The tap sits between the TCP/TLS socket and `ws` (it is the Duplex
// ws's public `createConnection` option hands to http.request, so ws keeps the
// handshake, masking of what the gateway sends, pings, pongs and the close
// handshake) and parses the server→client frames itself (RFC 6455 §5.2):
// an output frame the sink takes (stdout/stderr toward a channel client) is
// handed over as its header and the payload slices of the reads it arrived
// in, never copied; every other byte (the handshake response, control frames,
// the error channel's Status, fragmented messages, anything malformed) goes to
// `ws` unchanged, which validates it (a protocol error closes with 1002, an
// oversized message with 1009) exactly as before.
//
// Order: a frame is only taken when every byte before it has been delivered
// to `ws` (nothing waits in this stream's readable buffer, no fragmented
// message is open, ws emits synchronously — allowSynchronousEvents, its
// client default), so taken and ws-routed frames reach the sink and the
// relay in the order the server sent them.
//
// Pausing the tap (ws.pause() → socket.pause()) pauses the socket under it,
// taken frames included: the relay's backpressure works as with plain ws.
import { Duplex } from 'node:stream'
import type { OnReadOpts, Socket } from 'node:net'
import { LARGE_READ, PooledRead, isSharedReadBuffer, nextReadBuffer, release } from './read-buffers.ts'

/** Receives the frames the tap cuts through. */
export interface FrameSink {
  /**
   * A complete, unfragmented binary frame starts: its first payload byte (the channel) and payload
   * length (≥ 2). true = deliver it to frame(); false = it goes to ws as usual.
   */
  take: (channel: number, payloadLength: number) => boolean
  /**
   * A taken frame, complete: the header exactly as received (server frames are unmasked, so it is a
   * valid server→client header as is) and the payload as slices of the socket's reads, channel byte first.
   * Call `done` once none of these bytes is needed any more (written out, or dropped): the read
   * buffers they live in are reused after that (read-buffers.ts).
   */
  frame: (header: Buffer, payload: Buffer[], channel: number, payloadLength: number, done: () => void) => void
}

/** Opens the connection under the tap; `onread` (when the connection supports it) reads into pooled buffers. */
export type OpenConnection = (extra: { onread: OnReadOpts }) => Socket

/** Bytes for ws up to this size are copied out of a pooled read (so it can be reused); larger ones keep it. */
const WS_COPY_LIMIT = 4096

const Mode = { Http: 0, Frames: 1, Passthrough: 2 } as const
type TapMode = typeof Mode[keyof typeof Mode]
const State = { Header: 0, Peek: 1, WsPayload: 2, CutPayload: 3 } as const
type ParseState = typeof State[keyof typeof State]

const OP_CONTINUATION = 0x0
const OP_TEXT = 0x1
const OP_BINARY = 0x2
const OP_CLOSE = 0x8
const OP_PONG = 0xa
const MAX_HEADER = 14
/** "\r\n\r\n" ends the response head (a 101 has no body). */
const HEAD_END = [13, 10, 13, 10]
const UPGRADE_STATUS = Buffer.from('HTTP/1.1 101 ', 'latin1')

/** What a frame header says, or undefined when it is not one this tap can follow (ws judges it). */
interface FrameHead { fin: boolean, opcode: number, length: number }

/** Header size from its first two bytes (server frames: no mask), or -1 when it is malformed for a server frame. */
function headerSize (b1: number): number {
  if ((b1 & 0x80) !== 0) return -1 // masked: a server must not mask (RFC 6455 §5.1)
  const len7 = b1 & 0x7f
  return len7 === 126 ? 4 : len7 === 127 ? 10 : 2
}

function parseHead (h: Buffer, size: number): FrameHead | undefined {
  const b0 = h[0] as number
  if ((b0 & 0x70) !== 0) return undefined // RSV bits: no extension was negotiated
  const fin = (b0 & 0x80) !== 0
  const opcode = b0 & 0x0f
  if (opcode > OP_BINARY && (opcode < OP_CLOSE || opcode > OP_PONG)) return undefined
  let length = (h[1] as number) & 0x7f
  if (size === 4) length = h.readUInt16BE(2)
  else if (size === 10) {
    const hi = h.readUInt32BE(2)
    if (hi > 0x1fffff) return undefined // beyond 2^53 - 1
    length = hi * 0x1_0000_0000 + h.readUInt32BE(6)
  }
  if (opcode >= OP_CLOSE && (!fin || length > 125)) return undefined
  return { fin, opcode, length }
}

export interface FrameTapOptions {
  /** Frames longer than this are never taken (ws refuses them with 1009). */
  maxPayload: number
}

/**
 * The Duplex ws reads and writes instead of the socket. Install a sink with `cutThrough()` once
 * somebody consumes the frames (before that, every frame goes to ws: early messages are ws's).
 */
export class FrameTap extends Duplex {
  readonly #socket: Socket
  readonly #maxPayload: number
  #sink: FrameSink | undefined
  #mode: TapMode = Mode.Http
  #headMatched = 0
  /** The first bytes of the response head, to tell a 101 from a refusal. */
  readonly #status = Buffer.alloc(UPGRADE_STATUS.length)
  #statusLen = 0
  #state: ParseState = State.Header
  readonly #hdr = Buffer.alloc(MAX_HEADER)
  #hdrLen = 0
  #hdrNeed = 2
  #head: FrameHead | undefined
  /** Payload bytes still to come of the current frame. */
  #remaining = 0
  /** A fragmented message is open on the ws side: its continuations (and everything until it ends) go there too. */
  #wsFragmented = false
  #cutParts: Buffer[] = []
  #cutHeader: Buffer | undefined
  #cutChannel = 0
  #pausedByUser = false
  #pausedByBuffer = false
  /** The pooled read being parsed (undefined: a read Node allocated, or a copy). */
  #read: PooledRead | undefined
  /** The pooled reads the frame being cut through refers to. */
  #cutReads: PooledRead[] = []
  #lastReadLarge = false

  constructor (open: OpenConnection, o: FrameTapOptions) {
    super({ allowHalfOpen: true })
    this.#maxPayload = o.maxPayload
    const socket = open({
      onread: {
        buffer: () => nextReadBuffer(this.#lastReadLarge),
        callback: (n: number, buf: Uint8Array) => { this.#onRead(n, buf as Buffer); return true }
      }
    })
    this.#socket = socket
    // Without onread support (or in tests) the reads arrive as 'data'; with it, this keeps the socket flowing so 'end' is emitted.
    socket.on('data', (chunk: Buffer) => { this.#onData(chunk) })
    socket.on('end', () => { this.push(null) })
    socket.on('error', (err) => { this.destroy(err) })
    socket.on('close', () => { if (!this.destroyed) this.destroy() })
    socket.on('timeout', () => { this.emit('timeout') })
  }

  /** From now on, frames the sink takes bypass ws. */
  cutThrough (sink: FrameSink): void {
    this.#sink = sink
  }

  // ---- what http.request and ws call on a socket ----

  setTimeout (ms: number, cb?: () => void): this {
    this.#socket.setTimeout(ms)
    if (cb) this.once('timeout', cb)
    return this
  }

  setNoDelay (noDelay?: boolean): this { this.#socket.setNoDelay(noDelay); return this }
  setKeepAlive (enable?: boolean, delay?: number): this { this.#socket.setKeepAlive(enable, delay); return this }
  ref (): this { this.#socket.ref(); return this }
  unref (): this { this.#socket.unref(); return this }

  override pause (): this {
    super.pause()
    this.#pausedByUser = true
    this.#syncSocket()
    return this
  }

  override resume (): this {
    super.resume()
    this.#pausedByUser = false
    this.#syncSocket()
    return this
  }

  #syncSocket (): void {
    if (this.#pausedByUser || this.#pausedByBuffer) this.#socket.pause()
    else this.#socket.resume()
  }

  override _read (): void {
    if (this.#pausedByBuffer) {
      this.#pausedByBuffer = false
      this.#syncSocket()
    }
  }

  override _write (chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.#socket.write(chunk, cb)
  }

  override _writev (chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    this.#socket.cork()
    for (let i = 0; i < chunks.length - 1; i++) this.#socket.write((chunks[i] as { chunk: Buffer }).chunk)
    this.#socket.write((chunks[chunks.length - 1] as { chunk: Buffer }).chunk, cb)
    this.#socket.uncork()
  }

  override _final (cb: (err?: Error | null) => void): void {
    this.#socket.end(cb)
  }

  override _destroy (err: Error | null, cb: (err?: Error | null) => void): void {
    this.#socket.destroy()
    cb(err)
  }

  #onRead (n: number, buf: Buffer): void {
    if (n <= 0) return
    this.#lastReadLarge = n >= LARGE_READ
    if (isSharedReadBuffer(buf)) { this.#onData(Buffer.from(buf.subarray(0, n))); return }
    const read = new PooledRead(buf)
    this.#read = read
    try {
      this.#onData(buf.subarray(0, n))
    } finally {
      this.#read = undefined
      release(read)
    }
  }

  /** The frame being cut through refers to the read being parsed. */
  #holdRead (): void {
    const read = this.#read
    if (read !== undefined && !this.#cutReads.includes(read)) {
      read.refs++
      this.#cutReads.push(read)
    }
  }

  // ---- toward ws ----

  #toWs (bytes: Buffer): void {
    if (bytes.length === 0 || this.destroyed) return
    const read = this.#read
    if (read !== undefined && bytes.buffer === read.buf.buffer) {
      // ws may keep what it is given (a partial frame, a message): copy small runs, let big ones keep the buffer.
      if (bytes.length <= WS_COPY_LIMIT) bytes = Buffer.from(bytes)
      else read.escaped = true
    }
    if (!this.push(bytes) && !this.#pausedByBuffer) {
      this.#pausedByBuffer = true
      this.#syncSocket()
    }
  }

  // ---- parsing ----

  #onData (chunk: Buffer): void {
    let pos = 0
    if (this.#mode === Mode.Http) {
      pos = this.#scanHead(chunk)
      if (pos < 0) { this.#toWs(chunk); return }
      this.#toWs(chunk.subarray(0, pos))
    }
    if (this.#mode === Mode.Passthrough) { this.#toWs(chunk.subarray(pos)); return }
    this.#frames(chunk, pos)
  }

  /** Index just past the response head in `chunk` (the mode is decided), or -1 if it has not ended yet. */
  #scanHead (chunk: Buffer): number {
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i] as number
      if (this.#statusLen < this.#status.length) this.#status[this.#statusLen++] = b
      this.#headMatched = b === HEAD_END[this.#headMatched] ? this.#headMatched + 1 : b === 13 ? 1 : 0
      if (this.#headMatched === 4) {
        this.#mode = this.#status.equals(UPGRADE_STATUS) ? Mode.Frames : Mode.Passthrough
        return i + 1
      }
    }
    return -1
  }

  /**
   * Walks the frames in `chunk` from `pos`. Bytes for ws are pushed as contiguous runs of the chunk
   * (`run` = where the pending run starts, -1 = none); a taken frame's slices are kept until it is complete.
   */
  #frames (chunk: Buffer, pos: number): void {
    let run = -1
    /** Where the current frame's header starts in this chunk (-1: in an earlier read). */
    let frameStart = this.#state === State.Header && this.#hdrLen === 0 ? pos : -1
    const flush = (upTo: number): void => {
      if (run >= 0 && upTo > run) this.#toWs(chunk.subarray(run, upTo))
      run = -1
    }
    /** The current frame (header complete, payload from `pos`) goes to ws. */
    const routeToWs = (head: FrameHead): void => {
      if (frameStart >= 0) {
        if (run < 0) run = frameStart
      } else {
        // Its header began in an earlier read: what was kept of it, copied (at most 14 bytes).
        flush(pos)
        this.#toWs(Buffer.from(this.#hdr.subarray(0, this.#hdrLen)))
      }
      if (head.opcode === OP_TEXT || head.opcode === OP_BINARY) this.#wsFragmented = !head.fin
      else if (head.opcode === OP_CONTINUATION && head.fin) this.#wsFragmented = false
      if (this.#remaining === 0) this.#nextFrame()
      else this.#state = State.WsPayload
    }
    while (pos < chunk.length && !this.destroyed) {
      if (this.#mode === Mode.Passthrough) {
        if (run < 0) run = pos
        pos = chunk.length
        break
      }
      switch (this.#state) {
        case State.Header: {
          if (this.#hdrLen === 0) frameStart = pos
          while (this.#hdrLen < this.#hdrNeed && pos < chunk.length) {
            this.#hdr[this.#hdrLen++] = chunk[pos++] as number
            if (this.#hdrLen === 2) {
              const size = headerSize(this.#hdr[1] as number)
              if (size < 0) { this.#fail(chunk, frameStart, pos, run); return }
              this.#hdrNeed = size
            }
          }
          if (this.#hdrLen < this.#hdrNeed) break
          const head = parseHead(this.#hdr, this.#hdrNeed)
          if (head === undefined) { this.#fail(chunk, frameStart, pos, run); return }
          this.#head = head
          this.#remaining = head.length
          const candidate = this.#sink !== undefined && head.opcode === OP_BINARY && head.fin && !this.#wsFragmented &&
            head.length >= 2 && head.length <= this.#maxPayload
          // Only a candidate waits for its first payload byte (the channel); anything else goes on at once.
          if (candidate) this.#state = State.Peek
          else routeToWs(head)
          break
        }
        case State.Peek: {
          const head = this.#head as FrameHead
          // Everything before this frame reaches ws (and the relay) first: the sink's answer depends on it.
          flush(frameStart >= 0 ? frameStart : pos)
          const channel = chunk[pos] as number
          if (this.readableLength === 0 && !this.destroyed && (this.#sink as FrameSink).take(channel, head.length)) {
            if (frameStart >= 0) {
              this.#cutHeader = chunk.subarray(frameStart, pos)
              this.#holdRead()
            } else {
              this.#cutHeader = Buffer.from(this.#hdr.subarray(0, this.#hdrLen))
            }
            this.#cutChannel = channel
            this.#cutParts = []
            this.#state = State.CutPayload
          } else {
            routeToWs(head)
          }
          break
        }
        case State.WsPayload: {
          const n = Math.min(this.#remaining, chunk.length - pos)
          if (run < 0) run = pos
          pos += n
          this.#remaining -= n
          if (this.#remaining === 0) this.#nextFrame()
          break
        }
        case State.CutPayload: {
          const n = Math.min(this.#remaining, chunk.length - pos)
          this.#cutParts.push(chunk.subarray(pos, pos + n))
          this.#holdRead()
          pos += n
          this.#remaining -= n
          if (this.#remaining === 0) {
            const length = (this.#head as FrameHead).length
            const header = this.#cutHeader as Buffer
            const parts = this.#cutParts
            const held = this.#cutReads
            this.#cutParts = []
            this.#cutReads = []
            this.#cutHeader = undefined
            this.#nextFrame()
            let released = false
            ;(this.#sink as FrameSink).frame(header, parts, this.#cutChannel, length, () => {
              if (released) return
              released = true
              for (const r of held) release(r)
            })
          }
          break
        }
      }
      if (this.#state === State.Header && this.#hdrLen === 0) frameStart = pos
    }
    // A header still being read (or waiting for its channel byte) is kept in #hdr, not sent on yet.
    const pending = (this.#state === State.Header && this.#hdrLen > 0) || this.#state === State.Peek
    flush(pending && frameStart >= 0 ? frameStart : pos)
  }

  #nextFrame (): void {
    this.#state = State.Header
    this.#hdrLen = 0
    this.#hdrNeed = 2
    this.#head = undefined
  }

  /**
   * Not a frame this tap can follow: from here on every byte goes to ws unparsed, whose receiver
   * fails the connection (1002, or 1009 for an impossible length) as it always did.
   */
  #fail (chunk: Buffer, frameStart: number, pos: number, run: number): void {
    this.#mode = Mode.Passthrough
    if (run >= 0) this.#toWs(chunk.subarray(run, frameStart >= 0 ? frameStart : pos))
    if (frameStart >= 0) this.#toWs(chunk.subarray(frameStart))
    else {
      this.#toWs(Buffer.from(this.#hdr.subarray(0, this.#hdrLen)))
      this.#toWs(chunk.subarray(pos))
    }
  }
}
