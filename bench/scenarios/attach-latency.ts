// `attach-latency`: keystroke echo round trips (8–64 B stdin
// frames echoed as stdout) through the gateway's attach relay vs straight to
// the upstream, open loop at a fixed keystroke rate, quiet and while a second
// session floods stdout. Processes: attach-api-upstream (minimal v5 server:
// echo and flood, plus the REST answers), the whole gateway, attach-keys-load (the
// keystroke client) and, for the flood, a second attach-keys-load as the
// flood's reader (a process of its own, so it does not steal the keystroke
// client's event loop).
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { runPairs } from '../lib/ab.ts'
import { runWorker } from '../lib/child.ts'
import { startService } from '../lib/service.ts'
import { startGateway, writeKubeconfig } from '../lib/gateway.ts'
import type { Metric } from '../lib/results.ts'
import { median, round } from '../lib/stats.ts'
import type { AttachFloodResult, AttachKeysInput, AttachKeysResult } from '../workers/attach-keys-load.ts'
import type { Scenario, ScenarioContext } from './types.ts'

const UPSTREAM = fileURLToPath(new URL('../workers/attach-api-upstream.ts', import.meta.url))
const KEYS = fileURLToPath(new URL('../workers/attach-keys-load.ts', import.meta.url))

/** Keystrokes per second: far below capacity (a relay does thousands), so queueing does not hide in the numbers. */
const RATE = 500
const FLOOD_CHUNK = 65536
const TARGET_ADDED_P50_MS = 0.1
const TARGET_ADDED_P99_MS = 0.75
const TARGET_FLOOD_P99_MS = 20

interface Proc { port: number, stats: () => Promise<{ cpuUs: number }>, stop: () => Promise<void> }

const gwUrl = (port: number): string => `ws://127.0.0.1:${port}/v1/namespaces/bench/pods/p/attach?container=c&stdin=true`
const upUrl = (port: number): string => `ws://127.0.0.1:${port}/api/v1/namespaces/bench/pods/p/attach?container=c&stdin=true&stdout=true`
const AUTH = { authorization: 'Bearer tok-bench' }

interface Run extends AttachKeysResult {
  /** Gateway CPU µs per keystroke over the run (gateway side only). */
  cpuUsPerKey?: number
  /** The flooding session's rate, B/s (flood variant). */
  floodBytesPerSec?: number
}

async function oneRun (ctx: ScenarioContext, url: string, headers: Record<string, string> | undefined, flood: boolean, gw?: Proc): Promise<Run> {
  const timing = ctx.quick ? { warmupMs: 200, durationMs: 700 } : { warmupMs: 2000, durationMs: 6000 }
  const keys: AttachKeysInput = { url, ...(headers ? { headers } : {}), rate: RATE, minBytes: 8, maxBytes: 64, ...timing }
  let flooding: Promise<AttachFloodResult> | undefined
  if (flood) {
    const floodInput: AttachKeysInput = { ...keys, durationMs: timing.durationMs + 800, floodChunk: FLOOD_CHUNK }
    flooding = runWorker<AttachKeysInput, AttachFloodResult>(KEYS, floodInput, { timeoutMs: 60_000 })
    await new Promise(resolve => setTimeout(resolve, ctx.quick ? 200 : 500)) // the flood is running before the first keystroke
  }
  const cpu: Array<Promise<number>> = []
  const r: Run = await runKeys(keys, () => { if (gw) cpu.push(gw.stats().then(s => s.cpuUs)) })
  if (cpu.length === 2) {
    const [a, b] = await Promise.all(cpu) as [number, number]
    r.cpuUsPerKey = (b - a) / r.sent
  }
  if (flooding) r.floodBytesPerSec = (await flooding).bytesPerSec
  return r
}

/** Runs the keystroke client; `onPhase` fires at the start and end of its measured window. */
async function runKeys (input: AttachKeysInput, onPhase: () => void): Promise<AttachKeysResult> {
  const child = fork(KEYS, [JSON.stringify(input)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  return await new Promise<AttachKeysResult>((resolve, reject) => {
    let result: AttachKeysResult | undefined
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('attach-keys-load timed out')) }, 120_000)
    child.on('message', (m: { phase?: string } & AttachKeysResult) => { if (m.phase !== undefined) onPhase(); else result = m })
    child.once('error', reject)
    child.once('exit', (code) => {
      clearTimeout(timer)
      if (result) resolve(result)
      else reject(new Error(`attach-keys-load exited with ${code} without a result`))
    })
  })
}

const ms = (us: number): number => round(us / 1000, 3)

function addedMetric (metric: string, res: { baseline: Run[], gateway: Run[] }, pick: (r: Run) => number, limitMs: number, note: string): Metric {
  const added = res.gateway.map((g, i) => (pick(g) - pick(res.baseline[i] as Run)) / 1000)
  const a = median(added)
  return {
    scenario: 'attach-latency',
    metric,
    unit: 'ms',
    gateway: ms(median(res.gateway.map(pick))),
    baseline: ms(median(res.baseline.map(pick))),
    ratio: null,
    target: `≤ ${limitMs} ms added`,
    pass: a <= limitMs,
    kind: 'timing',
    note: `${note}; added (median of per-pair gateway − direct) ${round(a, 3)} ms (min ${round(Math.min(...added), 3)}, max ${round(Math.max(...added), 3)})`
  }
}

