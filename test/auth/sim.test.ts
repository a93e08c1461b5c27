// Authentication and authorization against the simulated cluster: real
// TokenReviews and SubjectAccessReviews, caches, and fail-closed outages.
import { test, before, after } from 'node:test'
import { jsonOf } from '../helpers/http.ts'
import assert from 'node:assert/strict'
import { startStack, type Stack } from '../helpers/stack.ts'
import { ManualClock } from '../helpers/clock.ts'

let stack: Stack
const clock = new ManualClock()
before(async () => {
  stack = await startStack({ clock: clock.now, config: { authentication: { cacheTtlSeconds: 1 }, authorization: { allowTtlSeconds: 1, denyTtlSeconds: 1 } } })
})
after(async () => { await stack.close() })

test('an unknown token is 401 with a Bearer challenge, never reaching a response body', async () => {
  const res = await stack.request('/v1/whoami', { token: 'not-a-real-token-xyz' })
  assert.equal(res.status, 401)
  assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/)
  assert.doesNotMatch(await res.text(), /not-a-real-token-xyz/)
})

test('a malformed Authorization header is 401', async () => {
  const res = await stack.request('/v1/whoami', { headers: { authorization: 'Basic YWxpY2U6eA==' } })
  assert.equal(res.status, 401)
})

test('a revoked token keeps working until the cache TTL, then stops', async () => {
  stack.sim.authn.add('temp-token', { username: 'temp', groups: ['dev'] })
  assert.equal((await stack.request('/v1/whoami', { token: 'temp-token' })).status, 200)
  stack.sim.authn.revoke('temp-token')
  // Cached: still accepted right after revocation (the documented trade-off of the TTL).
  assert.equal((await stack.request('/v1/whoami', { token: 'temp-token' })).status, 200)
  clock.advance(999)
  assert.equal((await stack.request('/v1/whoami', { token: 'temp-token' })).status, 200)
  clock.advance(2)
  assert.equal((await stack.request('/v1/whoami', { token: 'temp-token' })).status, 401)
})

test('delegation: groups are checked one by one against the bot\'s impersonate rights', async () => {
  const ok = await stack.request('/v1/whoami', { as: 'chatbot', headers: { 'impersonate-user': 'alice', 'impersonate-group': 'dev' } })
  assert.equal(ok.status, 200)
  assert.deepEqual((await jsonOf(ok)).groups.filter((g: string) => g !== 'system:authenticated'), ['dev'])
  const bad = await stack.request('/v1/whoami', { as: 'chatbot', headers: [['impersonate-user', 'alice'], ['impersonate-group', 'dev'], ['impersonate-group', 'sre']] })
  assert.equal(bad.status, 403)
  const body = await jsonOf(bad)
  assert.match(body.detail + JSON.stringify(body), /sre/)
  const notAllowedUser = await stack.request('/v1/whoami', { as: 'chatbot', headers: { 'impersonate-user': 'carol' } })
  assert.equal(notAllowedUser.status, 403)
  const notABot = await stack.request('/v1/whoami', { as: 'alice', headers: { 'impersonate-user': 'bob' } })
  assert.equal(notABot.status, 403)
})

test('the API server being unreachable is a 503 with Retry-After, never an allow or a 401', async () => {
  stack.sim.authn.add('fresh-token', { username: 'fresh', groups: ['dev'] })
  stack.sim.faults.set({ refuseConnections: true })
  try {
    const res = await stack.request('/v1/whoami', { token: 'fresh-token' })
    assert.equal(res.status, 503)
    assert.ok(Number(res.headers.get('retry-after')) > 0)
    const ready = await stack.request('/readyz')
    assert.equal(ready.status, 503)
  } finally {
    stack.sim.faults.reset()
  }
  assert.equal((await stack.request('/v1/whoami', { token: 'fresh-token' })).status, 200)
})

test('SAR outage on a cached identity: the can-map request fails with 503', async () => {
  assert.equal((await stack.request('/v1/whoami', { as: 'bob' })).status, 200)
  stack.sim.faults.set({ errorRate: 1, errorCodes: [500], pathPrefix: '/apis/authorization.k8s.io' })
  try {
    clock.advance(1001) // bob's cached decisions expire
    const res = await stack.request('/v1/whoami?namespace=demo', { as: 'bob' })
    assert.equal(res.status, 503)
  } finally {
    stack.sim.faults.reset()
  }
})

test('delegation switched off: Impersonate-* headers are refused with 400, not ignored', async () => {
  const off = await startStack({ config: { authorization: { delegation: false }, drops: { enabled: false } } })
  try {
    const res = await off.request('/v1/whoami', { as: 'chatbot', headers: { 'impersonate-user': 'alice' } })
    assert.equal(res.status, 400)
    assert.match((await jsonOf(res)).detail, /delegation is disabled/)
    assert.equal((await off.request('/v1/whoami', { as: 'chatbot' })).status, 200)
  } finally {
    await off.close()
  }
})
