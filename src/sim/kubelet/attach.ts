// Server side of the `pods/attach` channel protocol (kubelet cri/streaming/remotecommand), as a
// 1.30+ API server with an older kubelet presents it: `v5.channel.k8s.io` is
// terminated by the API server's stream translator (which accepts only v5);
// any other request is proxied to the kubelet, whose WebSocket server accepts
// "" (no subprotocol), `channel.k8s.io`, `base64.channel.k8s.io`,
// `v4.channel.k8s.io` and `v4.base64.channel.k8s.io`, choosing the first the
// client offered. The container side follows containerd's attach rules.
import type { Duplex } from 'node:stream'
import type { WebSocket } from 'ws'
import type { ContainerProcess } from './process.ts'

export const V5_PROTOCOL = 'v5.channel.k8s.io'
const KUBELET_PROTOCOLS: readonly string[] = ['channel.k8s.io', 'base64.channel.k8s.io', 'v4.channel.k8s.io', 'v4.base64.channel.k8s.io']
/** What the sim accepts (no header at all is accepted too, as the kubelet's "" protocol). */
export const ATTACH_SUBPROTOCOLS: readonly string[] = [V5_PROTOCOL, ...KUBELET_PROTOCOLS]

const STDIN = 0
const STDOUT = 1
const STDERR = 2
const ERROR = 3
const RESIZE = 4
const CHANNELS = 5
const STREAM_CLOSE = 255
/** Output is paused above this many bytes queued toward the client and resumed below the low mark. */
export const HIGH_WATER_MARK = 1024 * 1024
const LOW_WATER_MARK = 256 * 1024

/**
 * For ws' handleProtocols. A v5 offer anywhere in the list wins (the API server checks for it
 * before proxying); otherwise the first offered protocol the kubelet supports; false if none.
 * Without the stream translator (before 1.30, or the TranslateStreamCloseWebsocketRequests
 * feature gate off) everything is proxied to the kubelet, which has no v5.
 */
export function negotiateSubprotocol (offered: Set<string>, translator = true): string | false {
  if (translator && offered.has(V5_PROTOCOL)) return V5_PROTOCOL
  for (const p of offered) if (KUBELET_PROTOCOLS.includes(p)) return p
  return false
}

/** The offered subprotocols of an upgrade request (`Sec-WebSocket-Protocol`, comma separated). */
export function offeredSubprotocols (header: string | string[] | undefined): Set<string> {
  const raw = Array.isArray(header) ? header.join(',') : header ?? ''
  return new Set(raw.split(',').map(s => s.trim()).filter(s => s !== ''))
}

/**
 * Whether an upgrade with this `Sec-WebSocket-Protocol` header can be accepted. When not, the
 * real server (x/net/websocket handshake failure) answers `403 Forbidden` with an empty body:
 * call rejectHandshake before ws' handleUpgrade.
 */
export function acceptsSubprotocols (header: string | string[] | undefined, translator = true): boolean {
  const offered = offeredSubprotocols(header)
  return offered.size === 0 || negotiateSubprotocol(offered, translator) !== false
}

/** Writes the handshake refusal of golang.org/x/net/websocket (403, no body) and closes the socket. */
export function rejectHandshake (socket: Duplex): void {
  socket.end('HTTP/1.1 403 Forbidden\r\n\r\n')
}

export interface AttachOptions {
  stdin: boolean
  stdout: boolean
  stderr: boolean
  tty: boolean
  /**
   * Report a non-zero exit as `NonZeroExitCode` (what an exec session reports). The real attach
   * path never does: the kubelet's ServeAttach writes Success whenever the streams end. Default false.
   */
  reportExitCode?: boolean
  /**
   * Close the stream after this long without data in either direction (0 / unset = never): the
   * kubelet's --streaming-connection-idle-timeout (default 4 h) and the stream translator's
   * idle timer. wsstream's Conn resets its deadline on every data read and write
   * (apimachinery util/httpstream/wsstream conn.go resetTimeout); WebSocket pings are answered
   * inside the frame reader and do not reset it. The stream just closes, with no Status.
   */
  idleTimeoutMs?: number
  /** Timers for the idle deadline (default the real ones; tests step a manual clock). */
  timers?: StreamTimers
}

/** The two timer calls the idle deadline makes. */
export interface StreamTimers {
  setTimeout (fn: () => void, ms: number): unknown
  clear (handle: unknown): void
}

const realStreamTimers: StreamTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clear: (handle) => { clearTimeout(handle as NodeJS.Timeout) }
}

/** metav1.Status as json.Marshal writes it on the error channel (no kind/apiVersion, no code when 0). */
export function exitStatusJson (code: number, reportExitCode: boolean): string {
  if (code === 0 || !reportExitCode) return JSON.stringify({ metadata: {}, status: 'Success' })
  return JSON.stringify({
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: exit status ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] }
  })
}

/**
 * Decodes a stream of JSON TerminalSize values split across frames, as Go's json.Decoder does
 * (field names case-insensitive). Returns undefined once the stream is broken (decode error).
 */
export class ResizeDecoder {
  #buf = ''
  #broken = false

