// `attach-throughput` and `attach-backpressure`. Three processes:
// a minimal v5 upstream (pure relay cost, plus the REST answers the gateway
// needs before it dials), the whole gateway, and the load generator. Throughput: the same client straight to the
// upstream (baseline) vs through the gateway, interleaved pairs, 64 KiB and
// 1 KiB frames, 1 and 10 sessions, every byte checked. Backpressure: the
// upstream floods, the client reads at 1 MB/s; gateway RSS is sampled, against
// a naive relay (the same gateway with pausing disabled: high-water mark 1 GiB).
import { fileURLToPath } from 'node:url'
import { pairRatio, runPairs } from '../lib/ab.ts'
import { runWorker } from '../lib/child.ts'
import { startGateway, writeKubeconfig } from '../lib/gateway.ts'
import { startService, type Service } from '../lib/service.ts'
import type { Metric } from '../lib/results.ts'
import { median, round } from '../lib/stats.ts'
import type { AttachLoadInput, AttachLoadResult } from '../workers/attach-load.ts'
import type { Scenario, ScenarioContext } from './types.ts'

const UPSTREAM = fileURLToPath(new URL('../workers/attach-upstream.ts', import.meta.url))
const LOAD = fileURLToPath(new URL('../workers/attach-load.ts', import.meta.url))
/** BENCH attach-backpressure: RSS growth bound. */
const MAX_RSS_GROWTH = 4e6

interface GatewayStats { cpuUs: number, rss: number, heapUsed: number, sessions: number }

interface Server {
  port: number
  stats: () => Promise<GatewayStats>
  /** A full collection in the gateway (workers/gateway.ts runs with --expose-gc). */
  gc: () => Promise<void>
  stop: () => Promise<void>
}

const asServer = (s: Service<{ port: number }>): Server => ({ port: s.ready.port, stats: async () => await s.call<GatewayStats>('stats'), gc: async () => { await s.call('gc') }, stop: s.stop })

async function startUpstream (): Promise<Server> {
  return asServer(await startService<{ port: number }>(UPSTREAM, {}))
}

/**
 * The whole gateway (workers/gateway.ts) in front of the upstream: authentication, SAR, the pod
 * read and policy judgement, the stream budget and the attach.start/end audit records run for
 * every session, as in production. `highWaterMarkBytes` 1 GiB (and no send window) = the naive relay that never pauses.
 */
async function startAttachGateway (ctx: ScenarioContext, up: Server, name: string, highWaterMarkBytes?: number): Promise<Server> {
  return asServer(await startGateway(ctx, name, writeKubeconfig(ctx, name, `http://127.0.0.1:${up.port}`), {
    KDEBUG_DROPS_ENABLED: 'false',
    // The flood ends with a Success status: no pod status to look up afterwards.
    KDEBUG_ATTACH_EXIT_CODE_LOOKUP_MS: '0',
    // The naive relay has neither the high-water mark nor the acknowledged send window.
    ...(highWaterMarkBytes !== undefined ? { KDEBUG_ATTACH_HIGH_WATER_MARK_BYTES: String(highWaterMarkBytes), KDEBUG_ATTACH_SEND_WINDOW_BYTES: '0' } : {})
  }))
}

const gwUrl = (port: number): string => `ws://127.0.0.1:${port}/v1/namespaces/bench/pods/p/attach?container=c&stdin=true`
const upUrl = (port: number): string => `ws://127.0.0.1:${port}/api/v1/namespaces/bench/pods/p/attach?container=c&stdin=true&stdout=true`
const AUTH = { authorization: 'Bearer tok-bench' }

