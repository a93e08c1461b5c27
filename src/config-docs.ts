// The README's configuration table, rendered from the config schema so the
// two cannot disagree (a test compares them).
import { describeConfig } from './config.ts'
import { defaultPolicyYaml } from './policy/default.ts'

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

export const POLICY_START = '<!-- default-policy:start -->'
export const POLICY_END = '<!-- default-policy:end -->'

function replaceBetween (text: string, startMarker: string, endMarker: string, body: string): string {
  const start = text.indexOf(startMarker)
  const end = text.indexOf(endMarker)
  if (start < 0 || end < start) throw new Error(`README.md lacks the ${startMarker} … ${endMarker} markers`)
  return text.slice(0, start + startMarker.length) + '\n' + body + '\n' + text.slice(end)
}

export function renderDefaultPolicy (): string {
  return '```yaml\n' + defaultPolicyYaml().trimEnd() + '\n```'
}

/** The README with both generated blocks brought up to date. */
export function replaceConfigTable (readme: string, table: string): string {
  const withTable = replaceBetween(readme, TABLE_START, TABLE_END, table)
  return withTable.includes(POLICY_START) ? replaceBetween(withTable, POLICY_START, POLICY_END, renderDefaultPolicy()) : withTable
}
