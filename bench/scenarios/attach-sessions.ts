// `attach-sessions`: many attach sessions. Processes: a minimal
// API server (attach-api-upstream: TokenReview, SAR, v5 attach that echoes
// and otherwise idles), the whole gateway app (workers/gateway.ts, built like
// main.ts: TokenReview authentication and SAR authorization against the
// mock, the audit file on) and the load generator (attach-sessions-load).
// - churn (closed loop, capacity): 2,000 sessions, 200 in their lifecycle at
//   once, after a warm-up with the same token (warm caches): sessions/s,
//   gateway CPU per session.
// - open loop at 50 % of the gateway's churn capacity (BENCH rule 4: closed
//   loop queues, so its latency is mostly waiting in line): 2,000 sessions,
//   setup latency p99 through the gateway minus straight to the upstream.
// - hold: 5,000 idle sessions; gateway RSS (after a GC) per idle session, each
//   of which is two WebSockets (client and upstream) plus the relay; the
//   upstream's RSS per session when held directly is the baseline.
import fs from 'node:fs'
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { pairRatio, runPairs } from '../lib/ab.ts'
import { startService, type Service } from '../lib/service.ts'
import { startGateway, writeKubeconfig } from '../lib/gateway.ts'
import { median, round } from '../lib/stats.ts'
import type { AttachSessionsInput, AttachSessionsResult } from '../workers/attach-sessions-load.ts'
import type { Scenario, ScenarioContext } from './types.ts'

const UPSTREAM = fileURLToPath(new URL('../workers/attach-api-upstream.ts', import.meta.url))
const LOAD = fileURLToPath(new URL('../workers/attach-sessions-load.ts', import.meta.url))

const TOKEN = 'tok-bench-user'
const TARGET_ADDED_P99_MS = 5
const TARGET_SESSIONS_PER_SEC = 500
const TARGET_IDLE_KB = 25

interface ProcStats { cpuUs: number, rss: number, heapUsed: number }
interface UpstreamStats extends ProcStats { sessions: number, tokenReviews: number, sars: number, attaches: number }

interface Rig {
  up: Service<{ port: number }>
  gw: Service<{ port: number }>
  stop: () => Promise<void>
}

const upUrl = (rig: Rig): string => `ws://127.0.0.1:${rig.up.ready.port}/api/v1/namespaces/bench/pods/p/attach?container=c&stdin=true&stdout=true&stderr=true`
const gwUrl = (rig: Rig): string => `ws://127.0.0.1:${rig.gw.ready.port}/v1/namespaces/bench/pods/p/attach?container=c`
const GW_HEADERS = { authorization: `Bearer ${TOKEN}` }

async function startRig (ctx: ScenarioContext): Promise<Rig> {
  const up = await startService<{ port: number }>(UPSTREAM, {}, { execArgv: ['--expose-gc'] })
  const gw = await startGateway(ctx, 'attach-sessions', writeKubeconfig(ctx, 'attach-sessions', `http://127.0.0.1:${up.ready.port}`), {
    KDEBUG_DROPS_ENABLED: 'false',
    // Clients end these sessions: no pod status to look up.
    KDEBUG_ATTACH_EXIT_CODE_LOOKUP_MS: '0'
  })
  return { up, gw, stop: async () => { await gw.stop(); await up.stop() } }
}

/** Runs the load generator; in hold mode `onHeld` runs while the sessions are held, before they are released. */
async function runLoad (input: AttachSessionsInput, onHeld?: () => Promise<void>): Promise<AttachSessionsResult> {
  const child = fork(LOAD, [JSON.stringify(input)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  return await new Promise<AttachSessionsResult>((resolve, reject) => {
    let result: AttachSessionsResult | undefined
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('attach-sessions-load timed out')) }, 300_000)
    child.on('message', (m: { phase?: string } & AttachSessionsResult) => {
      if (m.phase === 'held') {
        (onHeld ?? (async () => {}))().then(() => child.send('release'), (err: Error) => { child.kill('SIGKILL'); reject(err) })
        return
      }
      result = m
    })
    child.once('error', reject)
    child.once('exit', (code) => {
      clearTimeout(timer)
      if (result) resolve(result)
      else reject(new Error(`attach-sessions-load exited with ${code} without a result`))
    })
  })
}

