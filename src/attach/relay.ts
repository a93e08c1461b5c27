// The relay between an attach client's WebSocket and the upstream attach
// WebSocket. It owns framing (Kubernetes channel protocols passed through,
// or the simple `kdebug.v1` protocol translated), backpressure (a side stops
// being read while the other side's send queue is above the high-water mark),
// fairness (yield after a byte budget), keepalive pings, idle and duration
// limits, and the close handshake of both sides. Protocols and close codes:
// openapi/attach.md.
import { StringDecoder } from 'node:string_decoder'
import type { WebSocket, RawData } from 'ws'
import type { KubeStatus } from '../kube/errors.ts'
import { V4_PROTOCOL, V5_PROTOCOL, type ChannelProtocol, type EarlyMessage } from './upstream.ts'
import type { Recorder } from './recording.ts'
import { AckWindow } from './ack-window.ts'

export const KDEBUG_PROTOCOL = 'kdebug.v1'
export type ClientProtocol = ChannelProtocol | typeof KDEBUG_PROTOCOL

const STDIN = 0
const STDOUT = 1
const STDERR = 2
const ERROR = 3
const RESIZE = 4
const CLOSE = 255

/** WebSocket close codes the gateway sends to attach clients (documented in openapi/attach.md). */
export const CloseCode = {
  /** The session ended: the process exited or the container detached us. */
  normal: 1000,
  /** The gateway is shutting down. */
  goingAway: 1001,
  /** The upstream connection failed or ended without a status. */
  upstreamError: 1011,
  /** The maximum session duration (config or policy) was reached. */
  maxDuration: 4000,
  /** No input or output for idleTimeoutSeconds. */
  idle: 4001,
  /** The client sent a message that is not valid for its protocol. */
  badMessage: 4002,
  /** The client did not answer pings. */
  keepalive: 4003,
  /** The debug session's expiresAt was reached (its TTL capped the session). */
  sessionExpired: 4004
} as const

export interface RelayOptions {
  client: WebSocket
  upstream: WebSocket
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

/** exit code from a NonZeroExitCode status, as client-go reads it. */
export function exitCodeOf (status: KubeStatus): number | undefined {
  if (status.reason !== 'NonZeroExitCode') return undefined
  const cause = status.details?.causes?.find(c => c.reason === 'ExitCode')
  const n = Number.parseInt(cause?.message ?? '', 10)
  return Number.isInteger(n) && n >= 0 && n <= 255 ? n : undefined
}

const FORCE_CLOSE_MS = 2000
const MAX_STATUS_CHARS = 64 * 1024

export class RelaySession {
  readonly done: Promise<SessionEnd>
  readonly #o: RelayOptions
  readonly #client: WebSocket
  readonly #up: WebSocket
  readonly #kdebug: boolean
  readonly #started = Date.now()
  readonly #lowWater: number
  readonly #stderrDecoder = new StringDecoder('utf8')
  #resolve!: (end: SessionEnd) => void
  #bytesIn = 0
  #bytesOut = 0
  #reportedIn = 0
  #reportedOut = 0
  #statusText = ''
  #lastActivity = Date.now()
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
  #end: Omit<SessionEnd, 'bytesIn' | 'bytesOut' | 'durationMs'> | undefined
  #timers: NodeJS.Timeout[] = []
  #idleTimer: NodeJS.Timeout | undefined
  #warnedClose = false

