import { test, describe, beforeEach, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { SarAuthorizer, decisionKey } from '../../src/auth/authorizer.ts'
import { StaticTokenAuthenticator } from '../../src/auth/static-tokens.ts'
import { ProblemError } from '../../src/errors.ts'
import { FakeReviewClient, startTestApp, get, bearer, type TestApp } from '../helpers/auth-fakes.ts'
import { ManualClock } from '../helpers/clock.ts'

const ALICE = { user: 'alice', groups: ['dev', 'system:authenticated'] }
const LIST_DEMO = { verb: 'list', resource: 'pods', namespace: 'demo' }

describe('SarAuthorizer', () => {
  let client: FakeReviewClient
  beforeEach(() => {
    client = new FakeReviewClient()
    client.rules.push({ group: 'dev', verb: 'list', resource: 'pods', namespace: 'demo' })
  })

  test('allow and deny come from the SubjectAccessReview of the effective user', async () => {
    const authz = new SarAuthorizer({ client, allowTtlMs: 0, denyTtlMs: 0 })
    const allowed = await authz.authorize({ ...ALICE, method: 'static', actor: { user: 'bot', groups: [] } }, LIST_DEMO)
    assert.deepEqual(allowed, { allowed: true, reason: 'fake RBAC: allowed', cached: false })
    const denied = await authz.authorize(ALICE, { ...LIST_DEMO, namespace: 'prod' })
    assert.equal(denied.allowed, false)
    // the SAR names the effective user, never the actor; no method/actor fields leak into it
    assert.deepEqual(client.sarCalls[0], { user: 'alice', groups: ['dev', 'system:authenticated'], resourceAttributes: LIST_DEMO })
  })

  test('denied:true wins even if a rule would allow', async () => {
    client.denyRules.push({ user: 'alice', verb: 'list', resource: 'pods' })
    const authz = new SarAuthorizer({ client, allowTtlMs: 0, denyTtlMs: 0 })
    const d = await authz.authorize(ALICE, LIST_DEMO)
    assert.deepEqual(d, { allowed: false, reason: 'explicitly denied', cached: false })
  })

  test('decisions are cached; allow and deny TTLs are separate', async () => {
    const clock = new ManualClock()
    const authz = new SarAuthorizer({ client, allowTtlMs: 10_000, denyTtlMs: 80, clock: clock.now })
    const prod = { ...LIST_DEMO, namespace: 'prod' }
    assert.equal((await authz.authorize(ALICE, LIST_DEMO)).cached, false)
    assert.equal((await authz.authorize(ALICE, prod)).cached, false)
    assert.deepEqual(await authz.authorize(ALICE, LIST_DEMO), { allowed: true, reason: 'fake RBAC: allowed', cached: true })
    assert.equal((await authz.authorize(ALICE, prod)).cached, true)
    assert.equal(client.sarCalls.length, 2)
    clock.advance(120)
    client.rules.push({ user: 'alice', verb: 'list', resource: 'pods', namespace: 'prod' })
    assert.equal((await authz.authorize(ALICE, LIST_DEMO)).cached, true, 'allow still cached')
    assert.deepEqual(await authz.authorize(ALICE, prod), { allowed: true, reason: 'fake RBAC: allowed', cached: false })
    assert.equal(client.sarCalls.length, 3)
    assert.deepEqual(authz.stats(), { hits: 3, misses: 3, coalesced: 0, size: 2 })
  })

  test('the cache key ignores group order but not user, groups or attributes', () => {
    const k = decisionKey(ALICE, LIST_DEMO)
    assert.equal(k, decisionKey({ user: 'alice', groups: ['system:authenticated', 'dev'] }, LIST_DEMO))
    assert.notEqual(k, decisionKey({ user: 'bob', groups: ALICE.groups }, LIST_DEMO))
    assert.notEqual(k, decisionKey({ user: 'alice', groups: ['dev'] }, LIST_DEMO))
    assert.notEqual(k, decisionKey(ALICE, { ...LIST_DEMO, subresource: 'log' }))
    assert.notEqual(k, decisionKey({ ...ALICE, extra: { scopes: ['a'] } }, LIST_DEMO))
  })

  test('API server down → 503 ProblemError with retryAfter, never an allow, and not cached', async () => {
    const authz = new SarAuthorizer({ client, allowTtlMs: 10_000, denyTtlMs: 10_000 })
    client.down = true
    await assert.rejects(authz.authorize(ALICE, LIST_DEMO), (err: unknown) => {
      assert.ok(err instanceof ProblemError)
      assert.equal(err.status, 503)
      assert.equal(err.extras.retryAfter, 5)
      return true
    })
    client.down = false
    assert.equal((await authz.authorize(ALICE, LIST_DEMO)).allowed, true)
  })

  test('authorizeAll names the first missing permission in list order', async () => {
    client.rules.push({ user: 'alice', verb: 'get', resource: 'pods', namespace: 'demo' })
    const authz = new SarAuthorizer({ client, allowTtlMs: 0, denyTtlMs: 0 })
    await authz.authorizeAll(ALICE, [LIST_DEMO, { verb: 'get', resource: 'pods', namespace: 'demo', name: 'web' }])
    await assert.rejects(authz.authorizeAll(ALICE, [
      LIST_DEMO,
      { verb: 'patch', resource: 'pods', subresource: 'ephemeralcontainers', namespace: 'demo', name: 'web' },
      { verb: 'get', resource: 'nodes' }
    ]), (err: unknown) => {
      assert.ok(err instanceof ProblemError)
      assert.equal(err.status, 403)
      assert.equal(err.extras.permission, 'patch pods/ephemeralcontainers "web" in namespace demo')
      assert.match(err.detail, /^User "alice" cannot patch pods\/ephemeralcontainers "web" in namespace demo/)
      return true
    })
  })

  test('single-flight: concurrent identical checks make one SAR', async () => {
    client.delayMs = 50
    const authz = new SarAuthorizer({ client, allowTtlMs: 10_000, denyTtlMs: 10_000 })
    const ds = await Promise.all(Array.from({ length: 50 }, () => authz.authorize(ALICE, LIST_DEMO)))
    assert.ok(ds.every(d => d.allowed))
    assert.equal(ds.filter(d => !d.cached).length, 1)
    assert.equal(client.sarCalls.length, 1)
  })
})

describe('authorization over HTTP', () => {
  let client: FakeReviewClient
  let t: TestApp
  beforeEach(async () => {
    client = new FakeReviewClient()
    client.rules.push({ user: 'alice', verb: 'get', resource: 'pods', namespace: 'demo' })
    client.rules.push({ user: 'alice', verb: 'list', resource: 'pods', namespace: 'demo' })
    const authenticator = new StaticTokenAuthenticator([{ token: 'tok-alice', user: 'alice', groups: ['dev'] }])
    t = await startTestApp({ authenticator, client, authorizer: new SarAuthorizer({ client, allowTtlMs: 10_000, denyTtlMs: 10_000 }) })
  })
  afterEach(async () => { await t.close() })

  test('allowed → 200; a missing permission → 403 problem naming it', async () => {
    assert.equal((await get(`${t.url}/namespaces/demo/pods`, bearer('tok-alice'))).status, 200)
    const res = await get(`${t.url}/namespaces/demo/pods/web/debug`, bearer('tok-alice'))
    assert.equal(res.status, 403)
    assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8')
    assert.equal(res.body.type, 'https://kdebug.dev/problems/forbidden')
    assert.equal(res.body.permission, 'patch pods/ephemeralcontainers "web" in namespace demo')
  })

  test('API server down → 503 with Retry-After, never 200', async () => {
    client.down = true
    const res = await get(`${t.url}/namespaces/demo/pods`, bearer('tok-alice'))
    assert.equal(res.status, 503)
    assert.equal(res.headers.get('retry-after'), '5')
  })

  test('a broken review client is a 500, never an allow', async () => {
    client.broken = true
    const res = await get(`${t.url}/namespaces/demo/pods`, bearer('tok-alice'))
    assert.equal(res.status, 500)
  })
})
