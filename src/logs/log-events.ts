// A container's output as Server-Sent Events: one `event: log` per line. CR
// is a line end in SSE, so it is dropped from data. Pure: bytes in, frames
// out; partial lines wait for their end (or for end()).
import { formatSseComment, formatSseEvent } from '../lib/sse.ts'

export const LOG_HEARTBEAT = formatSseComment('keepalive')

function logEvent (line: string): string {
  return formatSseEvent({ event: 'log', data: line.replace(/\r/g, '') })
}

/** The last event: `end` when the log ended, `shutdown` when the gateway is closing. */
export function finalLogEvent (kind: 'end' | 'shutdown'): string {
  return formatSseEvent({ event: kind, data: {} })
}

export class LogEventEncoder {
  #rest = ''
  readonly #decoder = new TextDecoder('utf-8')

  /** The events of the complete lines in this chunk ('' when none completed). */
  push (chunk: Buffer): string {
    const text = this.#rest + this.#decoder.decode(chunk, { stream: true })
    const lines = text.split('\n')
    this.#rest = lines.pop() ?? ''
    return lines.length === 0 ? '' : lines.map(logEvent).join('')
  }

  /** The event of an unterminated last line, if any. */
  end (): string {
    const last = this.#rest + this.#decoder.decode()
    this.#rest = ''
    return last === '' ? '' : logEvent(last)
  }
}
