// npm run docs:config → rewrites the configuration table in README.md from
// the config schema (between the config-table markers). `--check` fails on drift.
import { readFileSync, writeFileSync } from 'node:fs'
import { renderConfigTable, replaceConfigTable } from '../src/config-docs.ts'

const readmeUrl = new URL('../README.md', import.meta.url)
const readme = readFileSync(readmeUrl, 'utf8')
const updated = replaceConfigTable(readme, renderConfigTable())
if (process.argv.includes('--check')) {
  if (updated !== readme) {
    process.stderr.write('README.md configuration table is out of date: run `npm run docs:config`\n')
    process.exit(1)
  }
} else {
  writeFileSync(readmeUrl, updated)
}
