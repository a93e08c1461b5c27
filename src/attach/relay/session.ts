// One attach session: the client's WebSocket and the upstream attach
// WebSocket, joined. The codec (codec.ts) decides what each message means for
// the client's protocol; this class owns the I/O: backpressure (a side stops
// being read while the other side's send queue is above the high-water mark,
// all in toClient/toUpstream and their flush callbacks), fairness (yield after
// a byte budget), keepalive pings, idle and duration limits, and the close
// handshake of both sides. Protocols and close codes: openapi/attach.md.
import type { Writable } from 'node:stream'
import type { WebSocket, RawData } from 'ws'
import type { KubeStatus } from '../../kube/errors.ts'
import type { EarlyMessage } from '../../kube/transport.ts'
import { KDEBUG_PROTOCOL, type ChannelProtocol, type ClientProtocol } from '../protocols.ts'
import type { Recorder } from '../recording.ts'
import { Channel, exitCodeOf, resizeFrame } from './channel.ts'
import type { ClientCodec, ClientMessage } from './codec.ts'
import { ChannelCodec } from './channel-codec.ts'
import { KdebugCodec } from './kdebug-codec.ts'
import { CloseCode } from './close-codes.ts'
import { AckWindow } from './ack-window.ts'
import type { FrameSink, FrameTap } from './frame-tap.ts'
import { realTimers, type RelayTimers, type TimerHandle } from './timers.ts'

export interface RelayOptions {
  client: WebSocket
  upstream: WebSocket
  /**
   * The client's connection under `client` (the upgraded socket): frames of one upstream read are
   * corked into one write, and cut-through output is written to it.
   */
  clientConnection?: Pick<Writable, 'cork' | 'uncork' | 'write'>
  /** The frame tap under `upstream` (frame-tap.ts): with a channel client, output bypasses ws's reassembly. */
  upstreamTap?: FrameTap
  clientProtocol: ClientProtocol
  upstreamProtocol: ChannelProtocol
  /** Upstream messages that arrived before the relay started. */
  early?: EarlyMessage[]
  /** kdebug.v1: stderr as `{"type":"stderr"}` text frames instead of binary. */
  stderrAsText?: boolean
  tty: boolean
  initialSize?: { cols: number, rows: number }
  pingIntervalMs: number
  /** 0 = none. */
  idleTimeoutMs: number
  /** 0 = none. */
  maxDurationMs: number
  /** Close code and reason when maxDurationMs ends the session (default 4000, "maximum session duration reached"). */
  maxDurationClose?: { code: number, reason: string }
  highWaterMark: number
  /** Most output bytes toward the client not yet acknowledged by a pong (ack-window.ts); 0 = no window. */
  sendWindow?: number
  fairnessBudget: number
  recorder?: Recorder
  /** The container's exit code after a Success status (attach reports no exit code), undefined if it still runs. */
  resolveExitCode?: () => Promise<number | undefined>
  /** Byte counts since the last call, for metrics. */
  onBytes?: (stdinBytes: number, outputBytes: number) => void
  onWarning?: (msg: string) => void
  /** Time and timers (default: the real ones). */
  timers?: RelayTimers
}

export interface SessionEnd {
  /** Close code sent to (or received from) the client. */
  closeCode: number
  closeReason: string
  /** Who ended the session. */
  endedBy: 'client' | 'upstream' | 'gateway'
  exitCode?: number
  /** The session ended with a Success status while the container keeps running (stdin closed, detach). */
  detached?: boolean
  /** A failure Status from the error channel, or a transport failure. */
  error?: { status: number, message: string, reason?: string }
  bytesIn: number
  bytesOut: number
  durationMs: number
}

export interface RelayStats {
  bytesIn: number
  bytesOut: number
  clientBuffered: number
  upstreamBuffered: number
  upstreamPaused: boolean
  clientPaused: boolean
  /** Times the session yielded after its byte budget (fairness). */
  yields: number
}

function toBuffer (raw: RawData): Buffer {
  if (Buffer.isBuffer(raw)) return raw
  if (Array.isArray(raw)) return Buffer.concat(raw)
  return Buffer.from(raw)
}

export function codecFor (o: Pick<RelayOptions, 'clientProtocol' | 'upstreamProtocol' | 'stderrAsText'>): ClientCodec {
  const opts = { upstreamProtocol: o.upstreamProtocol, ...(o.stderrAsText !== undefined ? { stderrAsText: o.stderrAsText } : {}) }
  return o.clientProtocol === KDEBUG_PROTOCOL ? new KdebugCodec(opts) : new ChannelCodec(opts)
}

