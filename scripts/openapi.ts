// npm run openapi          → writes openapi/openapi.json from the route schemas
// npm run openapi -- --check → exits 1 when the committed file has drifted
import { readFileSync, writeFileSync } from 'node:fs'
import { generateOpenApi, renderOpenApi } from '../src/openapi-spec.ts'

const target = new URL('../openapi/openapi.json', import.meta.url)
const text = renderOpenApi(await generateOpenApi())
if (process.argv.includes('--check')) {
  let committed = ''
  try { committed = readFileSync(target, 'utf8') } catch {}
  if (committed !== text) {
    process.stderr.write('openapi/openapi.json is out of date: run `npm run openapi`\n')
    process.exit(1)
  }
  process.stdout.write('openapi/openapi.json is up to date\n')
} else {
  writeFileSync(target, text)
  process.stdout.write(`wrote ${target.pathname}\n`)
}
