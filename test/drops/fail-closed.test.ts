// Drops JSON fails closed: when SubjectAccessReviews cannot be decided (the API
// server's authorizer fails), the list is a 503 with Retry-After, never an
// empty or partial 200 — with an empty buffer as well as with drops in it.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startDropsStack, type DropsStack } from '../helpers/drops-stack.ts'

let s: DropsStack
before(async () => { s = await startDropsStack({}) })
after(async () => { await s.close() })

const failReviews = (): void => { s.sim.faults.set({ errorRate: 1, errorCodes: [500], pathPrefix: '/apis/authorization.k8s.io' }) }

test('empty buffer, reviews failing: 503 (dave, never asked before)', async () => {
  failReviews()
  try {
    const res = await s.request('/v1/drops', { as: 'dave' })
    assert.equal(res.status, 503)
    assert.ok(Number(res.headers.get('retry-after')) >= 1)
    assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/)
  } finally {
    s.sim.faults.reset()
  }
})

test('drops in the buffer, reviews failing: 503 for every caller whose decision is not cached, both routes', async () => {
  await s.sim.drops.cilium({ namespace: 'demo', pod: 'web', direction: 'ingress', peer: 'demo/api', peerIP: '10.244.1.9', l4: 'TCP/8080' })
  await s.sim.drops.cilium({ namespace: 'payments', pod: 'ledger', direction: 'ingress', peer: 'demo/web', peerIP: '10.244.1.9', l4: 'TCP/5432' })
  failReviews()
  try {
    for (const [as, path] of [['alice', '/v1/drops'], ['bob', '/v1/drops?namespace=demo'], ['carol', '/v1/drops?limit=5'], ['alice', '/v1/namespaces/demo/drops']] as const) {
      const res = await s.request(path, { as })
      assert.equal(res.status, 503, `${as} ${path}`)
    }
  } finally {
    s.sim.faults.reset()
  }
  const ok = await s.request('/v1/drops', { as: 'alice' })
  assert.equal(ok.status, 200)
})
