// Server-Sent Events (WHATWG HTML "server-sent events"), shared by the log
// and drop streams. Framing: pure string builders — serialise once, write the
// same string to every subscriber. Field values may not contain CR or LF (they
// would start a new field), so data is split into one `data:` line per line;
// event names and ids that contain CR, LF or NUL are programming errors and
// throw. Writing: SseWriter owns one stream's backpressure (the one place
// that decides when a reader is blocked, drained or too far behind),
// heartbeats that skip a blocked reader, the final event and disconnect
// cleanup; closeSseStreams ends many at shutdown.

export interface SseMessage {
  /** Event type; omitted means the client's default 'message'. */
  event?: string
  /** Becomes the client's Last-Event-ID. */
  id?: string | number
  /** Payload; a non-string is JSON-serialised. */
  data: unknown
  /** Reconnection delay hint in milliseconds. */
  retry?: number
}

const LINE_BREAK = /\r\n|\r|\n/
const FORBIDDEN = /[\r\n\0]/

function checkField (name: string, value: string): void {
  if (FORBIDDEN.test(value)) throw new TypeError(`SSE ${name} must not contain CR, LF or NUL`)
}

/**
 * One complete SSE event, terminated by a blank line. There is always at
 * least one `data:` line: without one, clients would not dispatch the event.
 */
export function formatSseEvent (msg: SseMessage): string {
  let out = ''
  if (msg.event !== undefined) {
    checkField('event', msg.event)
    out += `event: ${msg.event}\n`
  }
  if (msg.id !== undefined) {
    const id = String(msg.id)
    checkField('id', id)
    out += `id: ${id}\n`
  }
  if (msg.retry !== undefined) {
    if (!Number.isSafeInteger(msg.retry) || msg.retry < 0) throw new TypeError('SSE retry must be a non-negative integer')
    out += `retry: ${msg.retry}\n`
  }
  const data = typeof msg.data === 'string' ? msg.data : (JSON.stringify(msg.data) ?? '')
  for (const line of data.split(LINE_BREAK)) out += `data: ${line}\n`
  return out + '\n'
}

/** A comment line (ignored by clients), e.g. the heartbeat; line breaks cannot smuggle fields in. */
export function formatSseComment (text = ''): string {
  return text.split(LINE_BREAK).map(line => `: ${line}\n`).join('') + '\n'
}

/** Just a retry hint, e.g. as the first bytes of a stream. */
export function formatSseRetry (ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new TypeError('SSE retry must be a non-negative integer')
  return `retry: ${ms}\n\n`
}

/** Response headers of an event stream (nginx would otherwise buffer it). */
export const SSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no'
})

/** Whether an Accept header asks for an event stream. */
export function wantsEventStream (accept: string | undefined): boolean {
  return (accept ?? '').toLowerCase().includes('text/event-stream')
}

/** The id to resume after: the Last-Event-ID header, else a query fallback (clients that cannot send headers); bounded. */
export function lastEventIdOf (header: string | string[] | undefined, fallback: string | undefined, maxLength = 64): string | undefined {
  const h = Array.isArray(header) ? header[0] : header
  if (h !== undefined && h !== '') return h.slice(0, maxLength)
  return fallback === undefined || fallback === '' ? undefined : fallback.slice(0, maxLength)
}

/** What a writer needs of its destination: an http.ServerResponse, a socket, a PassThrough (or a fake). */
export interface SseSink {
  write (chunk: string | Buffer): boolean
  end (): unknown
  destroy (): unknown
  readonly writableLength: number
  readonly destroyed: boolean
  readonly writableEnded: boolean
  once (event: 'close' | 'drain', listener: () => void): unknown
}

export interface SseWriterOptions {
  /** A hard bound on unsent bytes: past it onOverflow is called (the reader is cut as too slow). */
  maxBufferedBytes?: number
  /** The sink took its backlog after write() reported backpressure: write more. */
  onDrain?: () => void
  onOverflow?: () => void
  /** Once, when the destination closed (the client left, or the stream was ended and flushed). */
  onClose?: () => void
}

/** One event stream: writes frames, tracks backpressure, ends with a final event. */
export class SseWriter {
  readonly sink: SseSink
  /** write() reported backpressure and no 'drain' came yet: live frames should wait. */
  blocked = false
  /** 'drain' events so far (a blocked reader without new drains over a while is stalled). */
  drains = 0
  readonly #o: SseWriterOptions
  readonly #closed: Promise<void>
  #ended = false

  constructor (sink: SseSink, opts: SseWriterOptions = {}) {
    this.sink = sink
    this.#o = opts
    this.#closed = new Promise<void>(resolve => {
      if (sink.destroyed) { resolve(); return }
      sink.once('close', () => {
        resolve()
        this.#o.onClose?.()
      })
    })
  }

  /** Unsent bytes queued on the destination. */
  get bufferedBytes (): number { return this.sink.writableLength }
  get ended (): boolean { return this.#ended || this.sink.writableEnded || this.sink.destroyed }

  /** Writes a frame (even while blocked: callers that must wait check `blocked`); false when the reader is behind. */
  write (frame: string | Buffer): boolean {
    if (this.ended) return false
    const ok = this.sink.write(frame)
    if (!ok) this.#block()
    return ok
  }

  /** A comment that keeps proxies from timing the stream out; skipped while the reader is behind. */
  heartbeat (frame: string | Buffer): void {
    if (!this.blocked) this.write(frame)
  }

  #block (): void {
    if (this.blocked) return
    this.blocked = true
    this.sink.once('drain', () => {
      this.blocked = false
      this.drains++
      this.#o.onDrain?.()
    })
    // the hard memory bound (only reachable with frames larger than the limit)
    if (this.#o.maxBufferedBytes !== undefined && this.sink.writableLength > this.#o.maxBufferedBytes) this.#o.onOverflow?.()
  }

  /** Writes the final frame (if any) and ends the stream; idempotent. */
  end (final?: string | Buffer): void {
    if (this.ended) return
    if (final !== undefined) this.sink.write(final)
    this.#ended = true
    this.sink.end()
  }

  /** Drops the stream at once (a reader too far behind: nothing more can reach it, free the memory). */
  destroy (): void {
    this.#ended = true
    this.sink.destroy()
  }

  /** Resolves when the destination has closed. */
  async closed (): Promise<void> { await this.#closed }
}

/** Heartbeats for a set of streams on one timer (not per stream); returns the stop function. */
export function startHeartbeat (intervalMs: number, writers: () => Iterable<SseWriter>, frame: string | Buffer = formatSseComment('heartbeat')): () => void {
  const timer = setInterval(() => { for (const w of writers()) w.heartbeat(frame) }, intervalMs)
  timer.unref()
  return () => { clearInterval(timer) }
}

/**
 * Graceful shutdown of many streams: the final event to each, end them, then destroy
 * those still open after graceMs (a reader that stopped reading would hold the server open).
 */
export async function closeSseStreams (writers: readonly SseWriter[], final: string | Buffer, graceMs: number): Promise<void> {
  const closed = writers.map(async w => { await w.closed() })
  for (const w of writers) w.end(final)
  let timer: NodeJS.Timeout | undefined
  const grace = new Promise<void>(resolve => { timer = setTimeout(resolve, graceMs) })
  await Promise.race([Promise.all(closed), grace])
  clearTimeout(timer)
  for (const w of writers) if (!w.sink.destroyed) w.destroy()
}
