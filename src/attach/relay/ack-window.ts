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
// upstream while `open` is false. Pure: the caller sends the pings.

/** Marks this module's pings, so pongs to other pings (keepalive, the client's own) are ignored. */
const PREFIX = 'kw'

export interface AckWindowOptions {
  /** Most unacknowledged bytes toward the peer. */
  windowBytes: number
  /** Ping after this many bytes since the last window ping (< windowBytes, so a pong always reopens the window). */
  ackEveryBytes: number
  /** Sends a ping with this payload. */
  ping: (payload: Buffer) => void
}

export class AckWindow {
  readonly #o: AckWindowOptions
  #sent = 0
  #acked = 0
  #pingedAt = 0
  #seq = 0
  /** Outstanding pings, oldest first: [sequence, bytes sent when it went out]. */
  readonly #outstanding: Array<[number, number]> = []

  constructor (opts: AckWindowOptions) {
    if (!(opts.ackEveryBytes > 0 && opts.ackEveryBytes < opts.windowBytes)) throw new RangeError('ackEveryBytes must be positive and below windowBytes')
    this.#o = opts
  }

  /** Bytes sent but not yet acknowledged. */
  get unacked (): number { return this.#sent - this.#acked }

  /** Whether more may be sent. */
  get open (): boolean { return this.unacked < this.#o.windowBytes }

  /** Call after sending `n` bytes toward the peer; pings when an acknowledgement is due. */
  sent (n: number): void {
    this.#sent += n
    if (this.#sent - this.#pingedAt < this.#o.ackEveryBytes) return
    this.#pingedAt = this.#sent
    const seq = ++this.#seq
    this.#outstanding.push([seq, this.#sent])
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
    return true
  }
}
