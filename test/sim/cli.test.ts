// `npm run sim` arguments.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseCliArgs } from '../../src/sim/cli.ts'

test('cli arguments', () => {
  const a = parseCliArgs(['--port', '0', '--kubeconfig', '/tmp/k'])
  assert.equal(a.port, 0)
  assert.equal(a.kubeconfig, '/tmp/k')
  assert.throws(() => parseCliArgs(['--port', 'x']), /not a port number/)
  assert.throws(() => parseCliArgs(['--nope']))
})
