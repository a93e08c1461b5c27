// npm run openapi          → writes openapi/openapi.json from the route schemas and
//                            openapi/asyncapi.yaml from the stream schemas
// npm run openapi -- --check → exits 1 when a committed file has drifted
import { readFileSync, writeFileSync } from 'node:fs'
import { generateOpenApi, renderOpenApi } from '../src/openapi-spec.ts'
import { generateAsyncApi, renderAsyncApi } from '../src/asyncapi-spec.ts'

const files = [
  { target: new URL('../openapi/openapi.json', import.meta.url), text: renderOpenApi(await generateOpenApi()) },
  { target: new URL('../openapi/asyncapi.yaml', import.meta.url), text: renderAsyncApi(generateAsyncApi()) }
]
let stale = false
for (const { target, text } of files) {
  if (process.argv.includes('--check')) {
    let committed = ''
    try { committed = readFileSync(target, 'utf8') } catch {}
    if (committed !== text) {
      process.stderr.write(`${target.pathname} is out of date: run \`npm run openapi\`\n`)
      stale = true
    } else {
      process.stdout.write(`${target.pathname} is up to date\n`)
    }
  } else {
    writeFileSync(target, text)
    process.stdout.write(`wrote ${target.pathname}\n`)
  }
}
if (stale) process.exit(1)
