import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { NamespaceAccess } from '../../src/drops/access.ts'
import { FakeAuthorizer } from './fakes.ts'

const who = { user: 'alice', groups: ['dev'] }

describe('NamespaceAccess', () => {
  test('per-namespace decisions are asked once (list and watch) and reused until stale', async () => {
    let now = 0
    const auth = new FakeAuthorizer()
    auth.allowed.add('demo')
    const a = new NamespaceAccess({ identity: who, authorizer: auth, recheckMs: 1000, now: () => now })
    assert.equal(a.allows('demo'), undefined)
    await Promise.all([a.check('demo'), a.check('demo')])
    await a.check('payments')
    assert.equal(a.allows('demo'), true)
    assert.equal(a.allows('payments'), false)
    // cluster scope (list + watch) once, then list + watch per namespace
    assert.equal(auth.calls, 2 + 2 + 2)
    now = 1500
    assert.equal(a.allows('demo'), undefined, 'stale decisions are asked again')
    auth.allowed.delete('demo')
    await a.check('demo')
    assert.equal(a.allows('demo'), false)
  })

  test('a cluster-wide allowance answers for every namespace without more reviews', async () => {
    const auth = new FakeAuthorizer()
    auth.allowed.add('')
    const a = new NamespaceAccess({ identity: who, authorizer: auth, recheckMs: 1000 })
    await a.check('anything')
    const calls = auth.calls
    assert.equal(a.allows('payments'), true)
    assert.equal(a.allows('kube-system'), true)
    assert.equal(auth.calls, calls)
  })

  test('fixed namespace: other namespaces are never allowed; revalidate reports revocation', async () => {
    const auth = new FakeAuthorizer()
    auth.allowed.add('demo')
    auth.allowed.add('')
    const a = new NamespaceAccess({ identity: who, authorizer: auth, recheckMs: 1000, namespace: 'demo' })
    a.grant('demo')
    assert.equal(a.allows('demo'), true)
    assert.equal(a.allows('payments'), false, 'even with cluster-wide rights, a namespaced stream is that namespace only')
    assert.equal(await a.revalidate(), true)
    auth.fail = true
    assert.equal(await a.revalidate(), true, 'an API server hiccup does not end the stream')
    assert.equal(a.allows('demo'), false, 'but withholds its drops')
    auth.fail = false
    auth.allowed.delete('demo')
    assert.equal(await a.revalidate(), false)
  })

  test('a review that fails denies, briefly', async () => {
    let now = 0
    const auth = new FakeAuthorizer()
    auth.allowed.add('demo')
    auth.fail = true
    const a = new NamespaceAccess({ identity: who, authorizer: auth, recheckMs: 60_000, errorTtlMs: 100, now: () => now })
    await a.check('demo')
    assert.equal(a.allows('demo'), false)
    auth.fail = false
    now = 200
    await a.check('demo')
    assert.equal(a.allows('demo'), true)
  })
})
