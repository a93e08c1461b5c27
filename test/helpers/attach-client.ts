// Test clients for the gateway's attach endpoint: kdebug.v1 (binary stdout,
// JSON control) and the Kubernetes channel protocols.
import type { WebSocket } from 'ws'

export interface Closed { code: number, reason: string }

class Waiters {
  #waiters: Array<() => void> = []
  notify (): void { for (const w of this.#waiters.splice(0)) w() }
  async until (pred: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
    const start = Date.now()
    while (!pred()) {
      if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`)
      await new Promise<void>(resolve => {
        this.#waiters.push(resolve)
        setTimeout(resolve, 50)
      })
    }
  }
}

export class KdebugClient {
  readonly ws: WebSocket
  readonly controls: Array<Record<string, unknown>> = []
  readonly out: Buffer[] = []
  readonly closed: Promise<Closed>
  closeInfo: Closed | undefined
  readonly #w = new Waiters()

  constructor (ws: WebSocket) {
    this.ws = ws
    ws.on('message', (raw: Buffer, isBinary: boolean) => {
      if (isBinary) this.out.push(raw)
      else this.controls.push(JSON.parse(raw.toString()) as Record<string, unknown>)
      this.#w.notify()
    })
    this.closed = new Promise(resolve => ws.once('close', (code: number, reason: Buffer) => {
      this.closeInfo = { code, reason: reason.toString() }
      this.#w.notify()
      resolve(this.closeInfo)
    }))
  }

  text (): string { return Buffer.concat(this.out).toString() }
  send (s: string): void { this.ws.send(Buffer.from(s), { binary: true }) }
  control (m: Record<string, unknown>): void { this.ws.send(JSON.stringify(m), { binary: false }) }
  async waitText (needle: string, timeoutMs?: number): Promise<void> { await this.#w.until(() => this.text().includes(needle), JSON.stringify(needle), timeoutMs) }
  async waitControl (type: string, timeoutMs?: number): Promise<Record<string, unknown>> {
    await this.#w.until(() => this.controls.some(c => c.type === type), `control ${type}`, timeoutMs)
    return this.controls.find(c => c.type === type) as Record<string, unknown>
  }
}

export class ChannelClient {
  readonly ws: WebSocket
  readonly frames: Array<{ ch: number, data: Buffer }> = []
  readonly closed: Promise<Closed>
  readonly #w = new Waiters()

  constructor (ws: WebSocket) {
    this.ws = ws
    ws.on('message', (raw: Buffer) => {
      this.frames.push({ ch: raw[0] as number, data: raw.subarray(1) })
      this.#w.notify()
    })
    this.closed = new Promise(resolve => ws.once('close', (code: number, reason: Buffer) => { this.#w.notify(); resolve({ code, reason: reason.toString() }) }))
  }

  text (ch = 1): string { return Buffer.concat(this.frames.filter(f => f.ch === ch).map(f => f.data)).toString() }
  send (ch: number, s: string | Buffer): void { this.ws.send(Buffer.concat([Buffer.from([ch]), Buffer.from(s)])) }
  async waitText (needle: string, ch = 1): Promise<void> { await this.#w.until(() => this.text(ch).includes(needle), JSON.stringify(needle)) }
}
