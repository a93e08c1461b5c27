// The sim reports a Kubernetes release inside the range the README states the
// gateway's behaviour is tested against.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { VERSION_INFO } from '../../../src/sim/apiserver/discovery.ts'

test('the sim\'s /version is a release in the README\'s tested range (1.32–1.35), at or above the supported minimum (1.30)', () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8')
  const range = /tested behaviour|behaviour the tests pin down is that of the upstream-supported releases\s+1\.(\d+)–1\.(\d+)/.exec(readme)
  assert.ok(range, 'README states the tested range')
  const min = /Supported: API servers \*\*1\.(\d+) and newer\*\*/.exec(readme)
  assert.ok(min, 'README states the minimum')
  const minor = Number(VERSION_INFO.minor)
  assert.ok(minor >= Number(range[1]) && minor <= Number(range[2]), `sim minor ${minor}`)
  assert.ok(minor >= Number(min[1]))
  assert.equal(VERSION_INFO.gitVersion.startsWith(`v1.${VERSION_INFO.minor}.`), true)
})
