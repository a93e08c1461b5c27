// `rest-warm`: create-ephemeral and whoami through the gateway
// with a warm authn/authz cache, against the same requests straight to a
// minimal mock upstream (its own process) with 0 ms and 2 ms service delay.
// Closed loop c = 50 for capacity, open loop at ~50 % of the gateway's
// capacity for added p99; gateway CPU per request from its process.cpuUsage().
import { pairRatio, runPairs } from '../lib/ab.ts'
import { runLoad, type MeasuredLoad, type ProcStats } from '../lib/load.ts'
import { fileURLToPath } from 'node:url'
import type { Metric } from '../lib/results.ts'
import { startService, type Service } from '../lib/service.ts'
import { median, round } from '../lib/stats.ts'
import type { TokenMode } from '../workers/http-load.ts'
import { CONCURRENCY, WARM_POOL, WARM_TOKEN, direct, startRestRig, timing, viaGateway, type GatewayStats, type MockStats, type Op, type RestRig } from './rest-common.ts'
import type { Scenario, ScenarioContext } from './types.ts'

/** Gateway CPU per request (BENCH rest-warm). */
const CPU_BUDGET_US: Record<Op, number> = { create: 150, whoami: 35 }
const tokensFor = (op: Op): TokenMode => op === 'create' ? WARM_POOL : WARM_TOKEN

type GwRun = MeasuredLoad<GatewayStats>
type DirectRun = MeasuredLoad<MockStats>

export async function closedPairs (ctx: ScenarioContext, rig: RestRig, op: Op, label: string): Promise<{ baseline: DirectRun[], gateway: GwRun[] }> {
  const common = { mode: 'closed' as const, connections: CONCURRENCY, rate: 0, burst: 0, ...timing(ctx) }
  return await runPairs<DirectRun | GwRun>({
    pairs: 3,
    baseline: async () => await runLoad({ ...direct(rig, op), ...common }, [rig.mockStats]),
    gateway: async () => await runLoad({ ...viaGateway(rig, op, tokensFor(op)), ...common }, [rig.gatewayStats]),
    onPair: (i, b, g) => ctx.log(`rest-warm ${label} pair ${i + 1}: direct ${Math.round(b.rps)} op/s | gateway ${Math.round(g.rps)} req/s, ${round(g.cpuUsPerRequest[0] ?? NaN, 0)} µs CPU/req, non-2xx ${g.non2xx}`)
  }) as { baseline: DirectRun[], gateway: GwRun[] }
}

const FLOOR = fileURLToPath(new URL('../workers/floor-gateway.ts', import.meta.url))
type FloorRun = MeasuredLoad<ProcStats>

/** The floor (workers/floor-gateway.ts: the same upstream calls and nothing else) against the direct baseline, same loop. */
async function floorPairs (ctx: ScenarioContext, rig: RestRig, floor: Service<{ port: number }>, op: Op, label: string): Promise<{ baseline: DirectRun[], gateway: FloorRun[] }> {
  const common = { mode: 'closed' as const, connections: CONCURRENCY, rate: 0, burst: 0, ...timing(ctx) }
  const stats = async (): Promise<ProcStats> => await floor.call<ProcStats>('stats')
  return await runPairs<DirectRun | FloorRun>({
    pairs: 3,
    baseline: async () => await runLoad({ ...direct(rig, op), ...common }, [rig.mockStats]),
    gateway: async () => await runLoad({ ...viaGateway(rig, op, tokensFor(op)), url: `http://127.0.0.1:${floor.ready.port}`, ...common }, [stats]),
    onPair: (i, b, f) => ctx.log(`rest-warm ${label} pair ${i + 1}: direct ${Math.round(b.rps)} op/s | floor ${Math.round(f.rps)} req/s, ${round(f.cpuUsPerRequest[0] ?? NaN, 0)} µs CPU/req, non-2xx ${f.non2xx}`)
  }) as { baseline: DirectRun[], gateway: FloorRun[] }
}

