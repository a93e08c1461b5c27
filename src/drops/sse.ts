// Server-Sent Events framing (WHATWG HTML "server-sent events"). Pure string
// builders: serialise once, write the same string to every subscriber.
// Field values may not contain CR or LF (they would start a new field), so
// data is split into one `data:` line per line; event names and ids that
// contain CR, LF or NUL are programming errors and throw.

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

/** The frame of a replay-buffer entry (`event: drop|drop-update`, `id:`, JSON drop). */
export function formatDropEntry (entry: { id: string, event: string, drop: unknown }): string {
  return formatSseEvent({ event: entry.event, id: entry.id, data: entry.drop })
}
