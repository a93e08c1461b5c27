// Result records (BENCH rule 8): one JSON object per metric, written as an
// array to bench/results/latest.json, and a table on stdout.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { EnvRecord } from './env.ts'
import { round } from './stats.ts'

export interface Metric {
  scenario: string
  metric: string
  unit: string
  gateway: number | null
  baseline: number | null
  /** Median per-pair ratio (gateway ÷ baseline, or the reverse where lower is better: see `note`). */
  ratio: number | null
  ratioMin?: number
  ratioMax?: number
  /** Human-readable target, e.g. "≥ 0.7" or "≤ 2 ms added". */
  target: string
  pass: boolean | null
  /** Correctness metrics (bytes lost, records missing) stay judged in an invalid (noisy) run; timing ones do not. */
  kind?: 'timing' | 'correctness'
  note?: string
  quick?: boolean
  env?: EnvRecord
}

export const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url))
/** Where --quick runs write (not committed): latest.json holds only full runs. */
export const QUICK_RESULTS = path.join(RESULTS_DIR, 'quick.json')
/** Where a full run that cannot stand as the committed result writes (not committed). */
export const LAST_RUN_RESULTS = path.join(RESULTS_DIR, 'last-run.json')

export interface RunOutcome {
  quick: boolean
  out?: string | undefined
  /** Every scenario ran (no --only). */
  complete: boolean
  /** The environment checks passed (PSI, loopback ceiling). */
  valid: boolean
  /** Every correctness metric passed (nothing lost, chains verify, every answer a 2xx). */
  correct: boolean
}

/**
 * The results file of a run: --out when given; quick.json for a quick run; latest.json only for a
 * run that can be committed as the result (full, every scenario, valid, correct), so a partial,
 * invalid or failing run never replaces it by accident; last-run.json for any other full run.
 */
export function resultsFile (run: RunOutcome): string {
  if (run.out !== undefined) return run.out
  if (run.quick) return QUICK_RESULTS
  return run.complete && run.valid && run.correct ? path.join(RESULTS_DIR, 'latest.json') : LAST_RUN_RESULTS
}

export function readPrevious (file = path.join(RESULTS_DIR, 'latest.json')): Metric[] {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Metric[]
  } catch {
    return []
  }
}

export function writeResults (metrics: Metric[], file = path.join(RESULTS_DIR, 'latest.json')): string {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, JSON.stringify(metrics, null, 2) + '\n')
  return file
}

function fmt (x: number | null | undefined): string {
  if (x === null || x === undefined) return '-'
  if (!Number.isFinite(x)) return String(x)
  const a = Math.abs(x)
  return String(a >= 1000 ? Math.round(x) : a >= 10 ? round(x, 1) : round(x, 3))
}

export function formatTable (metrics: Metric[]): string {
  const header = ['scenario', 'metric', 'unit', 'gateway', 'baseline', 'ratio (min–max)', 'target', 'pass']
  const rows = metrics.map((m) => [
    m.scenario, m.metric, m.unit, fmt(m.gateway), fmt(m.baseline),
    m.ratio === null ? '-' : `${fmt(m.ratio)} (${fmt(m.ratioMin)}–${fmt(m.ratioMax)})`,
    m.target, m.pass === null ? '-' : m.pass ? 'yes' : 'NO'
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)))
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd()
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')
}