  constructor (opts: RelayOptions) {
    this.#o = opts
    this.#client = opts.client
    this.#up = opts.upstream
    this.#kdebug = opts.clientProtocol === KDEBUG_PROTOCOL
    this.#lowWater = Math.floor(opts.highWaterMark / 4)
    const windowBytes = opts.sendWindow ?? 0
    this.#window = windowBytes > 0
      ? new AckWindow({ windowBytes, ackEveryBytes: Math.max(1, Math.floor(windowBytes / 4)), ping: (payload) => { this.#client.ping(payload) } })
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

    if (this.#kdebug) this.#sendControl({ type: 'ready' })
    for (const m of this.#o.early ?? []) this.#guard(() => this.#fromUpstream(m.data, m.isBinary))
    if (this.#o.initialSize && this.#o.tty) this.#resize(this.#o.initialSize.cols, this.#o.initialSize.rows)
    u.resume()

    const ping = setInterval(() => this.#guard(() => this.#pingTick()), this.#o.pingIntervalMs)
    ping.unref()
    this.#timers.push(ping)
    if (this.#o.maxDurationMs > 0) {
      const end = this.#o.maxDurationClose ?? { code: CloseCode.maxDuration, reason: 'maximum session duration reached' }
      const t = setTimeout(() => this.close(end.code, end.reason), this.#o.maxDurationMs)
      t.unref()
      this.#timers.push(t)
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
    if (this.#kdebug && code !== CloseCode.goingAway) this.#sendControl({ type: 'error', status: 408, message: reason })
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
    const payload = data.subarray(1)
    if (ch === ERROR) {
      // One small Status is expected; never keep more than a bounded amount.
      if (this.#statusText.length < MAX_STATUS_CHARS) this.#statusText += payload.toString('utf8').slice(0, MAX_STATUS_CHARS)
      if (!this.#kdebug) this.#toClient(data, true)
      return
    }
    if (ch !== STDOUT && ch !== STDERR) return
    this.#bytesOut += payload.length
    this.#lastActivity = Date.now()
    this.#o.recorder?.output(payload)
    if (this.#ending && this.#clientClosed) return
    if (!this.#kdebug) this.#toClient(data, true)
    else if (ch === STDERR && this.#o.stderrAsText) this.#sendControl({ type: 'stderr', data: this.#stderrDecoder.write(payload) })
    else this.#toClient(payload, true)
    this.#afterUpstreamRead(data.length)
  }

  #toClient (data: Buffer | string, binary: boolean): void {
    if (this.#client.readyState !== this.#client.OPEN) return
    if (!this.#corked) {
      // Coalesce every frame of one upstream read into one writev (one syscall per frame otherwise).
      const socket = (this.#client as unknown as { _socket?: { cork (): void, uncork (): void } })._socket
      if (socket) {
        socket.cork()
        this.#corked = true
        process.nextTick(() => { this.#corked = false; socket.uncork() })
      }
    }
    this.#client.send(data, { binary }, this.#onClientFlushed)
    this.#window?.sent(data.length)
  }

  #sendControl (msg: Record<string, unknown>): void {
    this.#toClient(JSON.stringify(msg), false)
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
    if (this.#kdebug) {
      if (isBinary) this.#stdin(data)
      else this.#control(data.toString('utf8'))
    } else {
      if (!isBinary) { this.#protocolError('text frames are not part of the channel protocol'); return }
      if (data.length === 0) return
      const ch = data[0] as number
      if (ch === CLOSE) {
        if (this.#o.upstreamProtocol === V5_PROTOCOL) this.#toUpstream(data)
        else this.#warnCloseUnsupported()
        return
      }
      if (ch === STDIN) {
        const payload = data.subarray(1)
        this.#bytesIn += payload.length
        this.#o.recorder?.input(payload)
      } else if (ch === RESIZE) {
        this.#recordResize(data.subarray(1))
      }
      this.#lastActivity = Date.now()
      this.#toUpstream(data)
    }
  }

  #stdin (payload: Buffer): void {
    if (payload.length === 0) return
    const frame = Buffer.allocUnsafe(payload.length + 1)
    frame[0] = STDIN
    payload.copy(frame, 1)
    this.#bytesIn += payload.length
    this.#lastActivity = Date.now()
    this.#o.recorder?.input(payload)
    this.#toUpstream(frame)
  }

  #control (text: string): void {
    let msg: unknown
    try { msg = JSON.parse(text) } catch { this.#protocolError('control messages must be JSON'); return }
    const m = (typeof msg === 'object' && msg !== null ? msg : {}) as Record<string, unknown>
    if (m.type === 'resize') {
      const { cols, rows } = m
      const ok = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n > 0 && n <= 65535
      if (!ok(cols) || !ok(rows)) { this.#sendControl({ type: 'error', status: 400, message: 'resize needs integer cols and rows in 1..65535' }); return }
      this.#lastActivity = Date.now()
      this.#resize(cols, rows)
    } else if (m.type === 'close-stdin') {
      if (this.#o.upstreamProtocol === V5_PROTOCOL) this.#toUpstream(Buffer.from([CLOSE, STDIN]))
      else this.#sendControl({ type: 'error', status: 501, message: 'stdin cannot be closed: the API server speaks v4.channel.k8s.io, which has no close message' })
    } else {
      // Unknown types are refused but do not end the session (newer clients, older gateway).
      this.#sendControl({ type: 'error', status: 400, message: `unknown control message type ${JSON.stringify(m.type ?? null)}` })
    }
  }

  #resize (cols: number, rows: number): void {
    const json = JSON.stringify({ Width: cols, Height: rows })
    this.#o.recorder?.resize(cols, rows)
    this.#toUpstream(Buffer.concat([Buffer.from([RESIZE]), Buffer.from(json)]))
  }

  #recordResize (payload: Buffer): void {
    if (!this.#o.recorder) return
    try {
      const v = JSON.parse(payload.toString('utf8')) as Record<string, unknown>
      const w = v.Width ?? v.width
      const h = v.Height ?? v.height
      if (typeof w === 'number' && typeof h === 'number') this.#o.recorder.resize(w, h)
    } catch { /* the API server judges it */ }
  }

  #warnCloseUnsupported (): void {
    if (this.#warnedClose) return
    this.#warnedClose = true
    this.#o.onWarning?.('client sent a v5 CLOSE but the upstream speaks v4: ignored')
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
    this.#idleTimer = setTimeout(() => {
      const idle = Date.now() - this.#lastActivity
      if (idle >= this.#o.idleTimeoutMs) this.close(CloseCode.idle, 'idle timeout')
      else this.#armIdle(this.#o.idleTimeoutMs - idle)
    }, ms)
    this.#idleTimer.unref()
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
      if (this.#kdebug) this.#sendControl({ type: 'exit', code: exitCode })
      this.#closeClient(CloseCode.normal, 'session ended')
      return
    }
    const error = { status: status.code ?? 500, message: status.message ?? 'attach failed', ...(status.reason ? { reason: status.reason } : {}) }
    this.#finish({ closeCode: CloseCode.upstreamError, closeReason: 'upstream error', endedBy: 'upstream', error })
    if (this.#kdebug) this.#sendControl({ type: 'error', ...error })
    this.#closeClient(CloseCode.upstreamError, 'upstream error')
  }

  /** Success: the streams ended. Look for the exit code (attach carries none) before telling the client. */
  #afterSuccess (): void {
    const report = (exitCode: number | undefined): void => {
      if (exitCode !== undefined) this.#end = { ...this.#end!, exitCode }
      else this.#end = { ...this.#end!, detached: true }
      if (this.#kdebug) this.#sendControl(exitCode !== undefined ? { type: 'exit', code: exitCode } : { type: 'detached' })
      this.#closeClient(CloseCode.normal, 'session ended')
    }
    const resolver = this.#o.resolveExitCode
    // Attach never carries the exit code: without the pod-status lookup it is unknown, not 0.
    if (!resolver) { this.#closeClient(CloseCode.normal, 'session ended'); return }
    // Passthrough clients read the Status themselves: close now, look the code up for the record only.
    if (!this.#kdebug) this.#closeClient(CloseCode.normal, 'session ended')
    this.#pendingLookup = true
    resolver().then(report, () => report(undefined)).finally(() => {
      this.#pendingLookup = false
      this.#maybeDone()
    })
  }

  #pendingLookup = false

  #upstreamFailed (message: string): void {
    this.#finish({ closeCode: CloseCode.upstreamError, closeReason: 'upstream closed', endedBy: 'upstream', error: { status: 502, message } })
    if (this.#kdebug) this.#sendControl({ type: 'error', status: 502, message })
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

  #finish (end: Omit<SessionEnd, 'bytesIn' | 'bytesOut' | 'durationMs'>): void {
    if (this.#ending) return
    this.#ending = true
    this.#end = end
    for (const t of this.#timers) clearInterval(t)
    if (this.#idleTimer) clearTimeout(this.#idleTimer)
    // Nothing more will be relayed: let both sides drain their close frames.
    this.#upPausedBp = false
    this.#upPausedWindow = false
    this.#clientPausedBp = false
    if (this.#up.isPaused) this.#up.resume()
    if (this.#client.isPaused) this.#client.resume()
    const force = setTimeout(() => {
      if (!this.#clientClosed) this.#client.terminate()
      if (!this.#upClosed) this.#up.terminate()
    }, FORCE_CLOSE_MS)
    force.unref()
    this.#timers.push(force)
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
    for (const t of this.#timers) clearTimeout(t)
    this.#timers = []
    this.#flushBytes()
    this.#resolve({ ...this.#end!, bytesIn: this.#bytesIn, bytesOut: this.#bytesOut, durationMs: Date.now() - this.#started })
  }
}

export { V4_PROTOCOL, V5_PROTOCOL }
