// The CLI is a client of the gateway's public API: no code of the gateway (or
// the sim) runs in it, so nothing it does can skip authn → authz → policy → audit.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

const cliDir = new URL('../../src/cli/', import.meta.url).pathname

function tsFiles (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(e => e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [])
}

test('src/cli imports only src/cli, node: modules and its client libraries', () => {
  const allowedPackages = new Set(['ws', 'yaml', 'eventsource-parser', '@kubernetes/client-node'])
  const offenders: string[] = []
  for (const file of tsFiles(cliDir)) {
    for (const m of readFileSync(file, 'utf8').matchAll(/(?:from|import\()\s*'([^']+)'/g)) {
      const spec = m[1] as string
      if (spec.startsWith('.')) {
        if (!new URL(spec, `file://${file}`).pathname.startsWith(cliDir)) offenders.push(`${file.slice(cliDir.length)} → ${spec}`)
      } else if (!spec.startsWith('node:') && !allowedPackages.has(spec)) {
        offenders.push(`${file.slice(cliDir.length)} → ${spec}`)
      }
    }
  }
  assert.deepEqual(offenders, [])
})