/** The soft open-files limit (children inherit it); Node cannot raise it, so the held count scales down to fit. */
function openFilesLimit (): number {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'))
    return m?.[1] === undefined || m[1] === 'unlimited' ? Infinity : Number(m[1])
  } catch {
    return Infinity
  }
}

const ms = (us: number): number => round(us / 1000, 3)

interface ChurnRun extends AttachSessionsResult { cpuUsPerSession?: number }

async function churnPairs (ctx: ScenarioContext, rig: Rig, total: number, concurrency: number): Promise<{ baseline: ChurnRun[], gateway: ChurnRun[] }> {
  const warmupMs = ctx.quick ? 300 : 2000
  return await runPairs<ChurnRun>({
    pairs: ctx.quick ? 3 : 5,
    baseline: async () => await runLoad({ mode: 'churn', url: upUrl(rig), total, concurrency, warmupMs }),
    gateway: async () => {
      const before = await rig.gw.call<ProcStats>('stats')
      const r: ChurnRun = await runLoad({ mode: 'churn', url: gwUrl(rig), headers: GW_HEADERS, total, concurrency, warmupMs })
      const after = await rig.gw.call<ProcStats>('stats')
      r.cpuUsPerSession = (after.cpuUs - before.cpuUs) / (r.sessions + (r.warmSessions ?? 0))
      return r
    },
    onPair: (i, b, g) => ctx.log(`attach-sessions churn pair ${i + 1}: direct ${Math.round(b.sessionsPerSec)}/s setup p50 ${ms(b.setup.p50Us)} p99 ${ms(b.setup.p99Us)} ms | gateway ${Math.round(g.sessionsPerSec)}/s p50 ${ms(g.setup.p50Us)} p99 ${ms(g.setup.p99Us)} ms, ${Math.round(g.cpuUsPerSession ?? NaN)} µs CPU/session, failed ${b.failed}|${g.failed}${g.firstError ? ` (${g.firstError})` : ''}`)
  })
}

async function openPairs (ctx: ScenarioContext, rig: Rig, total: number, rate: number): Promise<{ baseline: AttachSessionsResult[], gateway: AttachSessionsResult[] }> {
  const warmupMs = ctx.quick ? 300 : 2000
  return await runPairs<AttachSessionsResult>({
    pairs: ctx.quick ? 3 : 5,
    baseline: async () => await runLoad({ mode: 'open', url: upUrl(rig), total, concurrency: 0, rate, warmupMs }),
    gateway: async () => await runLoad({ mode: 'open', url: gwUrl(rig), headers: GW_HEADERS, total, concurrency: 0, rate, warmupMs }),
    onPair: (i, b, g) => ctx.log(`attach-sessions open loop ${rate}/s pair ${i + 1}: direct setup p50 ${ms(b.setup.p50Us)} p99 ${ms(b.setup.p99Us)} ms | gateway p50 ${ms(g.setup.p50Us)} p99 ${ms(g.setup.p99Us)} ms, failed ${b.failed}|${g.failed}${g.firstError ? ` (${g.firstError})` : ''}`)
  })
}

interface HoldResult { run: AttachSessionsResult, perSessionRss: number, perSessionHeap: number, held: number, upstreamSessions: number }

async function holdIdle (ctx: ScenarioContext, measured: Service<{ port: number }>, input: AttachSessionsInput, upstream: Service<{ port: number }>): Promise<HoldResult> {
  const before = await measured.call<ProcStats>('gc')
  let atHold: ProcStats = before
  let upstreamSessions = 0
  const run = await runLoad(input, async () => {
    await new Promise(resolve => setTimeout(resolve, 1000)) // let in-flight handshakes and audit writes settle
    atHold = await measured.call<ProcStats>('gc')
    upstreamSessions = (await upstream.call<UpstreamStats>('stats')).sessions
  })
  const held = run.sessions - run.failed
  return { run, perSessionRss: (atHold.rss - before.rss) / held, perSessionHeap: (atHold.heapUsed - before.heapUsed) / held, held, upstreamSessions }
}

