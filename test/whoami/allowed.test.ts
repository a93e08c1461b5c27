// `allowed` of GET /v1/whoami?namespace=: what a debug form may offer, over
// real HTTP against the sim. It must agree with what the actions then do: the
// same rule, the actions RBAC and policy both allow, and the live session count
// the create path refuses with.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startDebugStack, testPolicy, type DebugStack } from '../helpers/debug-stack.ts'
import { defaultPolicy } from '../../src/policy/default.ts'
import type { Policy } from '../../src/policy/config-schema.ts'
import { jsonOf } from '../helpers/http.ts'

let s: DebugStack
before(async () => { s = await startDebugStack({ config: { drops: { enabled: false } }, policy: testPolicy({ developersMaxSessions: 2 }) }) })
after(async () => { await s.close() })

const allowed = async (as: string, ns: string): Promise<any> => {
  const res = await s.request(`/v1/whoami?namespace=${ns}`, { as })
  assert.equal(res.status, 200)
  return (await jsonOf(res)).allowed
}

test('alice in demo: the developers rule, its allowances as written, and the actions both RBAC and the rule allow', async () => {
  const a = await allowed('alice', 'demo')
  const dev = defaultPolicy.rules.find(r => r.name === 'developers')?.allow
  assert.ok(dev)
  assert.equal(a.rule, 'developers')
  assert.deepEqual(a.actions, ['ephemeral', 'copy', 'attach', 'logs'])
  assert.deepEqual(a.images, dev.images)
  assert.deepEqual(a.profiles, dev.profiles)
  assert.deepEqual(a.capabilities, dev.capabilities)
  assert.equal(a.privileged, false)
  assert.equal(a.nodeDebug, false)
  assert.equal(a.podSecurity, 'baseline')
  assert.equal(a.secretEnv, false)
  assert.equal(a.attachOthers, false)
  assert.deepEqual(a.ttl, { maxSeconds: 3600, defaultSeconds: 3600 })
  assert.equal(a.reasonRequired, true)
  assert.deepEqual(a.sessions, { used: 0, limit: 2 })
})

test('alice in payments: the rule matches, but RBAC allows nothing there, so no action is offered', async () => {
  const a = await allowed('alice', 'payments')
  assert.equal(a.rule, 'developers')
  assert.deepEqual(a.actions, [])
})

test('bob matches no rule: rule null and nothing allowed (the debug button stays hidden)', async () => {
  const a = await allowed('bob', 'demo')
  assert.equal(a.rule, null)
  assert.deepEqual(a.actions, [])
  assert.deepEqual(a.images, [])
  assert.deepEqual(a.sessions, { used: 0, limit: 0 })
})

test('carol (sre): node debugging, privileged, other users\' sessions; the rule\'s own default TTL', async () => {
  const a = await allowed('carol', 'payments')
  assert.equal(a.rule, 'sre')
  assert.deepEqual(a.actions, ['ephemeral', 'copy', 'node', 'attach', 'logs'])
  assert.equal(a.nodeDebug, true)
  assert.equal(a.privileged, true)
  assert.equal(a.attachOthers, true)
  assert.equal(a.podSecurity, 'privileged')
  assert.deepEqual(a.ttl, { maxSeconds: 4 * 3600, defaultSeconds: 3600 })
})

test('without ?namespace= there is no `allowed`', async () => {
  const body = await jsonOf(await s.request('/v1/whoami', { as: 'alice' }))
  assert.equal(body.allowed, undefined)
})

test('sessions.used is the count the create path refuses with: at the limit whoami says so and a create gets 429', async () => {
  for (let i = 0; i < 2; i++) {
    const r = await s.post('/v1/namespaces/demo/pods/web/ephemeral-containers', 'dave', { image: 'busybox:1.36', reason: `limit ${i}` })
    assert.equal(r.status, 201, JSON.stringify(r.body))
    assert.deepEqual((await allowed('dave', 'demo')).sessions, { used: i + 1, limit: 2 })
  }
  const refused = await s.post('/v1/namespaces/demo/pods/web/ephemeral-containers', 'dave', { image: 'busybox:1.36', reason: 'one too many' })
  assert.equal(refused.status, 429)
  assert.deepEqual((await allowed('dave', 'demo')).sessions, { used: 2, limit: 2 })
})

test('a rule without requireReason and with a default TTL: reasonRequired false, that TTL; actions the rule lists only', async () => {
  const policy: Policy = {
    rules: [{
      name: 'quiet',
      match: { users: ['alice'] },
      allow: { images: ['busybox:*'], capabilities: [], profiles: ['general'], privileged: false, nodeDebug: false, maxTtlSeconds: 900, defaultTtlSeconds: 300, requireReason: false, maxSessionsPerUser: 1, actions: ['attach', 'logs'] }
    }]
  }
  const t = await startDebugStack({ config: { drops: { enabled: false } }, policy })
  try {
    const a = (await jsonOf(await t.request('/v1/whoami?namespace=demo', { as: 'alice' }))).allowed
    assert.equal(a.rule, 'quiet')
    assert.deepEqual(a.actions, ['attach', 'logs'])
    assert.equal(a.reasonRequired, false)
    assert.deepEqual(a.ttl, { maxSeconds: 900, defaultSeconds: 300 })
    assert.deepEqual(a.images, ['busybox:*'])
    // and the action it hides is refused by the same rule
    const r = await t.post('/v1/namespaces/demo/pods/web/ephemeral-containers', 'alice', { image: 'busybox:1.36' })
    assert.equal(r.status, 403)
    assert.equal(r.body.rule, 'quiet')
  } finally {
    await t.close()
  }
})