async function throughput (ctx: ScenarioContext, up: Server, gw: Server): Promise<Metric[]> {
  const metrics: Metric[] = []
  const variants = [
    { chunk: 65536, sessions: 1, bytes: ctx.quick ? 32 << 20 : 256 << 20, target: 0.7 },
    { chunk: 1024, sessions: 1, bytes: ctx.quick ? 4 << 20 : 32 << 20, target: 0.85 },
    ...(ctx.quick ? [] : [{ chunk: 65536, sessions: 10, bytes: 32 << 20, target: null }])
  ]
  for (const v of variants) {
    const label = `${v.chunk >= 1024 ? `${v.chunk / 1024}KiB` : `${v.chunk}B`}${v.sessions > 1 ? `-x${v.sessions}` : ''}`
    const base: AttachLoadInput = { mode: 'flood', url: upUrl(up.port), chunk: v.chunk, sessions: v.sessions, bytes: v.bytes }
    const viaGw: AttachLoadInput = { ...base, url: gwUrl(gw.port), headers: AUTH }
    // warm-up of both paths
    await runWorker<AttachLoadInput, AttachLoadResult>(LOAD, { ...base, bytes: Math.min(v.bytes, 8 << 20) })
    await runWorker<AttachLoadInput, AttachLoadResult>(LOAD, { ...viaGw, bytes: Math.min(v.bytes, 8 << 20) })
    const cpuPerGb: number[] = []
    let intact = true
    const res = await runPairs<AttachLoadResult>({
      pairs: ctx.quick ? 3 : 5,
      baseline: async () => await runWorker(LOAD, base),
      gateway: async () => {
        const before = await gw.stats()
        const r = await runWorker<AttachLoadInput, AttachLoadResult>(LOAD, viaGw)
        const after = await gw.stats()
        cpuPerGb.push((after.cpuUs - before.cpuUs) / 1e6 / (r.bytes / 1e9))
        return r
      },
      onPair: (i, b, g) => {
        intact &&= b.intact && g.intact
        ctx.log(`attach-throughput ${label} pair ${i + 1}: direct ${round(b.bytesPerSec / 1e6, 1)} MB/s | gateway ${round(g.bytesPerSec / 1e6, 1)} MB/s`)
      }
    })
    const r = pairRatio(res, x => x.bytesPerSec)
    metrics.push({
      scenario: 'attach-throughput',
      metric: `throughput-${label}`,
      unit: 'MB/s',
      gateway: round(median(res.gateway.map(x => x.bytesPerSec)) / 1e6, 1),
      baseline: round(median(res.baseline.map(x => x.bytesPerSec)) / 1e6, 1),
      ratio: round(r.median),
      ratioMin: round(r.min),
      ratioMax: round(r.max),
      target: v.target === null ? 'report' : `≥ ${v.target}`,
      pass: v.target === null ? null : r.median >= v.target,
      kind: 'timing'
    })
    metrics.push({ scenario: 'attach-throughput', metric: `cpu-per-gb-${label}`, unit: 'CPU·s/GB', gateway: round(median(cpuPerGb)), baseline: null, ratio: null, target: '≤ 1.0', pass: median(cpuPerGb) <= 1.0, kind: 'timing' })
    metrics.push({ scenario: 'attach-throughput', metric: `intact-${label}`, unit: 'bool', gateway: intact ? 1 : 0, baseline: null, ratio: null, target: '= 1 (no byte lost or reordered)', pass: intact, kind: 'correctness' })
  }
  return metrics
}

/**
 * A fresh gateway's first session costs a one-time 10–20 MB of RSS (modules loaded on first use, JIT
 * code, the first audit write), flat afterwards: that is not what a slow reader makes the relay hold.
 * So each gateway first relays a short flood that ends normally (a Success status: no client leaving
 * mid-flood, whose end would be measured instead), and the start sample follows its end and a full
 * collection (the same for the naive relay).
 */
async function warmUp (gw: Server): Promise<void> {
  await runWorker<AttachLoadInput, AttachLoadResult>(LOAD, { mode: 'flood', url: gwUrl(gw.port), headers: AUTH, chunk: 65536, sessions: 1, bytes: 4 << 20 })
  const t0 = Date.now()
  while ((await gw.stats()).sessions > 0 && Date.now() - t0 < 10_000) await new Promise(resolve => setTimeout(resolve, 100))
  await gw.gc()
}

