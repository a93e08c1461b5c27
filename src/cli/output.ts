// Pure output formatting: kubectl-style tables, ages, JSON and YAML.
import { stringify as toYaml } from 'yaml'
import { sanitize } from './errors.ts'

export const OUTPUT_FORMATS = ['table', 'json', 'yaml'] as const
export type OutputFormat = typeof OUTPUT_FORMATS[number]

/** Columns separated by three spaces, headers upper-case, cells sanitized (they come from the cluster). */
export function table (headers: string[], rows: Array<Array<string | number | undefined>>): string {
  const cells = [headers.map(h => h.toUpperCase()), ...rows.map(r => r.map(c => (c === undefined || c === '' ? '<none>' : sanitize(String(c)))))]
  const widths = headers.map((_, i) => Math.max(...cells.map(r => (r[i] ?? '').length)))
  return cells.map(r => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd((widths[i] ?? 0) + 3))).join('')).join('\n') + '\n'
}

/** kubectl's short durations: 45s, 12m, 3h, 2d (seconds; negative shows as 0s). */
export function shortDuration (seconds: number): string {
  const s = Math.max(0, Math.floor(seconds))
  if (s < 120) return `${s}s`
  if (s < 3600 * 2) return `${Math.floor(s / 60)}m`
  if (s < 86400 * 2) return `${Math.floor(s / 3600)}h`
  return `${Math.floor(s / 86400)}d`
}

/** Age of an RFC 3339 time at `now` (ms), or undefined. */
export function age (time: string | null | undefined, now: number): string | undefined {
  if (!time) return undefined
  const t = Date.parse(time)
  return Number.isNaN(t) ? undefined : shortDuration((now - t) / 1000)
}

/** Time left until an RFC 3339 time, `expired` once past. */
export function remaining (time: string | null | undefined, now: number): string | undefined {
  if (!time) return undefined
  const t = Date.parse(time)
  if (Number.isNaN(t)) return undefined
  return t <= now ? 'expired' : shortDuration((t - now) / 1000)
}

export function formatData (data: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? JSON.stringify(data, null, 2) + '\n' : toYaml(data)
}
