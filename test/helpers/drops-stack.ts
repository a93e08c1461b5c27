// A gateway + sim stack with the drop stream on (config `drops`), and a small SSE client.
import type { FastifyInstance } from 'fastify'
import type { Sim } from '../../src/sim/index.ts'
import type { DropsConfig } from '../../src/drops/config-schema.ts'
import { deepMerge, startStack } from './stack.ts'

export interface DropsStack {
  sim: Sim
  app: FastifyInstance
  url: string
  request: (path: string, init?: RequestInit & { as?: string }) => Promise<Response>
  close: () => Promise<void>
}

const TEST_DROPS = { backoff: { initialMs: 20, maxMs: 200 } }

async function waitReady (url: string): Promise<void> {
  for (let i = 0; i < 250; i++) {
    const body = await (await fetch(`${url}/readyz`)).json() as { checks?: Array<{ name: string, ok: boolean }> }
    if (body.checks?.find(c => c.name === 'drop-watch')?.ok === true) return
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  throw new Error('drop watch did not connect')
}

export async function startDropsStack (opts: { drops?: Partial<DropsConfig> } = {}): Promise<DropsStack> {
  const stack = await startStack({ config: { drops: deepMerge(TEST_DROPS, (opts.drops ?? {}) as Record<string, unknown>) } })
  await waitReady(stack.url)
  return { sim: stack.sim, app: stack.app, url: stack.url, request: stack.request, close: stack.close }
}

export interface SseEvent {
  event: string
  id?: string
  data: string
  json: any
}

/** Reads an event stream as EventSource would (dispatches on blank lines). */
export class SseClient {
  readonly status: number
  readonly headers: Headers
  raw = ''
  readonly events: SseEvent[] = []
  readonly ended: Promise<void>
  readonly #abort: AbortController
  readonly #returned = new Set<number>()
  #pending = ''
  #wake: (() => void) | undefined

  private constructor (res: Response, abort: AbortController) {
    this.status = res.status
    this.headers = res.headers
    this.#abort = abort
    this.ended = this.#read(res)
  }

  static async open (s: { url: string, sim: Sim }, path: string, as: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const abort = new AbortController()
    const res = await fetch(s.url + path, {
      headers: { accept: 'text/event-stream', authorization: `Bearer ${s.sim.tokens[as] ?? ''}`, ...headers },
      signal: abort.signal
    })
    const c = new SseClient(res, abort)
    // the first frame (retry hint) means the hub has registered us
    await c.#until(() => c.raw.length > 0, 3000, 'first frame')
    return c
  }

  async #read (res: Response): Promise<void> {
    if (!res.body) return
    const decoder = new TextDecoder()
    try {
      for await (const chunk of res.body) {
        const text = decoder.decode(chunk as Uint8Array, { stream: true })
        this.raw += text
        this.#pending += text
        let i: number
        while ((i = this.#pending.indexOf('\n\n')) !== -1) {
          const block = this.#pending.slice(0, i)
          this.#pending = this.#pending.slice(i + 2)
          const lines = block.split('\n').filter(l => !l.startsWith(':'))
          const data = lines.filter(l => l.startsWith('data: ')).map(l => l.slice(6)).join('\n')
          if (data === '') continue
          let json: unknown
          try { json = JSON.parse(data) } catch { json = undefined }
          this.events.push({
            event: lines.find(l => l.startsWith('event: '))?.slice(7) ?? 'message',
            id: lines.find(l => l.startsWith('id: '))?.slice(4),
            data,
            json
          })
        }
        this.#wake?.()
      }
    } catch {
      // aborted by close()
    }
    this.#wake?.()
  }

  async #until (cond: () => boolean, ms: number, what: string): Promise<void> {
    const deadline = Date.now() + ms
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`SSE: timed out waiting for ${what}; got ${JSON.stringify(this.events.map(e => e.event))}`)
      await new Promise<void>(resolve => {
        const t = setTimeout(resolve, 20)
        this.#wake = () => { clearTimeout(t); resolve() }
      })
    }
  }

  /**
   * The first event not returned before that matches. The deadline only turns a missing event
   * into a message listing what did arrive; it is generous because a loaded machine delivers
   * late, not never (the test's own timeout still bounds a hang).
   */
  async next (pred: (e: SseEvent) => boolean, ms = 60_000): Promise<SseEvent> {
    let found = -1
    await this.#until(() => {
      found = this.events.findIndex((e, i) => !this.#returned.has(i) && pred(e))
      return found !== -1
    }, ms, 'a matching event')
    this.#returned.add(found)
    return this.events[found] as SseEvent
  }

  drops (): SseEvent[] {
    return this.events.filter(e => e.event === 'drop' || e.event === 'drop-update')
  }

  close (): void {
    this.#abort.abort()
  }
}