async function variant (ctx: ScenarioContext, up: { port: number }, gw: Proc, flood: boolean): Promise<{ baseline: Run[], gateway: Run[] }> {
  const label = flood ? 'beside a flood' : 'quiet'
  return await runPairs<Run>({
    pairs: ctx.quick ? 3 : 5,
    baseline: async () => await oneRun(ctx, upUrl(up.port), undefined, flood),
    gateway: async () => await oneRun(ctx, gwUrl(gw.port), AUTH, flood, gw),
    onPair: (i, b, g) => ctx.log(`attach-latency ${label} pair ${i + 1}: direct p50 ${ms(b.latency.p50Us)} p99 ${ms(b.latency.p99Us)} ms | gateway p50 ${ms(g.latency.p50Us)} p99 ${ms(g.latency.p99Us)} ms` +
      `${flood ? ` (flood ${round((b.floodBytesPerSec ?? 0) / 1e6, 0)} | ${round((g.floodBytesPerSec ?? 0) / 1e6, 0)} MB/s)` : ''}, gateway ${round(g.cpuUsPerKey ?? NaN, 1)} µs CPU/key, lag p99 ${ms(b.scheduleLagP99Us)}|${ms(g.scheduleLagP99Us)} ms`)
  })
}

export const attachLatencyScenario: Scenario = {
  id: 'attach-latency',
  description: 'keystroke echo (8–64 B, open loop 500/s) through the attach relay vs straight to the upstream, quiet and beside a flooding session',
  async run (ctx) {
    const upstream = await startService<{ port: number }>(UPSTREAM, {})
    const up = { port: upstream.ready.port }
    // The whole gateway: authn, SAR, pod judgement, budgets and audit on every session's way in.
    const gateway = await startGateway(ctx, 'attach-latency', writeKubeconfig(ctx, 'attach-latency', `http://127.0.0.1:${up.port}`), {
      KDEBUG_DROPS_ENABLED: 'false',
      KDEBUG_ATTACH_EXIT_CODE_LOOKUP_MS: '0'
    })
    const gw: Proc = { port: gateway.ready.port, stats: async () => await gateway.call<{ cpuUs: number }>('stats'), stop: gateway.stop }
    try {
      const quiet = await variant(ctx, up, gw, false)
      const flood = await variant(ctx, up, gw, true)
      const all = [...quiet.baseline, ...quiet.gateway, ...flood.baseline, ...flood.gateway]
      const lost = all.reduce((n, r) => n + r.lost + r.corrupt, 0)
      const sent = all.reduce((n, r) => n + r.sent, 0)
      const common = `open loop ${RATE} keystrokes/s, 8–64 B, ${ctx.quick ? '0.7' : '6'} s measured after ${ctx.quick ? '0.2' : '2'} s warm-up per run`
      const floodNote = `${common}; a second session floods ${FLOOD_CHUNK / 1024} KiB stdout frames read as fast as possible (direct ${round(median(flood.baseline.map(r => r.floodBytesPerSec ?? 0)) / 1e6, 0)} MB/s, gateway ${round(median(flood.gateway.map(r => r.floodBytesPerSec ?? 0)) / 1e6, 0)} MB/s)`
      const p99 = (r: Run): number => r.latency.p99Us
      return [
        addedMetric('quiet-added-p50', quiet, r => r.latency.p50Us, TARGET_ADDED_P50_MS, common),
        addedMetric('quiet-added-p99', quiet, p99, TARGET_ADDED_P99_MS, common),
        {
          scenario: 'attach-latency',
          metric: 'flood-p99',
          unit: 'ms',
          gateway: ms(median(flood.gateway.map(p99))),
          baseline: ms(median(flood.baseline.map(p99))),
          ratio: null,
          target: `≤ ${TARGET_FLOOD_P99_MS} ms`,
          pass: median(flood.gateway.map(p99)) / 1000 <= TARGET_FLOOD_P99_MS,
          kind: 'timing',
          note: `${floodNote}; per pair gateway p99 ${flood.gateway.map(r => ms(r.latency.p99Us)).join(', ')} ms`
        },
        { ...addedMetric('flood-added-p50', flood, r => r.latency.p50Us, Infinity, floodNote), target: 'report', pass: null },
        {
          scenario: 'attach-latency',
          metric: 'cpu-per-keystroke',
          unit: 'µs',
          gateway: round(median(quiet.gateway.map(r => r.cpuUsPerKey ?? NaN)), 1),
          baseline: null,
          ratio: null,
          target: 'report',
          pass: null,
          kind: 'timing',
          note: 'gateway process.cpuUsage() ÷ keystrokes (stdin in + echo out, both sides of the relay), quiet runs'
        },
        {
          scenario: 'attach-latency',
          metric: 'keystrokes-lost',
          unit: 'count',
          gateway: lost,
          baseline: null,
          ratio: null,
          target: '= 0 (every echo back, in order, intact)',
          pass: lost === 0,
          kind: 'correctness',
          note: `${sent} keystrokes measured over all runs (direct and gateway)`
        }
      ]
    } finally {
      await gw.stop()
      await upstream.stop()
    }
  }
}
