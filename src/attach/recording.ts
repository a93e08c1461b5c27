// Session recording as asciicast v2 (https://docs.asciinema.org/manual/asciicast/v2/):
// a JSON header line, then one `[seconds, "o"|"i"|"r", data]` line per event.
// Output always; input only when enabled (it may contain passwords). Bounded:
// beyond maxBytes nothing more is written and the result says truncated;
// the file stream's own buffer is bounded by the same budget.
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs'
import { join } from 'node:path'
import { StringDecoder } from 'node:string_decoder'

export interface Recorder {
  output (data: Buffer): void
  input (data: Buffer): void
  resize (cols: number, rows: number): void
  /** Flushes and closes; resolves with what was recorded. */
  close (): Promise<RecordingResult>
}

export interface RecordingResult {
  file: string
  bytes: number
  truncated: boolean
}

export interface RecorderOptions {
  dir: string
  sessionId: string
  cols: number
  rows: number
  stdin: boolean
  maxBytes: number
  title?: string
  now?: () => number
}

export class AsciicastRecorder implements Recorder {
  readonly file: string
  readonly #out: WriteStream
  readonly #stdin: boolean
  readonly #max: number
  readonly #now: () => number
  readonly #start: number
  readonly #outDecoder = new StringDecoder('utf8')
  readonly #inDecoder = new StringDecoder('utf8')
  #bytes = 0
  #truncated = false
  #closed: Promise<RecordingResult> | undefined

  constructor (opts: RecorderOptions) {
    mkdirSync(opts.dir, { recursive: true })
    this.file = join(opts.dir, `${opts.sessionId}.cast`)
    this.#out = createWriteStream(this.file, { flags: 'wx', mode: 0o600 })
    this.#out.on('error', () => { this.#truncated = true })
    this.#stdin = opts.stdin
    this.#max = opts.maxBytes
    this.#now = opts.now ?? Date.now
    this.#start = this.#now()
    const header: Record<string, unknown> = { version: 2, width: opts.cols, height: opts.rows, timestamp: Math.floor(this.#start / 1000), env: { TERM: 'xterm-256color' } }
    if (opts.title) header.title = opts.title
    this.#write(JSON.stringify(header) + '\n')
  }

  #write (line: string): void {
    if (this.#truncated || this.#closed) return
    if (this.#bytes + line.length > this.#max) { this.#truncated = true; return }
    this.#bytes += line.length
    this.#out.write(line)
  }

  #event (type: 'o' | 'i' | 'r', data: string): void {
    if (data === '') return
    const t = Math.round(this.#now() - this.#start) / 1000
    this.#write(JSON.stringify([t, type, data]) + '\n')
  }

  output (data: Buffer): void { this.#event('o', this.#outDecoder.write(data)) }
  input (data: Buffer): void { if (this.#stdin) this.#event('i', this.#inDecoder.write(data)) }
  resize (cols: number, rows: number): void { this.#event('r', `${cols}x${rows}`) }

  async close (): Promise<RecordingResult> {
    if (!this.#closed) {
      this.#event('o', this.#outDecoder.end())
      const result = (): RecordingResult => ({ file: this.file, bytes: this.#bytes, truncated: this.#truncated })
      const closing = new Promise<RecordingResult>(resolve => { this.#out.end(() => resolve(result())) })
      this.#closed = closing
    }
    return await this.#closed
  }
}
