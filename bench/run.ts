// `npm run bench [-- --quick] [-- --only audit,…]`: runs the scenarios of
// the benchmark rules (bench/README.md), writes bench/results/latest.json (one object per metric;
// only a complete, valid and correct full run: see resultsFile) and prints a table. Every figure is a ratio against a baseline from the same run.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { environment, finishEnvironment } from './lib/env.ts'
import { formatTable, readPrevious, resultsFile, writeResults } from './lib/results.ts'
import type { Metric } from './lib/results.ts'
import { auditScenario } from './scenarios/audit.ts'
import { restWarmScenario } from './scenarios/rest-warm.ts'
import { restColdScenario } from './scenarios/rest-cold.ts'
import { sseFanoutScenario } from './scenarios/sse-fanout.ts'
import { attachThroughputScenario, attachBackpressureScenario } from './scenarios/attach.ts'
import { attachLatencyScenario } from './scenarios/attach-latency.ts'
import { attachSessionsScenario } from './scenarios/attach-sessions.ts'
import type { Scenario } from './scenarios/types.ts'

// Scenarios register here; the HTTP-level ones (rest-warm, rest-cold, attach-*, sse-fanout) come with their features.
const SCENARIOS: Scenario[] = [
  auditScenario, restWarmScenario, restColdScenario, sseFanoutScenario,
  attachThroughputScenario, attachLatencyScenario, attachBackpressureScenario, attachSessionsScenario
]

function parseArgs (argv: string[]): { quick: boolean, only: string[] | null, out: string | undefined } {
  let quick = false
  let only: string[] | null = null
  let out: string | undefined
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string
    if (a === '--quick') quick = true
    else if (a === '--only') only = (argv[++i] ?? '').split(',').filter(Boolean)
    else if (a.startsWith('--only=')) only = a.slice(7).split(',').filter(Boolean)
    else if (a === '--out') out = argv[++i]
    else if (a === '--list') { for (const s of SCENARIOS) process.stdout.write(`${s.id}\t${s.description}\n`); process.exit(0) } else throw new Error(`unknown argument ${a} (use --quick, --only a,b, --out FILE, --list)`)
  }
  return { quick, only, out }
}

const args = parseArgs(process.argv.slice(2))
const log = (msg: string): void => { process.stderr.write(`[bench] ${msg}\n`) }
const previous = readPrevious()
const env = await environment({ quick: args.quick, previousCeilingMBps: previous.find((m) => m.env?.ceilingMBps !== undefined && m.env.valid)?.env?.ceilingMBps })
log(`node ${env.node}, ${env.nproc} CPUs (${env.cpuModel}), loopback ceiling ${env.ceilingMBps ?? '?'} MB/s${env.valid ? '' : ` — INVALID: ${env.invalidReason}`}`)

const selected = SCENARIOS.filter((s) => args.only === null || args.only.includes(s.id))
if (selected.length === 0) throw new Error(`no scenario matches ${args.only?.join(',')}`)
const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdebug-bench-'))
const metrics: Metric[] = []
try {
  for (const s of selected) {
    log(`scenario ${s.id}: ${s.description}${args.quick ? ' (quick)' : ''}`)
    const started = Date.now()
    for (const m of await s.run({ quick: args.quick, env, log, tmpDir })) metrics.push({ ...m, quick: args.quick, env })
    log(`scenario ${s.id} done in ${Math.round((Date.now() - started) / 1000)} s`)
  }
} finally {
  fs.rmSync(tmpDir, { recursive: true, force: true })
}
finishEnvironment(env)
// An invalid run keeps its numbers but judges no timing.
if (!env.valid) for (const m of metrics) if (m.kind !== 'correctness') m.pass = null
// A quick, partial, invalid or failing run never replaces the committed full run.
const correct = !metrics.some((m) => m.kind === 'correctness' && m.pass === false)
const file = writeResults(metrics, resultsFile({ quick: args.quick, out: args.out, complete: args.only === null, valid: env.valid, correct }))
process.stdout.write(formatTable(metrics) + '\n')
log(`results: ${file}${env.valid ? '' : ` (run marked INVALID, pass = null: ${env.invalidReason})`}`)
// Quick runs never gate on numbers, but lost data fails any run.
if (metrics.some((m) => m.pass === false && (m.kind === 'correctness' || !args.quick))) process.exitCode = 1