  push (text: string): Array<{ width: number, height: number }> | undefined {
    if (this.#broken) return undefined
    this.#buf += text
    const sizes: Array<{ width: number, height: number }> = []
    for (;;) {
      const start = this.#buf.search(/\S/)
      if (start === -1) { this.#buf = ''; return sizes }
      const end = jsonValueEnd(this.#buf, start)
      if (end === -1) { this.#buf = this.#buf.slice(start); return sizes }
      const text = this.#buf.slice(start, end)
      this.#buf = this.#buf.slice(end)
      const size = decodeTerminalSize(text)
      if (!size) { this.#broken = true; return sizes.length > 0 ? sizes : undefined }
      sizes.push(size)
    }
  }
}

/** Index just past the JSON value starting at `start`, or -1 if it is not complete yet. */
function jsonValueEnd (s: string, start: number): number {
  const first = s[start]
  if (first !== '{' && first !== '[') {
    const m = /^("(?:[^"\\]|\\.)*"|[^\s{}[\],:]+)/.exec(s.slice(start))
    // A bare scalar is complete only once something follows it.
    return m && start + m[0].length < s.length ? start + m[0].length : -1
  }
  let depth = 0
  let inString = false
  for (let i = start; i < s.length; i++) {
    const c = s[i]
    if (inString) {
      if (c === '\\') i++
      else if (c === '"') inString = false
      continue
    }
    if (c === '"') inString = true
    else if (c === '{' || c === '[') depth++
    else if (c === '}' || c === ']') {
      depth--
      if (depth === 0) return i + 1
    }
  }
  return -1
}

function decodeTerminalSize (text: string): { width: number, height: number } | undefined {
  let v: unknown
  try { v = JSON.parse(text) } catch { return undefined }
  if (v === null) return { width: 0, height: 0 } // Go decodes null into a struct as a no-op
  if (typeof v !== 'object' || Array.isArray(v)) return undefined
  const entries = Object.entries(v as Record<string, unknown>)
  const field = (name: string): unknown => {
    // encoding/json: an exact name match wins, else a case-insensitive one (the last one seen).
    const exact = entries.find(([k]) => k === name)
    if (exact) return exact[1]
    return entries.filter(([k]) => k.toLowerCase() === name.toLowerCase()).at(-1)?.[1]
  }
  const out = { width: 0, height: 0 }
  for (const [key, name] of [['width', 'Width'], ['height', 'Height']] as const) {
    const x = field(name)
    if (x === undefined || x === null) continue
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > 65535) return undefined
    out[key] = x
  }
  return out
}

/**
 * Runs the channel protocol on an upgraded socket until the session ends: the process exits,
 * the client leaves, or the client's stdin ends on a container that keeps running (detach).
 */
export function serveAttach (ws: WebSocket, proc: ContainerProcess, opts: AttachOptions): void {
  const protocol = ws.protocol
  const v5 = protocol === V5_PROTOCOL
  const base64 = protocol.includes('base64')
  const structuredStatus = v5 || protocol.startsWith('v4.')
  const resize = new ResizeDecoder()
  let finished = false
  let stdinOpen = opts.stdin
  let stdinEofSeen = false
  let resizeOpen = true
  let release: (() => void) | undefined
  const unsubscribe: Array<() => void> = []

  const send = (channel: number, data: Buffer, cb?: (err?: Error) => void): void => {
    if (ws.readyState !== ws.OPEN) return
    if (base64) {
      ws.send(String.fromCharCode(48 + channel) + data.toString('base64'), { binary: false }, cb)
    } else {
      const frame = Buffer.allocUnsafe(data.length + 1)
      frame[0] = channel
      data.copy(frame, 1)
      ws.send(frame, { binary: true }, cb)
    }
  }

  const maybeRelease = (): void => {
    if (release && ws.bufferedAmount <= LOW_WATER_MARK) {
      const r = release
      release = undefined
      r()
    }
  }

  const cleanup = (): void => {
    for (const u of unsubscribe.splice(0)) u()
    if (release) { const r = release; release = undefined; r() }
  }

  /** Reports the end of the session and closes (apiserver proxy `finish`). */
  const finish = (code: number): void => {
    if (finished) return
    finished = true
    stdinOpen = false
    resizeOpen = false
    cleanup()
    const status = exitStatusJson(code, opts.reportExitCode === true)
    // Pre-v4 protocols get only failures, as plain text (kubelet v1WriteStatusFunc).
    if (structuredStatus) send(ERROR, Buffer.from(status))
    else if (code !== 0 && opts.reportExitCode === true) send(ERROR, Buffer.from(`command terminated with non-zero exit code: exit status ${code}`))
    if (ws.readyState === ws.OPEN) ws.close(1000)
  }

  /** The client's stdin ended (v5 CLOSE or the connection going away): containerd's rule (container_io.go Attach). */
  const stdinEnded = (): void => {
    // containerd copies attach input only into a container with stdin; otherwise its end changes nothing.
    if (!opts.stdin || proc.stdin === false || stdinEofSeen) return
    stdinEofSeen = true
    stdinOpen = false
    if (proc.stdinOnce === true && proc.tty !== true) proc.closeStdin()
    else if (!proc.exited) finish(0) // detach: this client's output streams are dropped, the container runs on
  }

  const timers = opts.timers ?? realStreamTimers
  let idleTimer: unknown
  const touch = (): void => {
    if (!opts.idleTimeoutMs || finished) return
    if (idleTimer !== undefined) timers.clear(idleTimer)
    idleTimer = timers.setTimeout(() => {
      if (finished) return
      finished = true
      cleanup()
      ws.close(1000)
    }, opts.idleTimeoutMs)
  }
  unsubscribe.push(() => { if (idleTimer !== undefined) timers.clear(idleTimer) })
  touch()

  // Readiness: one empty message on the lowest writable channel.
  send(opts.stdout ? STDOUT : opts.stderr ? STDERR : ERROR, Buffer.alloc(0))

  unsubscribe.push(proc.onOutput((stream, chunk) => {
    if (finished) return
    if (stream === 'stdout' ? !opts.stdout : !opts.stderr) return
    touch()
    // Each frame's callback runs once it reached the socket; the last one releases the hold.
    send(stream === 'stdout' ? STDOUT : STDERR, chunk, maybeRelease)
    if (!release && ws.bufferedAmount > HIGH_WATER_MARK && proc.hold) release = proc.hold()
  }))
  unsubscribe.push(proc.onExit(code => finish(code)))

  ws.on('message', (raw: Buffer | ArrayBuffer | Buffer[]) => {
    if (finished) return
    let data = Buffer.isBuffer(raw) ? raw : Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw)
    if (data.length === 0) return
    touch()
    if (v5 && data[0] === STREAM_CLOSE) {
      const channel = data[1]
      if (data.length !== 2 || channel === undefined || channel >= CHANNELS) {
        // Malformed close: the server stops reading, which ends the session without a status.
        if (!finished) { finished = true; cleanup() }
        stdinEnded()
        ws.close(1000)
        return
      }
      if (channel === STDIN) stdinEnded()
      else if (channel === RESIZE) resizeOpen = false
      return
    }
    let channel = data[0] as number
    if (base64) {
      channel -= 48
      const text = data.subarray(1).toString('latin1')
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return // Go's StdEncoding rejects it: frame dropped
      data = Buffer.from(text, 'base64')
    } else {
      data = data.subarray(1)
    }
    if (channel === STDIN) {
      if (stdinOpen) proc.write(data)
    } else if (channel === RESIZE && resizeOpen) {
      const sizes = resize.push(data.toString('utf8'))
      if (sizes === undefined) { resizeOpen = false; return }
      // The kubelet skips sizes with a zero dimension (HandleResizing); only a tty can be resized.
      for (const s of sizes) if (s.width > 0 && s.height > 0 && (proc.tty ?? opts.tty)) proc.resize(s.width, s.height)
    }
  })

  ws.on('close', () => {
    // The connection going away closes every channel, so the container sees stdin EOF by the same rule.
    if (!finished) { finished = true; cleanup() }
    stdinEnded()
  })
  ws.on('error', () => {})
}

/**
 * metav1.Status of apierrors.NewInternalError(err) for the stream translator's failed dial of
 * the kubelet: the SPDY round tripper turns a non-101, non-Status answer into
 * "unable to upgrade connection: <body>" (apimachinery spdy/roundtripper.go NewConnection), and
 * StreamTranslatorHandler.ServeHTTP (apiserver util/proxy/streamtranslator.go) writes it with
 * writeStatus on the error channel of the already upgraded WebSocket.
 */
export function translatorFailureStatus (kubeletText: string): Record<string, unknown> {
  const err = `unable to upgrade connection: ${kubeletText.trim()}`
  return { metadata: {}, status: 'Failure', message: `Internal error occurred: ${err}`, reason: 'InternalError', details: { causes: [{ message: err }] }, code: 500 }
}

/**
 * A v5 session whose kubelet leg failed: the translator completed the handshake first, so the
 * client sees the readiness message, then the Status on the error channel, then the close.
 */
export function serveAttachFailure (ws: WebSocket, opts: Pick<AttachOptions, 'stdout' | 'stderr'>, status: Record<string, unknown>): void {
  const frame = (channel: number, data: Buffer): Buffer => Buffer.concat([Buffer.from([channel]), data])
  ws.send(frame(opts.stdout ? STDOUT : opts.stderr ? STDERR : ERROR, Buffer.alloc(0)))
  ws.send(frame(ERROR, Buffer.from(JSON.stringify(status))))
  ws.close(1000)
  ws.on('error', () => {})
}

/** The kubelet's plain-text error as the upgrade-aware proxy passes it through (non-v5 protocols). */
export function writeKubeletRefusal (socket: Duplex, httpStatus: number, text: string): void {
  const reason = httpStatus === 400 ? 'Bad Request' : httpStatus === 404 ? 'Not Found' : 'Internal Server Error'
  socket.end(`HTTP/1.1 ${httpStatus} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`)
}
