// `rest-cold`: create-ephemeral with cold or partly cold auth
// caches against rest-warm (200 warm users in turn) in the same run, interleaved:
// 1,000 users Zipf-distributed (cache hit ratio from the gateway's own
// TokenReview/SAR cache counters), every token new (a TokenReview and a SAR
// per request), and the single-flight check: 1,000 simultaneous requests
// with one unseen token while the mock upstream holds reviews for 300 ms →
// exactly one TokenReview and one SAR per permission reach it.
import { runPairs } from '../lib/ab.ts'
import { runLoad, type MeasuredLoad } from '../lib/load.ts'
import type { Metric } from '../lib/results.ts'
import { median, round } from '../lib/stats.ts'
import type { CacheStats } from '../../src/auth/single-flight.ts'
import { permissionsFor } from '../../src/auth/permissions.ts'
import type { TokenMode } from '../workers/http-load.ts'
import { CONCURRENCY, NAMESPACE, WARM_POOL, POD, startRestRig, timing, viaGateway, type GatewayStats, type RestRig } from './rest-common.ts'
import { answeredMetric, throughputMetric } from './rest-warm.ts'
import type { Scenario, ScenarioContext } from './types.ts'

type GwRun = MeasuredLoad<GatewayStats>
const USERS = 1000
const BURST = 1000
/** Quick runs: the burst's creates queue behind one user's lock (by design), so a smaller burst keeps the smoke run short. */
const QUICK_BURST = 200
const REVIEW_HOLD_MS = 300

function delta (a: CacheStats | undefined, b: CacheStats | undefined): { hits: number, total: number } {
  if (!a || !b) return { hits: 0, total: 0 }
  const hits = (b.hits - a.hits) + (b.coalesced - a.coalesced)
  return { hits, total: hits + (b.misses - a.misses) }
}

/** Hit ratio of TokenReview and SAR lookups together over the measured window. */
function hitRatio (run: GwRun): number {
  const [before] = run.before
  const [after] = run.after
  const n = delta(before?.authn, after?.authn)
  const z = delta(before?.authz, after?.authz)
  return (n.hits + z.hits) / Math.max(1, n.total + z.total)
}

async function coldPairs (ctx: ScenarioContext, rig: RestRig, tokens: TokenMode, label: string): Promise<{ baseline: GwRun[], gateway: GwRun[] }> {
  const common = { mode: 'closed' as const, connections: CONCURRENCY, rate: 0, burst: 0, ...timing(ctx) }
  return await runPairs<GwRun>({
    pairs: 3,
    baseline: async () => await runLoad({ ...viaGateway(rig, 'create', WARM_POOL), ...common }, [rig.gatewayStats]),
    gateway: async () => await runLoad({ ...viaGateway(rig, 'create', tokens), ...common }, [rig.gatewayStats]),
    onPair: (i, b, g) => ctx.log(`rest-cold ${label} pair ${i + 1}: warm ${Math.round(b.rps)} req/s | ${label} ${Math.round(g.rps)} req/s, hit ratio ${round(hitRatio(g) * 100, 2)} %, non-2xx ${g.non2xx}`)
  })
}

async function singleFlight (rig: RestRig, ctx: ScenarioContext): Promise<Metric[]> {
  const burst = ctx.quick ? QUICK_BURST : BURST
  await rig.mock.call('set', { reviewDelayMs: REVIEW_HOLD_MS })
  await rig.mock.call('reset')
  const token = `tok-burst-${process.pid}-${Date.now()}`
  const run = await runLoad({ ...viaGateway(rig, 'create', { kind: 'fixed', token }), mode: 'burst', connections: 0, rate: 0, burst, warmupMs: 0, durationMs: 0 }, [rig.gatewayStats])
  await rig.mock.call('set', { reviewDelayMs: 0 })
  const s = await rig.mockStats()
  const permissions = permissionsFor('ephemeral', { namespace: NAMESPACE, pod: POD }).length
  const ok = run.statuses['201'] ?? 0
  ctx.log(`rest-cold burst: ${burst} requests, ${ok} × 201, ${s.tokenReviews} TokenReviews, ${s.sars} SARs (${s.distinctSars} distinct, ${permissions} permissions), ${round(run.seconds * 1000, 0)} ms`)
  const note = `${burst} simultaneous create-ephemeral requests, one unseen token, reviews held ${REVIEW_HOLD_MS} ms upstream; ${ok} answered 201 (statuses ${JSON.stringify(run.statuses)})`
  return [
    { scenario: 'rest-cold', metric: 'burst-tokenreviews', unit: 'calls', kind: 'correctness', gateway: s.tokenReviews, baseline: null, ratio: null, target: '= 1', pass: s.tokenReviews === 1 && ok === burst, note },
    { scenario: 'rest-cold', metric: 'burst-sars-per-permission', unit: 'calls', kind: 'correctness', gateway: s.maxSarsPerKey, baseline: null, ratio: null, target: `= 1 (${permissions} permission${permissions === 1 ? '' : 's'})`, pass: s.maxSarsPerKey === 1 && s.distinctSars === permissions && ok === burst, note: `${s.sars} SARs for ${s.distinctSars} distinct (user, attributes)` }
  ]
}

export const restColdScenario: Scenario = {
  id: 'rest-cold',
  description: 'create-ephemeral with 1,000 Zipf users / a new token per request vs 200 warm users; single-flight burst (1,000 requests, one unseen token)',
  async run (ctx) {
    const metrics: Metric[] = []
    const rig = await startRestRig(ctx, 'rest-cold')
    try {
      metrics.push(...await singleFlight(rig, ctx))
      const zipf = await coldPairs(ctx, rig, { kind: 'zipf', users: USERS, prefix: 'tok-zipf-' }, 'zipf')
      metrics.push(throughputMetric('rest-cold', 'zipf-throughput-vs-warm', zipf, 0.4, `${USERS} users, Zipf (s = 1), closed loop c = ${CONCURRENCY}; baseline = rest-warm's 200 warm users, interleaved; upstream delay 0 ms`))
      metrics.push(answeredMetric('rest-cold', [...zipf.baseline, ...zipf.gateway]))
      const ratios = zipf.gateway.map(hitRatio)
      const hit = median(ratios)
      metrics.push({ scenario: 'rest-cold', metric: 'zipf-cache-hit-ratio', unit: '%', gateway: round(hit * 100, 2), baseline: null, ratio: null, target: '≥ 99 %', pass: hit >= 0.99, note: `TokenReview + SAR cache lookups (coalesced count as hits) in the measured window after a ${timing(ctx).warmupMs} ms warm-up; min ${round(Math.min(...ratios) * 100, 2)} %, max ${round(Math.max(...ratios) * 100, 2)} %; cache TTL 10 s (defaults)` })
      // Quick runs skip the worst case (a review pair per request).
      if (ctx.quick) return metrics
      const fresh = await coldPairs(ctx, rig, { kind: 'new', prefix: 'tok-new-' }, 'new-token')
      metrics.push(throughputMetric('rest-cold', 'new-token-throughput-vs-warm', fresh, 0.4, `every request a new token (a TokenReview and a SAR each), closed loop c = ${CONCURRENCY}; baseline = rest-warm's 200 warm users, interleaved`))
    } finally {
      await rig.stop()
    }
    return metrics
  }
}