function floorMetrics (op: Op, res: { baseline: DirectRun[], gateway: FloorRun[] }, calls: string): Metric[] {
  const us = median(res.gateway.map((g) => g.cpuUsPerRequest[0] ?? NaN))
  const why = `the floor: a bare Fastify server making ${calls} with the gateway's HTTP client settings and nothing else (no authentication, policy, signing or audit; bench/workers/floor-gateway.ts)`
  return [
    throughputMetric('rest-warm', `${op}-floor-throughput-0ms`, res, null, `${why}, against the same direct baseline`),
    { scenario: 'rest-warm', metric: `${op}-floor-cpu-per-request-0ms`, unit: 'µs', gateway: round(us, 1), baseline: null, ratio: null, target: 'report', pass: null, note: `${why}; the gateway's ${op}-cpu-per-request budget (${CPU_BUDGET_US[op]} µs) is judged against this` }
  ]
}

async function openPairs (ctx: ScenarioContext, rig: RestRig, op: Op, rate: number, label: string): Promise<{ baseline: DirectRun[], gateway: GwRun[] }> {
  const common = { mode: 'open' as const, connections: 0, rate, burst: 0, ...timing(ctx) }
  return await runPairs<DirectRun | GwRun>({
    pairs: 3,
    baseline: async () => await runLoad({ ...direct(rig, op), ...common }, [rig.mockStats]),
    gateway: async () => await runLoad({ ...viaGateway(rig, op, tokensFor(op)), ...common }, [rig.gatewayStats]),
    onPair: (i, b, g) => ctx.log(`rest-warm ${label} pair ${i + 1}: direct p99 ${round(b.latency.p99Us / 1000, 2)} ms | gateway p99 ${round(g.latency.p99Us / 1000, 2)} ms at ${Math.round(rate)}/s`)
  }) as { baseline: DirectRun[], gateway: GwRun[] }
}

export function throughputMetric (scenario: string, metric: string, res: { baseline: Array<{ rps: number }>, gateway: Array<{ rps: number, non2xx: number }> }, target: number | null, note: string): Metric {
  const tp = pairRatio(res, (s) => s.rps)
  const failed = res.gateway.reduce((a, g) => a + g.non2xx, 0)
  return {
    scenario,
    metric,
    unit: 'req/s',
    gateway: round(median(res.gateway.map((s) => s.rps)), 0),
    baseline: round(median(res.baseline.map((s) => s.rps)), 0),
    ratio: round(tp.median),
    ratioMin: round(tp.min),
    ratioMax: round(tp.max),
    target: target === null ? 'report' : `≥ ${target}`,
    pass: target === null ? null : tp.median >= target && failed === 0,
    note: `${note}${failed > 0 ? `; ${failed} non-2xx answers through the gateway` : ''}`
  }
}

function cpuMetric (op: Op, metric: string, res: { gateway: GwRun[] }, note: string): Metric {
  const us = median(res.gateway.map((g) => g.cpuUsPerRequest[0] ?? NaN))
  const budget = CPU_BUDGET_US[op]
  return { scenario: 'rest-warm', metric, unit: 'µs', gateway: round(us, 1), baseline: null, ratio: null, target: `≤ ${budget} µs`, pass: us <= budget, note }
}