export const attachSessionsScenario: Scenario = {
  id: 'attach-sessions',
  description: 'open 2,000 attach sessions (200 at once) via the gateway vs straight to the upstream: setup p99, sessions/s; hold 5,000 idle: RSS per session',
  async run (ctx) {
    const total = ctx.quick ? 400 : 2000
    const concurrency = ctx.quick ? 100 : 200
    // Each held session is two sockets in the gateway (client, upstream) and one in the load generator and the upstream.
    const limit = openFilesLimit()
    const wanted = ctx.quick ? 1000 : 5000
    const holdCount = Math.min(wanted, Math.floor((limit - 1000) / 2))
    if (holdCount < wanted) ctx.log(`attach-sessions: open-files limit ${limit} (ulimit -n): holding ${holdCount} idle sessions instead of ${wanted}`)
    const rig = await startRig(ctx)
    try {
      // Warm-up of both paths (JIT, token and SAR caches), not recorded.
      await runLoad({ mode: 'churn', url: upUrl(rig), total: 200, concurrency, warmupMs: ctx.quick ? 300 : 1000 })
      await runLoad({ mode: 'churn', url: gwUrl(rig), headers: GW_HEADERS, total: 200, concurrency, warmupMs: ctx.quick ? 300 : 1000 })

      // Idle sessions first, while the gateway's heap holds little else.
      const holdInput = { mode: 'hold' as const, total: holdCount, concurrency }
      const direct = await holdIdle(ctx, rig.up, { ...holdInput, url: upUrl(rig) }, rig.up)
      const viaGw = await holdIdle(ctx, rig.gw, { ...holdInput, url: gwUrl(rig), headers: GW_HEADERS }, rig.up)
      ctx.log(`attach-sessions hold ${holdCount}: direct ${direct.held} held, upstream +${round(direct.perSessionRss / 1024, 1)} KB RSS/session | gateway ${viaGw.held} held (upstream saw ${viaGw.upstreamSessions}), +${round(viaGw.perSessionRss / 1024, 1)} KB RSS, +${round(viaGw.perSessionHeap / 1024, 1)} KB heap per session; alive ${direct.run.alive}|${viaGw.run.alive}`)

      const reviewsBefore = await rig.up.call<UpstreamStats>('stats')
      const churn = await churnPairs(ctx, rig, total, concurrency)
      const rate = pairRatio(churn, r => r.sessionsPerSec)
      const gwRate = median(churn.gateway.map(r => r.sessionsPerSec))
      const openRate = Math.max(50, Math.round(gwRate / 2 / 10) * 10)
      const open = await openPairs(ctx, rig, total, openRate)
      const reviewsAfter = await rig.up.call<UpstreamStats>('stats')
      const reviews = `${reviewsAfter.tokenReviews - reviewsBefore.tokenReviews} TokenReviews and ${reviewsAfter.sars - reviewsBefore.sars} SARs reached the upstream during the churn and open-loop runs (warm caches, one token)`

      const added = open.gateway.map((g, i) => (g.setup.p99Us - (open.baseline[i] as AttachSessionsResult).setup.p99Us) / 1000)
      const addedMed = median(added)
      const addedP50 = open.gateway.map((g, i) => (g.setup.p50Us - (open.baseline[i] as AttachSessionsResult).setup.p50Us) / 1000)
      const closedAdded = churn.gateway.map((g, i) => (g.setup.p99Us - (churn.baseline[i] as ChurnRun).setup.p99Us) / 1000)
      const runs = [...churn.gateway, ...open.gateway, viaGw.run, ...churn.baseline, ...open.baseline, direct.run]
      const failed = runs.reduce((n, r) => n + r.failed, 0)
      const firstError = runs.find(r => r.firstError)?.firstError
      const churnNote = `closed loop: ${total} sessions per run, ${concurrency} at once (connect → open → close 1000 → closed), after ${ctx.quick ? 0.3 : 2} s warm-up; audit file on; ${reviews}`
      const openNote = `open loop at ${openRate} sessions/s (50 % of the gateway's closed-loop capacity): ${total} sessions per run after ${ctx.quick ? 0.3 : 2} s warm-up; setup = connect → open (through the gateway: authn, authz, attach.start audit, upstream handshake, upgrade); audit file on`
      const held = viaGw.held
      const alive = (direct.run.alive ?? 0) + (viaGw.run.alive ?? 0)
      return [
        {
          scenario: 'attach-sessions',
          metric: 'setup-added-p99',
          unit: 'ms',
          gateway: ms(median(open.gateway.map(r => r.setup.p99Us))),
          baseline: ms(median(open.baseline.map(r => r.setup.p99Us))),
          ratio: null,
          target: `≤ ${TARGET_ADDED_P99_MS} ms added`,
          pass: addedMed <= TARGET_ADDED_P99_MS,
          kind: 'timing',
          note: `${openNote}; added p99 (median of per-pair gateway − direct) ${round(addedMed, 3)} ms (min ${round(Math.min(...added), 3)}, max ${round(Math.max(...added), 3)})`
        },
        {
          scenario: 'attach-sessions',
          metric: 'setup-added-p50',
          unit: 'ms',
          gateway: ms(median(open.gateway.map(r => r.setup.p50Us))),
          baseline: ms(median(open.baseline.map(r => r.setup.p50Us))),
          ratio: null,
          target: 'report',
          pass: null,
          kind: 'timing',
          note: `${openNote}; added p50 median ${round(median(addedP50), 3)} ms`
        },
        {
          scenario: 'attach-sessions',
          metric: 'setup-p99-closed-loop',
          unit: 'ms',
          gateway: ms(median(churn.gateway.map(r => r.setup.p99Us))),
          baseline: ms(median(churn.baseline.map(r => r.setup.p99Us))),
          ratio: null,
          target: 'report',
          pass: null,
          kind: 'timing',
          note: `${churnNote}; at ${concurrency} at once this is mostly queueing (Little's law: ${concurrency} ÷ sessions/s); added median ${round(median(closedAdded), 1)} ms`
        },
        {
          scenario: 'attach-sessions',
          metric: 'sessions-per-sec',
          unit: 'sessions/s',
          gateway: round(gwRate, 0),
          baseline: round(median(churn.baseline.map(r => r.sessionsPerSec)), 0),
          ratio: round(rate.median),
          ratioMin: round(rate.min),
          ratioMax: round(rate.max),
          target: `≥ ${TARGET_SESSIONS_PER_SEC}/s`,
          pass: gwRate >= TARGET_SESSIONS_PER_SEC,
          kind: 'timing',
          note: `${churnNote}; ratio = gateway ÷ direct`
        },
        {
          scenario: 'attach-sessions',
          metric: 'cpu-per-session',
          unit: 'µs',
          gateway: round(median(churn.gateway.map(r => r.cpuUsPerSession ?? NaN)), 0),
          baseline: null,
          ratio: null,
          target: 'report',
          pass: null,
          kind: 'timing',
          note: 'gateway process.cpuUsage() ÷ sessions (warm-up included) over each churn run: authn/authz (cached), audit start + end, upstream and client handshakes, close'
        },
        {
          scenario: 'attach-sessions',
          metric: 'idle-rss-per-session',
          unit: 'KB',
          gateway: round(viaGw.perSessionRss / 1024, 1),
          baseline: round(direct.perSessionRss / 1024, 1),
          ratio: viaGw.perSessionRss > 0 ? round(direct.perSessionRss / viaGw.perSessionRss) : null,
          target: `≤ ${TARGET_IDLE_KB} KB`,
          pass: viaGw.perSessionRss / 1024 <= TARGET_IDLE_KB,
          kind: 'timing',
          note: `${held} idle sessions held (gateway RSS after a GC, held − before, ÷ sessions; heap ${round(viaGw.perSessionHeap / 1024, 1)} KB/session); baseline = the mock upstream's RSS per session when held straight (one bare ws endpoint); ratio = baseline ÷ gateway (lower memory is better); opened at ${Math.round(viaGw.run.sessionsPerSec)}/s via the gateway, ${Math.round(direct.run.sessionsPerSec)}/s direct`
        },
        {
          scenario: 'attach-sessions',
          metric: 'sessions-failed',
          unit: 'count',
          gateway: failed + (direct.held + held - alive),
          baseline: null,
          ratio: null,
          target: '= 0 (every session opens; every held session still echoes)',
          pass: failed === 0 && alive === direct.held + held && viaGw.upstreamSessions >= held,
          kind: 'correctness',
          note: `${failed} failed to open${firstError ? ` (first: ${firstError})` : ''}; ${alive} of ${direct.held + held} held sessions echoed after the hold; the upstream saw ${viaGw.upstreamSessions} sessions while the gateway held ${held}`
        }
      ]
    } finally {
      await rig.stop()
    }
  }
}
