// A gateway + sim stack with the drop stream wired, and a small SSE client.
// Uses the app's own wiring when src/app.ts registers the drop routes (config
// `drops`), else wires them here exactly as the report to the lead says.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { Value } from '@sinclair/typebox/value'
import { startSim, type Sim } from '../../src/sim/index.ts'
import { ConfigSchema, resolveConfig } from '../../src/config.ts'
import { createServices } from '../../src/services.ts'
import { buildApp } from '../../src/app.ts'
import { createMetrics } from '../../src/plugins/metrics.ts'
import { createDrops } from '../../src/drops/index.ts'
import { DropsConfigSchema, type DropsConfig } from '../../src/drops/config-schema.ts'
import { dropsRoutes } from '../../src/routes/drops.ts'
import { deepMerge, startStack } from '../helpers/stack.ts'

export interface DropsStack {
  sim: Sim
  app: FastifyInstance
  url: string
  /** true when src/app.ts wired the drops itself. */
  wiredByApp: boolean
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
  const dropsInput = deepMerge(TEST_DROPS, (opts.drops ?? {}) as Record<string, unknown>)
  if ('drops' in ConfigSchema.properties) {
    const stack = await startStack({ config: { drops: dropsInput } })
    if (stack.app.hasRoute({ method: 'GET', url: '/v1/drops' })) {
      await waitReady(stack.url)
      return { sim: stack.sim, app: stack.app, url: stack.url, wiredByApp: true, request: stack.request, close: stack.close }
    }
    await stack.close()
  }

  const sim = await startSim({ startDelayMs: 10 })
  const dir = mkdtempSync(join(tmpdir(), 'kdebug-drops-'))
  const config = resolveConfig({
    server: { host: '127.0.0.1', port: 0 },
    logging: { level: 'silent' },
    audit: { file: join(dir, 'audit.log'), replica: 'test-1' }
  })
  const services = await createServices(config, { kubeconfigText: sim.kubeconfig })
  const dropsConfig = Value.Default(DropsConfigSchema, structuredClone(dropsInput)) as DropsConfig
  // the wiring app.ts gets (see the report): metrics first, drops, app, routes, preClose
  const metrics = createMetrics()
  const drops = await createDrops({ cluster: services.cluster, config: dropsConfig, metricsRegistry: metrics.registry, logger: pino({ level: 'silent' }) })
  const app = await buildApp({ ...services, config, metrics, readinessChecks: [drops.readinessCheck] })
  await app.register(dropsRoutes, { prefix: '/v1', hub: drops.hub, watcher: drops.watcher, config: dropsConfig })
  app.addHook('preClose', async () => { await drops.close() })
  app.addHook('onReady', async () => { drops.start() })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  await waitReady(url)
  return {
    sim,
    app,
    url,
    wiredByApp: false,
    request: async (path, init = {}) => {
      const { as, ...rest } = init
      const headers = new Headers(rest.headers)
      if (as) headers.set('authorization', `Bearer ${sim.tokens[as] ?? ''}`)
      return await fetch(url + path, { ...rest, headers })
    },
    close: async () => {
      await app.close()
      await services.close()
      await sim.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }
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

  /** The first event not returned before that matches. */
  async next (pred: (e: SseEvent) => boolean, ms = 3000): Promise<SseEvent> {
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