const FORCE_CLOSE_MS = 2000
/**
 * The send window grows to what the client acknowledges in this long (ack-window.ts), so a reader that
 * keeps up is never held back by its round trip, while a slow one queues about this much reading ahead
 * of its pongs and the close (or the configured window, whichever is more).
 */
const SEND_WINDOW_TARGET_MS = 250
/**
 * The acknowledged rate is measured over at least this long: a few of a paced reader's bursts, so one
 * burst is not taken for its rate, yet short enough that a fast reader's window opens early in a flood.
 */
const SEND_WINDOW_SAMPLE_MS = 100
/** …up to this multiple of the configured window: the bound after a fast reader suddenly slows down. */
const SEND_WINDOW_MAX_FACTOR = 16
const MAX_STATUS_CHARS = 64 * 1024

type EndState = Omit<SessionEnd, 'bytesIn' | 'bytesOut' | 'durationMs'>

export class RelaySession {
  readonly done: Promise<SessionEnd>
  readonly #o: RelayOptions
  readonly #client: WebSocket
  readonly #up: WebSocket
  readonly #codec: ClientCodec
  readonly #t: RelayTimers
  readonly #started: number
  readonly #lowWater: number
  #resolve!: (end: SessionEnd) => void
  #bytesIn = 0
  #bytesOut = 0
  #reportedIn = 0
  #reportedOut = 0
  #statusText = ''
  #lastActivity: number
  #budget = 0
  #yields = 0
  #corked = false
  #upPausedBp = false
  #upPausedYield = false
  /** The upstream is paused because the client has not acknowledged enough of its output. */
  #upPausedWindow = false
  readonly #window: AckWindow | undefined
  #clientPausedBp = false
  #clientAwaitPong = false
  /** Output toward the client was still flowing when the last ping went out (its pong may queue behind it). */
  #clientPingBehindOutput = false
  /** Input toward the upstream was flowing when the last ping went out (likewise). */
  #upPingBehindInput = false
  #bytesOutAtPing = 0
  #bytesInAtPing = 0
  #upAwaitPong = false
  #ending = false
  #clientClosed = false
  #upClosed = false
  #pendingLookup = false
  #end: EndState | undefined
  #timers: TimerHandle[] = []
  #idleTimer: TimerHandle | undefined

