// One terminal: xterm.js (DOM renderer, so its text is in the page) over the
// gateway's `kdebug.v1` WebSocket. Binary frames are raw stdin/stdout; text
// frames are JSON control (`ready`, `resize`, `exit`, `detached`, `error`) —
// openapi/attach.md. A browser cannot send Authorization on a WebSocket, so
// every connect first gets a single-use stream ticket for the URL.
import { Terminal } from '@xterm/xterm'
import { FitAddon } from '@xterm/addon-fit'
import type { Api } from './api.ts'
import { attachTarget } from './urls.ts'

export type TerminalStatus =
  | { kind: 'connecting' }
  | { kind: 'connected' }
  | { kind: 'exited', code: number | null }
  | { kind: 'detached' }
  | { kind: 'disconnected', message: string }

export interface TerminalSessionOptions {
  api: Api
  /** The attach path with its query (`/v1/namespaces/…/attach?container=…`), or the absolute `attach.url`. */
  attachUrl: string
  element: HTMLElement
  onStatus: (status: TerminalStatus) => void
}

export class TerminalSession {
  readonly term: Terminal
  readonly #fit = new FitAddon()
  readonly #opts: TerminalSessionOptions
  readonly #encoder = new TextEncoder()
  readonly #resizeObserver: ResizeObserver
  #ws: WebSocket | undefined
  #ended = false
  #disposed = false

  constructor (opts: TerminalSessionOptions) {
    this.#opts = opts
    this.term = new Terminal({
      cursorBlink: true,
      convertEol: false,
      fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace',
      fontSize: 14,
      scrollback: 5000,
      screenReaderMode: false,
      theme: { background: '#0f1419', foreground: '#e6e1cf' }
    })
    this.term.loadAddon(this.#fit)
    this.term.open(opts.element)
    this.#fitNow()
    this.term.onData((data) => { this.#send(this.#encoder.encode(data)) })
    this.term.onResize(({ cols, rows }) => { this.#control({ type: 'resize', cols, rows }) })
    this.#resizeObserver = new ResizeObserver(() => { this.#fitNow() })
    this.#resizeObserver.observe(opts.element)
  }

  #fitNow (): void {
    if (this.#disposed) return
    try { this.#fit.fit() } catch { /* not laid out yet */ }
  }

  #send (data: Uint8Array): void {
    if (this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(data)
  }

  #control (msg: Record<string, unknown>): void {
    if (this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify(msg))
  }

  /** Opens (or reopens) the WebSocket: a fresh ticket each time, since tickets are single-use. */
  async connect (): Promise<void> {
    this.#ws?.close()
    this.#ended = false
    this.#opts.onStatus({ kind: 'connecting' })
    const target = attachTarget(this.#opts.attachUrl, location.href)
    target.searchParams.set('cols', String(this.term.cols))
    target.searchParams.set('rows', String(this.term.rows))
    let ticket: string
    try {
      ticket = await this.#opts.api.ticket(target.pathname + target.search)
    } catch (err) {
      this.#opts.onStatus({ kind: 'disconnected', message: (err as Error).message })
      return
    }
    if (this.#disposed) return
    target.searchParams.set('ticket', ticket)
    const ws = new WebSocket(target.href, ['kdebug.v1'])
    ws.binaryType = 'arraybuffer'
    this.#ws = ws
    let failure = ''
    ws.onmessage = (e: MessageEvent) => {
      if (typeof e.data !== 'string') {
        this.term.write(new Uint8Array(e.data as ArrayBuffer))
        return
      }
      const msg = JSON.parse(e.data) as { type: string, code?: number, message?: string, data?: string }
      if (msg.type === 'ready') {
        // A shell printed its prompt before we attached; kubectl says the same
        // (kubernetes/kubectl pkg/cmd/attach/attach.go, "If you don't see a command prompt").
        this.term.writeln('\x1b[2mIf you don\'t see a command prompt, try pressing enter.\x1b[0m')
        this.#opts.onStatus({ kind: 'connected' })
        this.#fitNow()
        this.#control({ type: 'resize', cols: this.term.cols, rows: this.term.rows })
        this.term.focus()
      } else if (msg.type === 'exit') {
        this.#ended = true
        this.#opts.onStatus({ kind: 'exited', code: typeof msg.code === 'number' ? msg.code : null })
      } else if (msg.type === 'detached') {
        this.#ended = true
        this.#opts.onStatus({ kind: 'detached' })
      } else if (msg.type === 'stderr' && msg.data) {
        this.term.write(msg.data)
      } else if (msg.type === 'error') {
        failure = msg.message ?? 'error'
        this.term.write(`\r\n\x1b[31m${failure}\x1b[0m\r\n`)
      }
    }
    ws.onclose = (e: CloseEvent) => {
      if (this.#ws !== ws || this.#ended || this.#disposed) return
      // A refused handshake (401/403/409…) is a close 1006 with no reason: say what we know.
      const why = failure || e.reason || (e.code === 1006 ? 'the connection was refused or lost' : `closed (${e.code})`)
      this.#opts.onStatus({ kind: 'disconnected', message: why })
    }
  }

  /** Ctrl-D: end of input for a shell on a TTY — how a user ends a debug container's shell. */
  sendEof (): void {
    this.#send(new Uint8Array([4]))
  }

  focus (): void {
    this.term.focus()
  }

  dispose (): void {
    this.#disposed = true
    this.#resizeObserver.disconnect()
    this.#ws?.close(1000)
    this.term.dispose()
  }
}

/**
 * Ends a debug container's shell without showing a terminal: attach, send
 * Ctrl-D (end of input on a TTY), wait for the stream to end. Resolves with
 * the exit code when the gateway reports one.
 */
export async function endWithEof (api: Api, attachUrl: string, timeoutMs = 15000): Promise<number | null> {
  const target = attachTarget(attachUrl, location.href)
  target.searchParams.set('ticket', await api.ticket(target.pathname + target.search))
  const ws = new WebSocket(target.href, ['kdebug.v1'])
  ws.binaryType = 'arraybuffer'
  return await new Promise((resolve, reject) => {
    let code: number | null = null
    const timer = setTimeout(() => { ws.close(); reject(new Error('the session did not end in time')) }, timeoutMs)
    ws.onmessage = (e: MessageEvent) => {
      if (typeof e.data !== 'string') return
      const msg = JSON.parse(e.data) as { type: string, code?: number, message?: string }
      if (msg.type === 'ready') ws.send(new Uint8Array([4]))
      if (msg.type === 'exit' && typeof msg.code === 'number') code = msg.code
      if (msg.type === 'error') { clearTimeout(timer); reject(new Error(msg.message ?? 'attach failed')) }
    }
    ws.onclose = (e: CloseEvent) => {
      clearTimeout(timer)
      if (e.code === 1000) resolve(code)
      else reject(new Error(e.reason || 'the connection was refused or lost'))
    }
  })
}
