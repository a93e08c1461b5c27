import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { buildEphemeralContainer, buildNodeDebugPod, buildPodCopy, normalizeCapability } from '../../../src/debug/kubectl/index.ts'
import { readEnvAttribution, readPodAttribution } from '../../../src/sessions/attribution.ts'
import { applySecurityAdditions } from '../../../src/debug/kubectl/additions.ts'
import type { Container } from '../../../src/kube/types.ts'
import { pod } from '../../helpers/kubectl-fixtures.ts'

const attribution = { sessionId: 's-1', requestedBy: 'alice', reason: 'why', ticket: 'T-1', expiresAt: '2026-11-27T12:00:00Z', idempotencyKey: 'k', requestHash: 'h' }

describe('attribution round trip', () => {
  test('ephemeral container env', () => {
    const { container } = buildEphemeralContainer(pod({}), { image: 'busybox' }, { attribution })
    assert.deepEqual(readEnvAttribution(container), attribution)
    assert.equal(readEnvAttribution({ name: 'x', env: [{ name: 'KDEBUG_SESSION', value: 's' }] }), undefined)
  })

  test('pods: copy and node', () => {
    const copy = buildPodCopy(pod({ name: 'web' }, { containers: [{ name: 'a' }] }), { image: 'busybox', container: 'dbg' }, { attribution }).pod
    assert.deepEqual(readPodAttribution(copy), { ...attribution, kind: 'copy', container: 'dbg', copyOf: 'web' })
    const node = buildNodeDebugPod('n1', { image: 'busybox' }, { attribution }).pod
    assert.deepEqual(readPodAttribution(node), { ...attribution, kind: 'node', container: 'debugger' })
  })

  test('pods that are not ours', () => {
    assert.equal(readPodAttribution(pod({ labels: { 'kdebug.io/session': 's' }, annotations: { 'kdebug.io/requested-by': 'x' } })), undefined)
    assert.equal(readPodAttribution(buildNodeDebugPod('n1', { image: 'busybox' }).pod), undefined)
  })
})

describe('applySecurityAdditions', () => {
  test('nothing asked, same object back', () => {
    const c = { name: 'a' }
    assert.equal(applySecurityAdditions(c, {}), c)
  })

  test('does not modify its input; creates securityContext as needed', () => {
    const c = { name: 'a', securityContext: { capabilities: { add: ['SYS_PTRACE'] } } }
    const out = applySecurityAdditions(c, { capabilities: { add: ['sys_ptrace', 'cap_net_raw'] } })
    assert.deepEqual(c.securityContext.capabilities.add, ['SYS_PTRACE'])
    assert.deepEqual(out.securityContext?.capabilities?.add, ['SYS_PTRACE', 'NET_RAW'])
    const bare: Container = { name: 'b' }
    assert.deepEqual(applySecurityAdditions(bare, { runAsUser: 5 }).securityContext, { runAsUser: 5 })
  })

  test('normalizeCapability', () => {
    assert.equal(normalizeCapability('cap_sys_admin'), 'SYS_ADMIN')
    assert.equal(normalizeCapability(' NET_RAW '), 'NET_RAW')
    assert.equal(normalizeCapability('ALL'), 'ALL')
  })
})

describe('fields that belong to another action', () => {
  test('copy-only fields on an ephemeral container or node pod, target on a node pod', () => {
    assert.throws(() => buildEphemeralContainer(pod({}), { image: 'busybox', sameNode: true } as never), { name: 'SpecError', field: 'sameNode', message: 'sameNode may only be used with copies' })
    assert.throws(() => buildEphemeralContainer(pod({}), { image: 'busybox', namespace: 'x' } as never), { field: 'namespace' })
    assert.throws(() => buildNodeDebugPod('n', { image: 'busybox', setImage: { '*': 'x' } } as never), { field: 'setImage' })
    assert.throws(() => buildNodeDebugPod('n', { image: 'busybox', target: 'app' } as never), { field: 'target', message: 'target may only be used with ephemeral containers' })
  })
})
