// The simulated API server must not share code with the gateway it tests
// (only the neutral src/lib/), or a gateway bug could hide in both.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

const simDir = new URL('../../src/sim/', import.meta.url).pathname

function tsFiles (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(e => e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [])
}

test('src/sim imports nothing from the gateway (only src/sim and src/lib)', () => {
  const offenders: string[] = []
  for (const file of tsFiles(simDir)) {
    for (const m of readFileSync(file, 'utf8').matchAll(/from '(\.\.?\/[^']+)'/g)) {
      const target = new URL(m[1] as string, `file://${file}`).pathname
      if (!target.startsWith(simDir) && !target.includes('/src/lib/')) offenders.push(`${file.slice(simDir.length)} → ${m[1] as string}`)
    }
  }
  assert.deepEqual(offenders, [])
})
