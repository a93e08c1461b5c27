// An application-level send window toward a WebSocket peer, acknowledged by
// pongs. Bytes handed to the kernel are invisible to bufferedAmount, and on a
// loopback or LAN socket the send and receive buffers hold megabytes: a relay
// that only watches bufferedAmount keeps several seconds of output in flight
// toward a slow reader, and every control frame (a pong, a close) waits behind
// it. A pong, in contrast, proves the peer has read everything sent before
// its ping (RFC 6455 §5.5.2–5.5.3: frames arrive in order, and a peer answers
// every ping, or at least the most recent one, with its payload). So the
// window pings after every `ackEveryBytes` sent, and counts as unacknowledged
// what was sent after the newest answered ping; the relay stops reading the
// upstream while `open` is false.
//
// A fixed window caps throughput at window ÷ round trip, and a busy reader's
// round trip (its pong waits until it has read up to the ping) is milliseconds:
// 512 KiB per 10 ms is 50 MB/s. So the window is sized like TCP's
// bandwidth-delay product: the rate the peer acknowledged (over at least
// `sampleMs`) times `targetDelayMs`, between `windowBytes` and `maxWindowBytes`. A reader that
// keeps up gets a window that never holds it back (while the window limits the
// rate, the measured rate × targetDelayMs exceeds the window, so it grows); a
// slow reader's window stays at `windowBytes`, so what queues ahead of its
// control frames stays about targetDelayMs of its own reading (or windowBytes).
// Pure: the caller sends the pings and supplies the clock.

/** Marks this module's pings, so pongs to other pings (keepalive, the client's own) are ignored. */
const PREFIX = 'kw'

export interface AckWindowOptions {
  /** Most unacknowledged bytes toward the peer (the smallest window when it adapts). */
  windowBytes: number
  /** Ping after this many bytes since the last window ping (< windowBytes, so a pong always reopens the window). */
  ackEveryBytes: number
  /** Sends a ping with this payload. */
  ping: (payload: Buffer) => void
  /** Adapt: the window becomes what the peer acknowledges in this long (0 or absent = a fixed window). */
  targetDelayMs?: number
  /** The acknowledged rate is measured over at least this long (default targetDelayMs). */
  sampleMs?: number
  /** The largest adapted window (default windowBytes). */
  maxWindowBytes?: number
  /** Milliseconds clock (default Date.now). */
  now?: () => number
}

export class AckWindow {
  readonly #o: AckWindowOptions
  readonly #now: () => number
  readonly #max: number
  #window: number
  #sent = 0
  #acked = 0
  #pingedAt = 0
  #seq = 0
  /** Start of the current rate sample: [time, bytes acknowledged then]. */
  #sampleAt = -1
  #sampleAcked = 0
  /** Outstanding pings, oldest first: [sequence, bytes sent when it went out]. */
  readonly #outstanding: Array<[number, number]> = []

  constructor (opts: AckWindowOptions) {
    if (!(opts.ackEveryBytes > 0 && opts.ackEveryBytes < opts.windowBytes)) throw new RangeError('ackEveryBytes must be positive and below windowBytes')
    if (opts.maxWindowBytes !== undefined && opts.maxWindowBytes < opts.windowBytes) throw new RangeError('maxWindowBytes must not be below windowBytes')
    this.#o = opts
    this.#now = opts.now ?? Date.now
    this.#window = opts.windowBytes
    this.#max = opts.maxWindowBytes ?? opts.windowBytes
  }

  /** Bytes sent but not yet acknowledged. */
  get unacked (): number { return this.#sent - this.#acked }

  /** The current window. */
  get size (): number { return this.#window }

  /** Whether more may be sent. */
  get open (): boolean { return this.unacked < this.#window }

  /** Call after sending `n` bytes toward the peer; pings when an acknowledgement is due. */
  sent (n: number): void {
    this.#sent += n
    if (this.#sent - this.#pingedAt < this.#o.ackEveryBytes) return
    this.#pingedAt = this.#sent
    const seq = ++this.#seq
    this.#outstanding.push([seq, this.#sent])
    if (this.#sampleAt < 0) this.#startSample()
    this.#o.ping(Buffer.from(`${PREFIX}${seq}`, 'latin1'))
  }

  /** Call with every pong's payload; returns true when it was one of ours (and moved the window). */
  pong (payload: Buffer): boolean {
    if (payload.length < PREFIX.length + 1 || payload.length > 24 || payload.toString('latin1', 0, PREFIX.length) !== PREFIX) return false
    const seq = Number(payload.toString('latin1', PREFIX.length))
    if (!Number.isSafeInteger(seq)) return false
    // A pong answers its ping and, per RFC 6455 §5.5.3, may stand for the older ones too.
    let acked: number | undefined
    while (this.#outstanding.length > 0 && (this.#outstanding[0] as [number, number])[0] <= seq) acked = (this.#outstanding.shift() as [number, number])[1]
    if (acked === undefined) return false
    this.#acked = Math.max(this.#acked, acked)
    this.#adapt()
    return true
  }

  #startSample (): void {
    this.#sampleAt = this.#now()
    this.#sampleAcked = this.#acked
  }

  #adapt (): void {
    const target = this.#o.targetDelayMs ?? 0
    if (target <= 0 || this.#max === this.#o.windowBytes) return
    // Measured over a span of several of a paced reader's bursts: such a reader (a terminal, a
    // client reading at a fixed rate) answers several pings at once, and a short span would take
    // one burst for its rate.
    const elapsed = this.#now() - this.#sampleAt
    if (elapsed < (this.#o.sampleMs ?? target)) return
    const perMs = (this.#acked - this.#sampleAcked) / elapsed
    this.#window = Math.min(this.#max, Math.max(this.#o.windowBytes, Math.round(perMs * target)))
    // Nothing outstanding: the next sample starts with the next ping, so idle time is not counted as a slow reader.
    if (this.#outstanding.length > 0) this.#startSample()
    else this.#sampleAt = -1
  }
}
