// The bounded output history of a container, as the kubelet reads it back for
// `pods/log`: every chunk keeps the time it was written (CRI log files stamp
// each line), and the oldest chunks are dropped once the byte limit is passed
// (log rotation).

/** One log line (the last may be partial) with the time its first byte was written, in epoch ms (sub-ms precision). */
export interface LogRecord { time: number, line: Buffer }

export interface LogQuery { tailLines?: number, sinceSeconds?: number }

interface Chunk { time: number, data: Buffer }

/** Epoch milliseconds with sub-millisecond precision, for RFC3339Nano timestamps. */
export function preciseNow (): number {
  return performance.timeOrigin + performance.now()
}

/** Go's RFC3339NanoFixed in UTC (`2026-11-27T10:19:01.123456789Z`), the kubelet's `timestamps=true` prefix. */
export function formatLogTimestamp (ms: number): string {
  const whole = Math.floor(ms)
  const iso = new Date(whole).toISOString() // 2026-11-27T10:19:01.123Z
  const nanos = Math.round((ms - whole) * 1e6)
  return `${iso.slice(0, 23)}${String(Math.min(nanos, 999999)).padStart(6, '0')}Z`
}

export class OutputLog {
  readonly #limit: number
  #chunks: Array<Chunk | undefined> = []
  #head = 0
  #bytes = 0

  constructor (limitBytes = 2 * 1024 * 1024) {
    this.#limit = limitBytes
  }

  get bytes (): number { return this.#bytes }

  append (data: Buffer, time = preciseNow()): void {
    if (data.length === 0) return
    this.#chunks.push({ time, data })
    this.#bytes += data.length
    while (this.#bytes > this.#limit && this.#chunks.length - this.#head > 1) {
      const old = this.#chunks[this.#head]
      this.#chunks[this.#head++] = undefined
      this.#bytes -= old?.data.length ?? 0
    }
    // Compact the array now and then so dropped slots do not pile up.
    if (this.#head > 1024 && this.#head * 2 > this.#chunks.length) {
      this.#chunks = this.#chunks.slice(this.#head)
      this.#head = 0
    }
  }

  /** Lines (split on `\n`) filtered like the kubelet: sinceSeconds first, then the last tailLines. */
  records (query: LogQuery = {}, now = preciseNow()): LogRecord[] {
    const out: LogRecord[] = []
    let parts: Buffer[] = []
    let partTime = 0
    for (let i = this.#head; i < this.#chunks.length; i++) {
      const c = this.#chunks[i]
      if (!c) continue
      let start = 0
      while (start < c.data.length) {
        if (parts.length === 0) partTime = c.time
        const nl = c.data.indexOf(10, start)
        const end = nl === -1 ? c.data.length : nl + 1
        parts.push(c.data.subarray(start, end))
        if (nl !== -1) {
          out.push({ time: partTime, line: parts.length === 1 ? parts[0] as Buffer : Buffer.concat(parts) })
          parts = []
        }
        start = end
      }
    }
    if (parts.length > 0) out.push({ time: partTime, line: Buffer.concat(parts) })
    let selected = out
    if (query.sinceSeconds !== undefined && query.sinceSeconds > 0) {
      const from = now - query.sinceSeconds * 1000
      selected = selected.filter(r => r.time >= from)
    }
    if (query.tailLines !== undefined && query.tailLines >= 0) {
      selected = query.tailLines === 0 ? [] : selected.slice(-query.tailLines)
    }
    return selected
  }
}

/** Renders records as the kubelet writes them (optionally prefixed with `TIMESTAMP `). */
export function renderRecords (records: LogRecord[], timestamps: boolean): Buffer {
  if (!timestamps) return Buffer.concat(records.map(r => r.line))
  return Buffer.concat(records.flatMap(r => [Buffer.from(formatLogTimestamp(r.time) + ' '), r.line]))
}
