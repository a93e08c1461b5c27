// HTTP load in its own process (BENCH rules 2–4): `closed` = autocannon with
// fixed connections (capacity), `open` = a fixed arrival rate with latency
// measured from each request's scheduled start (so queueing shows), `burst`
// = N requests at once, each on its own connection. Tokens: one fixed token,
// a new token per request, or Zipf-distributed users. Before and after the
// measured window it asks the parent (`phase` start/end) so the parent can
// read the measured process's CPU for exactly that window.
import http from 'node:http'
// @ts-expect-error autocannon ships no types (and @types/autocannon is not installed)
import autocannonUntyped from 'autocannon'
import { workerDone, workerInput } from '../lib/child.ts'
import { latencyRecorder } from '../lib/histogram.ts'
import type { LatencySummary } from '../lib/histogram.ts'
import { zipfSampler } from '../lib/zipf.ts'

interface AutocannonResult {
  requests: { total: number }
  latency: Record<string, number>
  non2xx: number
  errors: number
  timeouts: number
}
const autocannon = autocannonUntyped as (opts: Record<string, unknown>) => Promise<AutocannonResult>

/**
 * fixed: one token; new: a new token per operation; zipf: Zipf-distributed users;
 * pool: `users` warm users in turn (round robin): with several times as many users as
 * connections, concurrent creates rarely queue behind one user's create lock.
 */
export type TokenMode = { kind: 'fixed', token: string } | { kind: 'new', prefix: string } | { kind: 'zipf', users: number, prefix: string } | { kind: 'pool', users: number, prefix: string }

export interface HttpLoadInput {
  mode: 'closed' | 'open' | 'burst'
  url: string
  /** One logical operation: these requests in order on one connection (e.g. kubectl debug's GET pod then PATCH). */
  steps: Step[]
  headers: Record<string, string>
  tokens: TokenMode
  /** Header that carries the token: 'authorization' (Bearer) or none (the token is in the body: TokenReview baseline). */
  tokenIn: 'authorization' | 'body'
  connections: number
  rate: number
  warmupMs: number
  durationMs: number
  /** burst: requests fired at once. */
  burst: number
}

export interface Step { method: 'GET' | 'POST' | 'PATCH', path: string, body?: string, contentType?: string }

export interface HttpLoadResult {
  requests: number
  seconds: number
  rps: number
  non2xx: number
  errors: number
  latency: LatencySummary
  statuses: Record<string, number>
}

const input = workerInput<HttpLoadInput>()

function tokenSource (t: TokenMode): () => string {
  if (t.kind === 'fixed') return () => t.token
  if (t.kind === 'new') { let i = 0; return () => `${t.prefix}${process.pid}-${i++}` }
  if (t.kind === 'pool') { let i = 0; return () => `${t.prefix}${i++ % t.users}` }
  const sample = zipfSampler(t.users, 1)
  return () => `${t.prefix}${sample()}`
}
const nextToken = tokenSource(input.tokens)

function request (step: Step, token: string): { headers: Record<string, string>, body: string | undefined } {
  const headers = step.contentType === undefined ? input.headers : { ...input.headers, 'content-type': step.contentType }
  if (input.tokenIn === 'authorization') return { headers: { ...headers, authorization: `Bearer ${token}` }, body: step.body }
  return { headers, body: step.body?.replace('@TOKEN@', token) }
}

async function phase (name: 'start' | 'end'): Promise<void> {
  if (!process.send) return
  await new Promise<void>((resolve) => {
    process.once('message', () => resolve())
    process.send?.({ phase: name })
  })
}

