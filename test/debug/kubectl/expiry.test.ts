// The expiry wrapper: an ephemeral container's process ends at the session's
// expiry (`timeout -s KILL`), with the request's command intent kept after the prefix.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildEphemeralContainer, wrapForExpiry } from '../../../src/debug/kubectl/index.ts'
import { compilePolicy } from '../../../src/policy/policy.ts'
import { defaultPolicy } from '../../../src/policy/default.ts'
import { classifyCommand } from '../../../src/sim/kubelet/process.ts'
import type { Pod } from '../../../src/kube/types.ts'

const pod: Pod = { metadata: { name: 'web', namespace: 'demo' }, spec: { containers: [{ name: 'app', image: 'nginx' }] } }

test('no command: the image\'s default shell under timeout; command kept after the prefix; args-only keeps args', () => {
  const wrap = { seconds: 600, defaultCommand: ['sh'] }
  assert.deepEqual(wrapForExpiry({ name: 'd' }, wrap).command, ['timeout', '-s', 'KILL', '600', 'sh'])
  const withCommand = wrapForExpiry({ name: 'd', command: ['ss', '-tanp'], args: ['x'] }, wrap)
  assert.deepEqual(withCommand.command, ['timeout', '-s', 'KILL', '600', 'ss', '-tanp'])
  assert.deepEqual(withCommand.args, ['x'])
  const argsOnly = wrapForExpiry({ name: 'd', args: ['sleep', '5'] }, wrap)
  assert.deepEqual(argsOnly.command, ['timeout', '-s', 'KILL', '600'])
  assert.deepEqual(argsOnly.args, ['sleep', '5'])
  assert.deepEqual(wrapForExpiry({ name: 'd' }, { seconds: 0.2, defaultCommand: ['sh'] }).command?.slice(0, 4), ['timeout', '-s', 'KILL', '1'])
})

test('the builder wraps before attribution; without the option nothing changes (plain kubectl)', () => {
  const plain = buildEphemeralContainer(pod, { image: 'busybox:1.36' })
  assert.equal(plain.container.command, undefined)
  const wrapped = buildEphemeralContainer(pod, { image: 'busybox:1.36', command: ['sh', '-c', 'ss -tanp'] }, { expiry: { seconds: 3600, defaultCommand: ['sh'] } })
  assert.deepEqual(wrapped.container.command, ['timeout', '-s', 'KILL', '3600', 'sh', '-c', 'ss -tanp'])
  assert.deepEqual(wrapped.patch.spec.ephemeralContainers[0]?.command, wrapped.container.command)
})

test('policy: on by default for busybox, alpine, netshoot at any tag or digest; not for images with an ENTRYPOINT; [] turns it off', () => {
  const p = compilePolicy(defaultPolicy)
  assert.deepEqual(p.expiryCommandFor('busybox:1.36'), ['sh'])
  assert.deepEqual(p.expiryCommandFor(`alpine@sha256:${'a'.repeat(64)}`), ['sh'])
  assert.deepEqual(p.expiryCommandFor('nicolaka/netshoot:v0.13'), ['zsh'])
  assert.equal(p.expiryCommandFor('wbitt/network-multitool:latest'), undefined)
  assert.equal(p.expiryCommandFor('registry.k8s.io/e2e-test-images/agnhost:2.39'), undefined)
  assert.equal(p.expiryCommandFor('evil/busybox:1'), undefined)
  assert.equal(p.expiryCommandFor('not a ref'), undefined)
  assert.equal(compilePolicy({ ...defaultPolicy, expiryWrapper: [] }).expiryCommandFor('busybox:1.36'), undefined)
})

test('the simulated container runs the wrapped command', () => {
  assert.deepEqual(classifyCommand({ command: ['timeout', '-s', 'KILL', '60', 'sh'], stdin: true }), { kind: 'interactive' })
  assert.deepEqual(classifyCommand({ command: ['timeout', '-s', 'KILL', '60', 'sh', '-c', 'echo hi'], stdin: false }), { kind: 'script', lines: ['echo hi'] })
})