  constructor (opts: RelayOptions) {
    this.#o = opts
    this.#client = opts.client
    this.#up = opts.upstream
    this.#codec = codecFor(opts)
    this.#t = opts.timers ?? realTimers
    this.#started = this.#t.now()
    this.#lastActivity = this.#started
    this.#lowWater = Math.floor(opts.highWaterMark / 4)
    const windowBytes = opts.sendWindow ?? 0
    this.#window = windowBytes > 0
      ? new AckWindow({
        windowBytes,
        ackEveryBytes: Math.max(1, Math.floor(windowBytes / 4)),
        targetDelayMs: SEND_WINDOW_TARGET_MS,
        sampleMs: SEND_WINDOW_SAMPLE_MS,
        maxWindowBytes: windowBytes * SEND_WINDOW_MAX_FACTOR,
        now: () => this.#t.now(),
        ping: (payload) => { this.#client.ping(payload) }
      })
      : undefined
    this.done = new Promise(resolve => { this.#resolve = resolve })
  }

  /** Installs the handlers (call synchronously in the WebSocket handler, or early messages are lost). */
  start (): void {
    const c = this.#client
    const u = this.#up
    c.on('message', (raw, isBinary) => this.#guard(() => this.#fromClient(toBuffer(raw), isBinary)))
    u.on('message', (raw, isBinary) => this.#guard(() => this.#fromUpstream(toBuffer(raw), isBinary)))
    c.on('close', (code, reason) => this.#guard(() => this.#clientClosedEvent(code, reason.toString())))
    u.on('close', (code, reason) => this.#guard(() => this.#upstreamClosedEvent(code, reason.toString())))
    c.on('error', () => {}) // a close event follows
    u.on('error', (err) => { this.#o.onWarning?.(`upstream socket error: ${err.message}`) })
    c.on('pong', (data) => {
      this.#clientAwaitPong = false
      if (this.#window?.pong(data) === true && this.#upPausedWindow && this.#window.open) {
        this.#upPausedWindow = false
        this.#maybeResumeUpstream()
      }
    })
    u.on('pong', () => { this.#upAwaitPong = false })

    this.#tell(this.#codec.ready())
    for (const m of this.#o.early ?? []) this.#guard(() => this.#fromUpstream(m.data, m.isBinary))
    if (this.#o.initialSize && this.#o.tty) this.#resize(this.#o.initialSize.cols, this.#o.initialSize.rows)
    if (this.#cutThroughPossible()) this.#o.upstreamTap?.cutThrough(this.#sink)
    u.resume()

    this.#timers.push(this.#t.setInterval(() => this.#guard(() => this.#pingTick()), this.#o.pingIntervalMs))
    if (this.#o.maxDurationMs > 0) {
      const end = this.#o.maxDurationClose ?? { code: CloseCode.maxDuration, reason: 'maximum session duration reached' }
      this.#timers.push(this.#t.setTimeout(() => this.close(end.code, end.reason), this.#o.maxDurationMs))
    }
    if (this.#o.idleTimeoutMs > 0) this.#armIdle(this.#o.idleTimeoutMs)
    // Either side may have gone while the upgrade was under way: its close event is already past.
    if (u.readyState === u.CLOSED) this.#guard(() => this.#upstreamClosedEvent(1006, ''))
    if (c.readyState === c.CLOSED) this.#guard(() => this.#clientClosedEvent(1006, ''))
  }

  stats (): RelayStats {
    return {
      bytesIn: this.#bytesIn,
      bytesOut: this.#bytesOut,
      clientBuffered: this.#client.bufferedAmount,
      upstreamBuffered: this.#up.bufferedAmount,
      upstreamPaused: this.#up.isPaused,
      clientPaused: this.#client.isPaused,
      yields: this.#yields
    }
  }

  /** Gateway-initiated end (shutdown 1001, limits 4xxx): closes both sides. */
  close (code: number, reason: string): void {
    if (this.#ending) return
    this.#finish({ closeCode: code, closeReason: reason, endedBy: 'gateway' })
    this.#tell(this.#codec.closing(code, reason))
    this.#closeClient(code, reason)
    this.#closeUpstream()
  }

  // Errors inside ws event handlers reach no handler: contain them here.
  #guard (fn: () => void): void {
    try {
      fn()
    } catch (err) {
      this.#o.onWarning?.(`attach relay: ${(err as Error).message}`)
      if (!this.#ending) {
        this.#finish({ closeCode: CloseCode.upstreamError, closeReason: 'gateway relay error', endedBy: 'gateway', error: { status: 500, message: 'gateway relay error' } })
        this.#closeClient(CloseCode.upstreamError, 'gateway relay error')
        this.#closeUpstream()
      }
    }
  }

  // ---- upstream → client ----

  #fromUpstream (data: Buffer, isBinary: boolean): void {
    if (!isBinary || data.length < 2) return // the empty readiness frame, or text (base64 protocols are never offered)
    const ch = data[0] as number
    if (ch === Channel.error) {
      // One small Status is expected; never keep more than a bounded amount.
      if (this.#statusText.length < MAX_STATUS_CHARS) this.#statusText += data.subarray(1).toString('utf8').slice(0, MAX_STATUS_CHARS)
      this.#tell(this.#codec.status(data))
      return
    }
    if (ch !== Channel.stdout && ch !== Channel.stderr) return
    const payload = data.subarray(1)
    this.#bytesOut += payload.length
    this.#lastActivity = this.#t.now()
    this.#o.recorder?.output(payload)
    if (this.#ending && this.#clientClosed) return
    this.#tell(this.#codec.output(ch, data, payload))
    this.#afterUpstreamRead(data.length)
  }

  // ---- cut-through (frame-tap.ts) ----
  //
  // A channel client gets the upstream's output frames unchanged (ChannelCodec.output), so a taken
  // frame is written to the client's connection as it came: its header, then the payload slices.
  // Ordering with ws's own writes on that connection (sends, pings, the automatic pong, the close
  // frame): without permessage-deflate ws's Sender never queues a Buffer or string, it writes each
  // frame to the socket within the call (ws lib/sender.js sendFrame, state DEFAULT); and a taken
  // frame is written whole within one call too, once all of it has arrived. So no ws write can land
  // inside a taken frame, and the socket's queue keeps every frame in the order it was written. A
  // frame still arriving when ws starts its close handshake (readyState leaves OPEN) is dropped,
  // as the ws path drops output after the close: nothing follows a close frame.

  #cutThroughPossible (): boolean {
    // deflate on the client leg means frames must be recompressed, and ws's Sender then queues.
    return this.#o.upstreamTap !== undefined && this.#o.clientConnection !== undefined &&
      this.#o.clientProtocol !== KDEBUG_PROTOCOL && this.#client.extensions === ''
  }

  readonly #sink: FrameSink = {
    // Output is taken while the session ends too: what arrives after the client left is counted and
    // dropped here (#cutFrame), without ws reassembling a flood only to discard it.
    take: (channel) => channel === Channel.stdout || channel === Channel.stderr,
    frame: (header, payload, _channel, length, done) => {
      const handed = { off: false }
      try {
        this.#guard(() => this.#cutFrame(header, payload, length, done, handed))
      } finally {
        // Not handed to the connection (dropped, or failed before): the read buffers are free now.
        if (!handed.off) done()
      }
    }
  }

  #cutFrame (header: Buffer, payload: Buffer[], length: number, done: () => void, handed: { off: boolean }): void {
    this.#bytesOut += length - 1
    this.#lastActivity = this.#t.now()
    const recorder = this.#o.recorder
    if (recorder) {
      recorder.output((payload[0] as Buffer).subarray(1))
      for (let i = 1; i < payload.length; i++) recorder.output(payload[i] as Buffer)
    }
    if ((this.#ending && this.#clientClosed) || this.#client.readyState !== this.#client.OPEN) return
    const conn = this.#o.clientConnection as Pick<Writable, 'cork' | 'uncork' | 'write'>
    this.#corkClient()
    handed.off = true
    conn.write(header)
    const last = payload.length - 1
    for (let i = 0; i < last; i++) conn.write(payload[i] as Buffer)
    // The callback runs once the bytes are written, or with an error when the connection is destroyed first.
    conn.write(payload[last] as Buffer, () => { done(); this.#onClientFlushed() })
    this.#window?.sent(length)
    this.#afterUpstreamRead(length)
  }

  #tell (m: ClientMessage | undefined): void {
    if (m !== undefined) this.#toClient(m.data, m.binary)
  }

  /** Coalesces every frame of one upstream read into one writev (one syscall per frame otherwise). */
  #corkClient (): void {
    const conn = this.#o.clientConnection
    if (this.#corked || conn === undefined) return
    conn.cork()
    this.#corked = true
    process.nextTick(() => { this.#corked = false; conn.uncork() })
  }

  #toClient (data: Buffer | string, binary: boolean): void {
    if (this.#client.readyState !== this.#client.OPEN) return
    this.#corkClient()
    this.#client.send(data, { binary }, this.#onClientFlushed)
    this.#window?.sent(data.length)
  }

  #afterUpstreamRead (n: number): void {
    if (!this.#upPausedBp && this.#client.bufferedAmount > this.#o.highWaterMark) {
      this.#upPausedBp = true
      this.#up.pause()
    }
    // The kernel's buffers toward a slow reader hold megabytes that bufferedAmount cannot see: stop
    // at the window, so what is in flight ahead of a pong or a close stays bounded.
    if (!this.#upPausedWindow && this.#window !== undefined && !this.#window.open) {
      this.#upPausedWindow = true
      this.#up.pause()
    }
    this.#budget += n
    if (this.#budget >= this.#o.fairnessBudget && !this.#upPausedYield) {
      // Let other sessions' sockets be read before this one floods on.
      this.#budget = 0
      this.#yields++
      this.#upPausedYield = true
      this.#up.pause()
      setImmediate(() => {
        this.#upPausedYield = false
        this.#maybeResumeUpstream()
      })
    }
  }

  readonly #onClientFlushed = (): void => {
    if (this.#upPausedBp && this.#client.bufferedAmount <= this.#lowWater) {
      this.#upPausedBp = false
      this.#maybeResumeUpstream()
    }
  }

  #maybeResumeUpstream (): void {
    if (!this.#upPausedBp && !this.#upPausedYield && !this.#upPausedWindow && this.#up.isPaused) this.#up.resume()
  }

  // ---- client → upstream ----

  #fromClient (data: Buffer, isBinary: boolean): void {
    if (this.#ending) return
    const action = this.#codec.fromClient(data, isBinary)
    switch (action.type) {
      case 'upstream':
        if (action.stdin !== undefined) {
          this.#bytesIn += action.stdin.length
          this.#o.recorder?.input(action.stdin)
        }
        if (action.resize !== undefined) this.#o.recorder?.resize(action.resize.cols, action.resize.rows)
        if (action.activity !== false) this.#lastActivity = this.#t.now()
        this.#toUpstream(action.frame)
        return
      case 'reply':
        this.#tell(action.message)
        return
      case 'ignore':
        if (action.warning !== undefined) this.#o.onWarning?.(action.warning)
        return
      case 'invalid':
        this.#protocolError(action.reason)
    }
  }

  #resize (cols: number, rows: number): void {
    this.#o.recorder?.resize(cols, rows)
    this.#toUpstream(resizeFrame(cols, rows))
  }

  #toUpstream (frame: Buffer): void {
    if (this.#up.readyState !== this.#up.OPEN) return
    this.#up.send(frame, { binary: true }, this.#onUpstreamFlushed)
    if (!this.#clientPausedBp && this.#up.bufferedAmount > this.#o.highWaterMark) {
      this.#clientPausedBp = true
      this.#client.pause()
    }
  }

  readonly #onUpstreamFlushed = (): void => {
    if (this.#clientPausedBp && this.#up.bufferedAmount <= this.#lowWater) {
      this.#clientPausedBp = false
      this.#client.resume()
    }
  }

  #protocolError (reason: string): void {
    this.#finish({ closeCode: CloseCode.badMessage, closeReason: reason, endedBy: 'gateway', error: { status: 400, message: reason } })
    this.#closeClient(CloseCode.badMessage, reason)
    this.#closeUpstream()
  }

  // ---- timers ----

  #pingTick (): void {
    this.#flushBytes()
    if (this.#ending) return
    // A paused side cannot deliver its pong, and a pong to a ping queued behind our
    // backlog toward a slow reader is late by design: judge a side only when neither holds.
    // Bytes already handed to the kernel are invisible in bufferedAmount, yet a ping sent while
    // output flowed waits behind them in the socket buffers (megabytes on loopback), so a slow
    // reader's pong is late, not missing. A dead reader under output fills those buffers,
    // after which bufferedAmount and backpressure keep it "behind" anyway: idle and maximum
    // duration end such a session, not pings.
    const clientBehind = this.#client.isPaused || this.#upPausedBp || this.#upPausedWindow || this.#client.bufferedAmount > 0 ||
      this.#clientPingBehindOutput || this.#bytesIn > this.#bytesInAtPing
    // Data from a side since the last ping proves it alive as well as a pong would: a flooding
    // upstream's pongs queue behind its own output.
    const upstreamBehind = this.#up.isPaused || this.#clientPausedBp || this.#up.bufferedAmount > 0 ||
      this.#upPingBehindInput || this.#bytesOut > this.#bytesOutAtPing
    if (this.#clientAwaitPong && !clientBehind) {
      this.#finish({ closeCode: CloseCode.keepalive, closeReason: 'client did not answer pings', endedBy: 'gateway' })
      this.#client.terminate()
      this.#closeUpstream()
      return
    }
    if (this.#upAwaitPong && !upstreamBehind) {
      this.#upstreamFailed('the API server did not answer pings')
      this.#up.terminate()
      return
    }
    this.#clientAwaitPong = true
    this.#clientPingBehindOutput = this.#bytesOut > this.#bytesOutAtPing
    this.#upPingBehindInput = this.#bytesIn > this.#bytesInAtPing
    this.#bytesOutAtPing = this.#bytesOut
    this.#bytesInAtPing = this.#bytesIn
    this.#upAwaitPong = true
    this.#client.ping()
    this.#up.ping()
  }

  #armIdle (ms: number): void {
    this.#idleTimer = this.#t.setTimeout(() => {
      const idle = this.#t.now() - this.#lastActivity
      if (idle >= this.#o.idleTimeoutMs) this.close(CloseCode.idle, 'idle timeout')
      else this.#armIdle(this.#o.idleTimeoutMs - idle)
    }, ms)
  }

  #flushBytes (): void {
    const dIn = this.#bytesIn - this.#reportedIn
    const dOut = this.#bytesOut - this.#reportedOut
    if (dIn === 0 && dOut === 0) return
    this.#reportedIn = this.#bytesIn
    this.#reportedOut = this.#bytesOut
    this.#o.onBytes?.(dIn, dOut)
  }

  // ---- ends ----

  #parseStatus (): KubeStatus | undefined {
    if (this.#statusText === '') return undefined
    try { return JSON.parse(this.#statusText) as KubeStatus } catch { return { status: 'Failure', message: this.#statusText.slice(0, 500) } }
  }

  #upstreamClosedEvent (code: number, reason: string): void {
    this.#upClosed = true
    if (this.#ending) { this.#maybeDone(); return }
    const status = this.#parseStatus()
    if (!status) {
      this.#upstreamFailed(`the attach stream ended without a status (upstream close ${code}${reason ? ` ${reason}` : ''})`)
      return
    }
    if (status.status === 'Success') {
      this.#finish({ closeCode: CloseCode.normal, closeReason: 'session ended', endedBy: 'upstream' })
      this.#afterSuccess()
      return
    }
    const exitCode = exitCodeOf(status)
    if (exitCode !== undefined) {
      this.#finish({ closeCode: CloseCode.normal, closeReason: 'session ended', endedBy: 'upstream', exitCode })
      this.#tell(this.#codec.exited(exitCode))
      this.#closeClient(CloseCode.normal, 'session ended')
      return
    }
    const error = { status: status.code ?? 500, message: status.message ?? 'attach failed', ...(status.reason ? { reason: status.reason } : {}) }
    this.#finish({ closeCode: CloseCode.upstreamError, closeReason: 'upstream error', endedBy: 'upstream', error })
    this.#tell(this.#codec.failed(error))
    this.#closeClient(CloseCode.upstreamError, 'upstream error')
  }

  /** Success: the streams ended. Look for the exit code (attach carries none) before telling the client. */
  #afterSuccess (): void {
    const report = (exitCode: number | undefined): void => {
      if (exitCode !== undefined) this.#end = { ...this.#end!, exitCode }
      else this.#end = { ...this.#end!, detached: true }
      this.#tell(exitCode !== undefined ? this.#codec.exited(exitCode) : this.#codec.detached())
      this.#closeClient(CloseCode.normal, 'session ended')
    }
    const resolver = this.#o.resolveExitCode
    // Attach never carries the exit code: without the pod-status lookup it is unknown, not 0.
    if (!resolver) { this.#closeClient(CloseCode.normal, 'session ended'); return }
    // Passthrough clients read the Status themselves: close now, look the code up for the record only.
    if (this.#o.clientProtocol !== KDEBUG_PROTOCOL) this.#closeClient(CloseCode.normal, 'session ended')
    this.#pendingLookup = true
    resolver().then(report, () => report(undefined)).finally(() => {
      this.#pendingLookup = false
      this.#maybeDone()
    })
  }

  #upstreamFailed (message: string): void {
    this.#finish({ closeCode: CloseCode.upstreamError, closeReason: 'upstream closed', endedBy: 'upstream', error: { status: 502, message } })
    this.#tell(this.#codec.failed({ status: 502, message }))
    this.#closeClient(CloseCode.upstreamError, 'upstream closed')
  }

  #clientClosedEvent (code: number, reason: string): void {
    this.#clientClosed = true
    if (!this.#ending) {
      this.#finish({ closeCode: code, closeReason: reason || 'client closed', endedBy: 'client' })
      this.#closeUpstream()
    }
    this.#maybeDone()
  }

  #finish (end: EndState): void {
    if (this.#ending) return
    this.#ending = true
    this.#end = end
    for (const t of this.#timers) this.#t.clear(t)
    if (this.#idleTimer !== undefined) this.#t.clear(this.#idleTimer)
    // Nothing more will be relayed: let both sides drain their close frames.
    this.#upPausedBp = false
    this.#upPausedWindow = false
    this.#clientPausedBp = false
    if (this.#up.isPaused) this.#up.resume()
    if (this.#client.isPaused) this.#client.resume()
    this.#timers.push(this.#t.setTimeout(() => {
      if (!this.#clientClosed) this.#client.terminate()
      if (!this.#upClosed) this.#up.terminate()
    }, FORCE_CLOSE_MS))
  }

  #closeClient (code: number, reason: string): void {
    const c = this.#client
    if (c.readyState === c.OPEN) c.close(code, reason)
    else if (c.readyState === c.CLOSED) this.#clientClosed = true
  }

  #closeUpstream (): void {
    const u = this.#up
    if (u.readyState === u.OPEN) u.close(CloseCode.normal)
    else if (u.readyState === u.CONNECTING) u.terminate()
    else if (u.readyState === u.CLOSED) this.#upClosed = true
    this.#maybeDone()
  }

  #maybeDone (): void {
    if (!this.#ending || !this.#clientClosed || !this.#upClosed || this.#pendingLookup) return
    for (const t of this.#timers) this.#t.clear(t)
    this.#timers = []
    this.#flushBytes()
    this.#resolve({ ...this.#end!, bytesIn: this.#bytesIn, bytesOut: this.#bytesOut, durationMs: this.#t.now() - this.#started })
  }
}