async function closedLoop (durationMs: number): Promise<{ requests: number, seconds: number, non2xx: number, errors: number, latency: LatencySummary, statuses: Record<string, number> }> {
  const statuses: Record<string, number> = {}
  const started = process.hrtime.bigint()
  const r = await autocannon({
    url: input.url,
    connections: input.connections,
    duration: durationMs / 1000,
    // autocannon runs the steps in order on each connection; one token per operation.
    requests: input.steps.map((step, i) => ({
      method: step.method,
      path: step.path,
      setupRequest: (req: Record<string, unknown>, context: { token?: string }) => {
        if (i === 0) context.token = nextToken()
        const { headers, body } = request(step, context.token ?? nextToken())
        return { ...req, headers, ...(body === undefined ? {} : { body }) }
      }
    })),
    setupClient: (client: { on: (e: string, f: (status: number) => void) => void }) => {
      client.on('response', (status: number) => { statuses[status] = (statuses[status] ?? 0) + 1 })
    }
  })
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  const l = r.latency
  const ms = (k: string): number => (l[k] ?? NaN) * 1000
  const steps = input.steps.length
  for (const k of Object.keys(statuses)) statuses[k] = Math.round((statuses[k] as number) / steps)
  return {
    requests: Math.floor(r.requests.total / steps),
    seconds,
    non2xx: Math.round(r.non2xx / steps),
    errors: r.errors + r.timeouts,
    statuses,
    latency: { count: r.requests.total, meanUs: ms('average'), p50Us: ms('p50'), p90Us: ms('p90'), p99Us: ms('p99'), p999Us: ms('p99_9'), maxUs: ms('max') }
  }
}

async function send (agent: http.Agent | false, token = nextToken()): Promise<number> {
  let status = 0
  for (const step of input.steps) {
    status = await sendStep(agent, step, token)
    if (status < 200 || status >= 300) return status
  }
  return status
}

function sendStep (agent: http.Agent | false, step: Step, token: string): Promise<number> {
  const { headers, body } = request(step, token)
  const u = new URL(step.path, input.url)
  return new Promise((resolve) => {
    const req = http.request(u, { method: step.method, headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) }, agent }, (res) => {
      res.resume()
      res.once('end', () => resolve(res.statusCode ?? 0))
      res.once('error', () => resolve(-1))
    })
    req.once('error', () => resolve(-1))
    req.end(body)
  })
}

async function openLoop (durationMs: number, lat: ReturnType<typeof latencyRecorder>, statuses: Record<string, number>): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 512 })
  const intervalNs = 1e9 / input.rate
  const until = process.hrtime.bigint() + BigInt(durationMs) * 1_000_000n
  let next = Number(process.hrtime.bigint())
  const inflight = new Set<Promise<void>>()
  let sent = 0
  while (BigInt(Math.round(next)) < until) {
    const now = Number(process.hrtime.bigint())
    while (next <= now) {
      const scheduled = BigInt(Math.round(next))
      const p = send(agent).then((status) => {
        lat.since(scheduled)
        statuses[status] = (statuses[status] ?? 0) + 1
      })
      inflight.add(p)
      p.finally(() => inflight.delete(p)).catch(() => {})
      sent++
      next += intervalNs
    }
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
  await Promise.all(inflight)
  agent.destroy()
  return sent
}

function summarize (requests: number, seconds: number, statuses: Record<string, number>, latency: LatencySummary): HttpLoadResult {
  const non2xx = Object.entries(statuses).filter(([s]) => Number(s) > 0 && (Number(s) < 200 || Number(s) >= 300)).reduce((a, [, n]) => a + n, 0)
  return { requests, seconds, rps: requests / seconds, non2xx, errors: statuses['-1'] ?? 0, latency, statuses }
}

let result: HttpLoadResult
if (input.mode === 'closed') {
  if (input.warmupMs > 0) await closedLoop(input.warmupMs)
  await phase('start')
  const r = await closedLoop(input.durationMs)
  await phase('end')
  result = { ...r, rps: r.requests / r.seconds }
} else if (input.mode === 'open') {
  if (input.warmupMs > 0) await openLoop(input.warmupMs, latencyRecorder(), {})
  const lat = latencyRecorder()
  const statuses: Record<string, number> = {}
  await phase('start')
  const t0 = process.hrtime.bigint()
  const sent = await openLoop(input.durationMs, lat, statuses)
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  await phase('end')
  result = summarize(sent, seconds, statuses, lat.summary())
} else {
  const lat = latencyRecorder()
  const statuses: Record<string, number> = {}
  await phase('start')
  const t0 = process.hrtime.bigint()
  await Promise.all(Array.from({ length: input.burst }, async () => {
    const status = await send(false)
    lat.since(t0)
    statuses[status] = (statuses[status] ?? 0) + 1
  }))
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  await phase('end')
  result = summarize(input.burst, seconds, statuses, lat.summary())
}
workerDone(result)