async function slowReader (ctx: ScenarioContext, gw: Server): Promise<{ growth: number, firstHalf: number, pong: AttachLoadResult }> {
  const durationMs = ctx.quick ? 3000 : 30_000
  const samples: number[] = []
  await warmUp(gw)
  const start = (await gw.stats()).rss
  const loading = runWorker<AttachLoadInput, AttachLoadResult>(LOAD, { mode: 'slow', url: gwUrl(gw.port), headers: AUTH, chunk: 65536, readRate: 1_000_000, durationMs })
  const t0 = Date.now()
  while (Date.now() - t0 < durationMs) {
    await new Promise(resolve => setTimeout(resolve, 250))
    samples.push((await gw.stats()).rss - start)
  }
  const pong = await loading
  const half = samples.slice(0, Math.floor(samples.length / 2))
  return { growth: Math.max(0, ...samples), firstHalf: Math.max(0, ...half), pong }
}

async function backpressure (ctx: ScenarioContext, up: Server): Promise<Metric[]> {
  const gw = await startAttachGateway(ctx, up, 'attach-backpressure')
  const naive = await startAttachGateway(ctx, up, 'attach-backpressure-naive', 1 << 30)
  try {
    const ours = await slowReader(ctx, gw)
    const base = await slowReader(ctx, naive)
    ctx.log(`attach-backpressure: gateway RSS +${round(ours.growth / 1e6, 1)} MB (first half +${round(ours.firstHalf / 1e6, 1)}), naive relay +${round(base.growth / 1e6, 1)} MB; pong p99 ${round((ours.pong.pongP99Us ?? 0) / 1000, 1)} ms`)
    const expected = 1_000_000 * (ctx.quick ? 3 : 30)
    return [
      { scenario: 'attach-backpressure', metric: 'slow-reader-fed', unit: 'MB', gateway: round(ours.pong.bytes / 1e6, 2), baseline: round(base.pong.bytes / 1e6, 2), ratio: null, target: '≥ half of 1 MB/s × duration', pass: ours.pong.bytes >= expected / 2 && base.pong.bytes >= expected / 2, kind: 'correctness', note: 'the slow reader received its stream through the gateway (and the naive relay): a run that measured a refused session measures nothing' },
      { scenario: 'attach-backpressure', metric: 'rss-growth', unit: 'MB', gateway: round(ours.growth / 1e6, 2), baseline: round(base.growth / 1e6, 2), ratio: ours.growth > 0 ? round(base.growth / ours.growth, 1) : null, target: `≤ ${round(MAX_RSS_GROWTH / 1e6, 1)} MB`, pass: ours.growth <= MAX_RSS_GROWTH, kind: 'timing', note: 'ratio = naive growth ÷ gateway growth' },
      { scenario: 'attach-backpressure', metric: 'rss-flat', unit: 'MB', gateway: round((ours.growth - ours.firstHalf) / 1e6, 2), baseline: round((base.growth - base.firstHalf) / 1e6, 2), ratio: null, target: '≤ 1 MB more in the second half', pass: ours.growth - ours.firstHalf <= 1e6, kind: 'timing' },
      { scenario: 'attach-backpressure', metric: 'pong-p99', unit: 'ms', gateway: round((ours.pong.pongP99Us ?? 0) / 1000, 1), baseline: round((base.pong.pongP99Us ?? 0) / 1000, 1), ratio: null, target: '≤ 1000 ms', pass: (ours.pong.pongP99Us ?? Infinity) <= 1_000_000, kind: 'timing', note: 'pongs queue behind the bytes already sent toward a slow reader (gateway buffer + kernel socket buffers)' }
    ]
  } finally {
    await gw.stop()
    await naive.stop()
  }
}

export const attachThroughputScenario: Scenario = {
  id: 'attach-throughput',
  description: 'stdout flood through the attach relay vs straight to the upstream (64 KiB, 1 KiB frames; 10 sessions)',
  async run (ctx) {
    const up = await startUpstream()
    const gw = await startAttachGateway(ctx, up, 'attach-throughput')
    try {
      return await throughput(ctx, up, gw)
    } finally {
      await gw.stop()
      await up.stop()
    }
  }
}

export const attachBackpressureScenario: Scenario = {
  id: 'attach-backpressure',
  description: 'upstream floods, client reads at 1 MB/s: gateway RSS bounded and flat vs a naive relay; pings answered',
  async run (ctx) {
    const up = await startUpstream()
    try {
      return await backpressure(ctx, up)
    } finally {
      await up.stop()
    }
  }
}