/** Every answer through the gateway must be a 2xx: a run that measures refusals measures nothing (correctness, judged in any run). */
export function answeredMetric (scenario: string, runs: Array<{ requests: number, non2xx: number, errors: number, statuses: Record<string, number> }>): Metric {
  const bad = runs.reduce((a, r) => a + r.non2xx + r.errors, 0)
  const total = runs.reduce((a, r) => a + r.requests, 0)
  const statuses: Record<string, number> = {}
  for (const r of runs) for (const [k, v] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + v
  return { scenario, metric: 'gateway-non-2xx', unit: 'answers', gateway: bad, baseline: null, ratio: null, target: '= 0', pass: bad === 0, kind: 'correctness', note: `${total} measured operations through the gateway; statuses ${JSON.stringify(statuses)}` }
}

export function addedP99Metric (scenario: string, metric: string, res: { baseline: Array<{ latency: { p99Us: number } }>, gateway: Array<{ latency: { p99Us: number } }> }, limitMs: number | null, note: string): Metric {
  const added = res.gateway.map((g, i) => (g.latency.p99Us - (res.baseline[i]?.latency.p99Us ?? NaN)) / 1000)
  const addedMed = median(added)
  return {
    scenario,
    metric,
    unit: 'ms',
    gateway: round(median(res.gateway.map((s) => s.latency.p99Us)) / 1000),
    baseline: round(median(res.baseline.map((s) => s.latency.p99Us)) / 1000),
    ratio: null,
    target: limitMs === null ? 'report' : `≤ ${limitMs} ms added`,
    pass: limitMs === null ? null : addedMed <= limitMs,
    note: `${note}; added p99 median ${round(addedMed)} ms (min ${round(Math.min(...added))}, max ${round(Math.max(...added))})`
  }
}

export const restWarmScenario: Scenario = {
  id: 'rest-warm',
  description: 'create-ephemeral and whoami via the gateway (warm auth cache, c = 50) vs straight to a mock upstream, 0 ms and 2 ms service delay',
  async run (ctx) {
    const metrics: Metric[] = []
    const answered: GwRun[] = []
    const rig = await startRestRig(ctx, 'rest-warm')
    const floor = await startService<{ port: number }>(FLOOR, { upstream: rig.mockUrl })
    try {
      let capacity = 0
      // Quick runs skip the 2 ms closed loop and size the open loop from the 0 ms capacity.
      for (const delayMs of ctx.quick ? [0] : [0, 2]) {
        await rig.mock.call('set', { delayMs })
        const res = await closedPairs(ctx, rig, 'create', `create ${delayMs} ms closed`)
        answered.push(...res.gateway)
        const steps = `direct = GET pod + PATCH ephemeralcontainers (what kubectl debug sends); gateway callers: ${WARM_POOL.users} warm users in turn`
        metrics.push(throughputMetric('rest-warm', `create-throughput-${delayMs}ms`, res, delayMs === 0 ? 0.4 : 0.6, `closed loop c = ${CONCURRENCY}, upstream delay ${delayMs} ms; ${steps}; audit file on`))
        metrics.push(cpuMetric('create', `create-cpu-per-request-${delayMs}ms`, res, 'gateway process.cpuUsage() ÷ requests over the measured window (includes the audit log)'))
        capacity = median(res.gateway.map((g) => g.rps))
        if (delayMs === 0) {
          const fl = await floorPairs(ctx, rig, floor, 'create', 'create floor 0 ms closed')
          metrics.push(...floorMetrics('create', fl, 'the gateway\'s three calls per create (GET pod and PUT the caller\'s Lease at once, then PATCH ephemeralcontainers)'))
          metrics.push(answeredMetric('rest-warm-floor', fl.gateway))
        }
      }
      {
        const delayMs = 2
        await rig.mock.call('set', { delayMs })
        {
          const rate = 0.5 * capacity
          const open = await openPairs(ctx, rig, 'create', rate, `create ${delayMs} ms open`)
          answered.push(...open.gateway)
          metrics.push(addedP99Metric('rest-warm', `create-added-p99-${delayMs}ms`, open, 2, `open loop at ${Math.round(rate)} op/s (~50 % of gateway capacity), latency from scheduled start`))
        }
      }
      await rig.mock.call('set', { delayMs: 0 })
      const who = await closedPairs(ctx, rig, 'whoami', 'whoami 0 ms closed')
      answered.push(...who.gateway)
      metrics.push(throughputMetric('rest-warm', 'whoami-throughput-0ms', who, 0.4, `closed loop c = ${CONCURRENCY}; direct = the TokenReview the answer comes from`))
      metrics.push(cpuMetric('whoami', 'whoami-cpu-per-request-0ms', who, 'gateway process.cpuUsage() ÷ requests'))
      const whoFloor = await floorPairs(ctx, rig, floor, 'whoami', 'whoami floor 0 ms closed')
      metrics.push(...floorMetrics('whoami', whoFloor, 'no upstream call (a constant answer)'))
      metrics.push(answeredMetric('rest-warm', answered))
    } finally {
      await floor.stop()
      await rig.stop()
    }
    return metrics
  }
}
