// The README's configuration table, rendered from the config schema so the
// two cannot disagree (a test compares them).
import { describeConfig } from './config.ts'

export const TABLE_START = '<!-- config-table:start -->'
export const TABLE_END = '<!-- config-table:end -->'

function cell (s: string): string {
  return s.replaceAll('|', '\\|').replaceAll('\n', ' ')
}

function renderDefault (v: unknown): string {
  if (v === undefined) return '—'
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) return '(see below)'
  return '`' + JSON.stringify(v) + '`'
}

export function renderConfigTable (): string {
  const rows = describeConfig().map(k =>
    `| \`${k.path}\` | \`${k.env}\` | ${cell(k.type)} | ${renderDefault(k.default)} | ${cell(k.description)} |`)
  return ['| key | env var | type | default | meaning |', '|---|---|---|---|---|', ...rows].join('\n')
}

export function replaceConfigTable (readme: string, table: string): string {
  const start = readme.indexOf(TABLE_START)
  const end = readme.indexOf(TABLE_END)
  if (start < 0 || end < start) throw new Error('README.md lacks the config-table markers')
  return readme.slice(0, start + TABLE_START.length) + '\n' + table + '\n' + readme.slice(end)
}
