import { test, describe, beforeEach, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { TokenReviewAuthenticator, tokenHash } from '../../src/auth/tokenreview.ts'
import { SarAuthorizer } from '../../src/auth/authorizer.ts'
import { FakeReviewClient, startTestApp, get, bearer, type TestApp } from '../helpers/auth-fakes.ts'
import { ManualClock } from '../helpers/clock.ts'
import { loopTurns } from '../helpers/event-loop.ts'

const ALICE = { user: 'alice', uid: 'u-1', groups: ['dev', 'system:authenticated'] }

describe('tokenreview authentication', () => {
  let client: FakeReviewClient
  let t: TestApp

  let clock: ManualClock
  let authenticator: TokenReviewAuthenticator
  async function start (ttlMs: number, audiences?: string[]): Promise<void> {
    clock = new ManualClock()
    authenticator = new TokenReviewAuthenticator({ client, ttlMs, clock: clock.now, ...(audiences ? { audiences } : {}) })
    t = await startTestApp({ authenticator, client })
  }

  beforeEach(() => {
    client = new FakeReviewClient()
    client.tokens.set('tok-alice', ALICE)
    client.rules.push({ user: 'alice', verb: 'list', resource: 'pods', namespace: 'demo' })
  })
  afterEach(async () => { await t?.close() })

  test('a valid token gives the identity the TokenReview returned', async () => {
    await start(10_000)
    const res = await get(`${t.url}/whoami`, bearer('tok-alice'))
    assert.equal(res.status, 200)
    assert.deepEqual(res.body, { ...ALICE, method: 'tokenreview' })
  })

  test('system:authenticated is added when the review did not include it', async () => {
    client.tokens.set('tok-bob', { user: 'bob', groups: ['ops'] })
    await start(10_000)
    const res = await get(`${t.url}/whoami`, bearer('tok-bob'))
    assert.deepEqual(res.body.groups, ['ops', 'system:authenticated'])
  })

  test('absent token → 401 with a Bearer challenge and no upstream call', async () => {
    await start(10_000)
    const res = await get(`${t.url}/whoami`)
    assert.equal(res.status, 401)
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="kdebug-gateway"')
    assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8')
    assert.equal(res.body.status, 401)
    assert.equal(client.tokenReviewCalls.length, 0)
  })

  test('malformed Authorization header → 401 invalid_request', async () => {
    await start(10_000)
    for (const header of ['Basic YWxpY2U6cHc=', 'Bearer', 'Bearer a b', 'tok-alice']) {
      const res = await get(`${t.url}/whoami`, { authorization: header })
      assert.equal(res.status, 401, header)
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="kdebug-gateway", error="invalid_request"')
    }
    assert.equal(client.tokenReviewCalls.length, 0)
  })

  test('invalid token → 401 invalid_token, and the token appears nowhere in the reply', async () => {
    await start(10_000)
    const res = await get(`${t.url}/whoami`, bearer('tok-nobody-knows'))
    assert.equal(res.status, 401)
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="kdebug-gateway", error="invalid_token"')
    assert.ok(!JSON.stringify(res.body).includes('tok-nobody-knows'))
    assert.ok(![...res.headers.values()].some(v => v.includes('tok-nobody-knows')))
  })

  test('scheme is case-insensitive', async () => {
    await start(10_000)
    const res = await get(`${t.url}/whoami`, { authorization: 'bearer tok-alice' })
    assert.equal(res.status, 200)
  })

  test('routes with config.auth=false need no token', async () => {
    await start(10_000)
    const res = await get(`${t.url}/healthz`)
    assert.equal(res.status, 200)
  })

  test('unknown routes answer 404, not 401', async () => {
    await start(10_000)
    const res = await get(`${t.url}/no/such/thing`)
    assert.equal(res.status, 404)
  })

  test('successful reviews are cached by token hash', async () => {
    await start(10_000)
    for (let i = 0; i < 5; i++) assert.equal((await get(`${t.url}/whoami`, bearer('tok-alice'))).status, 200)
    assert.equal(client.tokenReviewCalls.length, 1)
    const authn = new TokenReviewAuthenticator({ client, ttlMs: 10_000 })
    await authn.authenticate('tok-alice')
    await authn.authenticate('tok-alice')
    assert.deepEqual(authn.stats(), { hits: 1, misses: 1, coalesced: 0, size: 1 })
    assert.equal(tokenHash('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
  })

  test('a revoked token stops working once the TTL has passed', async () => {
    await start(150)
    assert.equal((await get(`${t.url}/whoami`, bearer('tok-alice'))).status, 200)
    client.tokens.delete('tok-alice')
    assert.equal((await get(`${t.url}/whoami`, bearer('tok-alice'))).status, 200, 'still cached')
    clock.advance(200)
    assert.equal((await get(`${t.url}/whoami`, bearer('tok-alice'))).status, 401)
    assert.equal(client.tokenReviewCalls.length, 2)
  })

  test('failures are not cached: a token that becomes valid works at once', async () => {
    await start(10_000)
    assert.equal((await get(`${t.url}/whoami`, bearer('tok-late'))).status, 401)
    assert.equal((await get(`${t.url}/whoami`, bearer('tok-late'))).status, 401)
    assert.equal(client.tokenReviewCalls.length, 2)
    client.tokens.set('tok-late', { user: 'late', groups: [] })
    assert.equal((await get(`${t.url}/whoami`, bearer('tok-late'))).status, 200)
  })

  test('API server down → 503 with Retry-After, not 401; the error is not cached', async () => {
    await start(10_000)
    client.down = true
    const res = await get(`${t.url}/whoami`, bearer('tok-alice'))
    assert.equal(res.status, 503)
    assert.equal(res.headers.get('retry-after'), '5')
    assert.equal(res.headers.get('www-authenticate'), null)
    client.down = false
    assert.equal((await get(`${t.url}/whoami`, bearer('tok-alice'))).status, 200)
  })

  // The first review is held until the other callers have joined it (the cache counts them),
  // so "concurrent" does not depend on how fast a loaded machine sends 100 requests.
  async function holdFirstReviewUntilJoinedBy (joiners: number, requests: () => Promise<Array<{ status: number }>>): Promise<Array<{ status: number }>> {
    let open!: () => void
    client.tokenReviewGate = new Promise<void>(resolve => { open = resolve })
    const pending = requests()
    while (authenticator.stats().coalesced < joiners) await loopTurns(1)
    open()
    client.tokenReviewGate = undefined
    return await pending
  }

  test('single-flight: 100 concurrent requests with one unseen token → 1 TokenReview and 1 SAR', async () => {
    await start(10_000)
    const results = await holdFirstReviewUntilJoinedBy(99, () => Promise.all(Array.from({ length: 100 }, () => get(`${t.url}/namespaces/demo/pods`, bearer('tok-alice')))))
    assert.deepEqual(new Set(results.map(r => r.status)), new Set([200]))
    assert.equal(client.tokenReviewCalls.length, 1)
    assert.equal(client.sarCalls.length, 1)
  })

  test('single-flight failures reach every waiter and are not cached', async () => {
    await start(10_000)
    client.down = true
    const results = await holdFirstReviewUntilJoinedBy(19, () => Promise.all(Array.from({ length: 20 }, () => get(`${t.url}/whoami`, bearer('tok-alice')))))
    assert.deepEqual(new Set(results.map(r => r.status)), new Set([503]))
    assert.equal(client.tokenReviewCalls.length, 1)
    client.down = false
    assert.equal((await get(`${t.url}/whoami`, bearer('tok-alice'))).status, 200)
    assert.equal(client.tokenReviewCalls.length, 2)
  })

  test('audiences are asked for, and a token for other audiences is invalid', async () => {
    await start(10_000, ['kdebug'])
    client.audiencesAnswer = ['kdebug']
    assert.equal((await get(`${t.url}/whoami`, bearer('tok-alice'))).status, 200)
    assert.deepEqual(client.tokenReviewCalls[0], { audiences: ['kdebug'] })
    client.tokens.set('tok-other', { user: 'x', groups: [] })
    client.audiencesAnswer = ['vault']
    assert.equal((await get(`${t.url}/whoami`, bearer('tok-other'))).status, 401)
  })

  test('an absurdly long token is refused without asking the API server', async () => {
    await start(10_000)
    const res = await get(`${t.url}/whoami`, bearer('x'.repeat(13_000)))
    assert.equal(res.status, 401)
    assert.equal(client.tokenReviewCalls.length, 0)
  })

  test('authorize after authentication: allowed → 200, denied → 403 naming the permission', async () => {
    await start(10_000)
    assert.equal((await get(`${t.url}/namespaces/demo/pods`, bearer('tok-alice'))).status, 200)
    const res = await get(`${t.url}/namespaces/prod/pods`, bearer('tok-alice'))
    assert.equal(res.status, 403)
    assert.equal(res.body.permission, 'list pods in namespace prod')
    assert.deepEqual(client.sarCalls.at(-1), {
      user: 'alice',
      uid: 'u-1',
      groups: ['dev', 'system:authenticated'],
      resourceAttributes: { verb: 'list', resource: 'pods', namespace: 'prod' }
    })
  })
})

test('SarAuthorizer is usable without the plugin (sanity for the fake)', async () => {
  const client = new FakeReviewClient()
  client.rules.push({ group: 'dev', verb: 'get', resource: 'pods' })
  const authz = new SarAuthorizer({ client, allowTtlMs: 0, denyTtlMs: 0 })
  assert.equal((await authz.authorize({ user: 'a', groups: ['dev'] }, { verb: 'get', resource: 'pods' })).allowed, true)
  assert.equal((await authz.authorize({ user: 'a', groups: ['ops'] }, { verb: 'get', resource: 'pods' })).allowed, false)
})

test('stream ticket seam: ?ticket= works only on routes with config.ticket, and only without a bearer token', async () => {
  const client = new FakeReviewClient()
  client.tokens.set('tok-alice', ALICE)
  const seen: string[] = []
  const t = await startTestApp({
    authenticator: new TokenReviewAuthenticator({ client, ttlMs: 0 }),
    client,
    ticketAuthenticator: {
      async authenticate (ticket) {
        seen.push(ticket)
        return ticket === 'good' ? { user: 'alice', groups: ['system:authenticated'], method: 'ticket' } : undefined
      }
    }
  })
  try {
    assert.equal((await get(`${t.url}/stream?ticket=good`)).body.method, 'ticket')
    const bad = await get(`${t.url}/stream?ticket=bad`)
    assert.equal(bad.status, 401)
    assert.equal(bad.headers.get('www-authenticate'), 'Bearer realm="kdebug-gateway", error="invalid_token"')
    assert.equal((await get(`${t.url}/whoami?ticket=good`)).status, 401, 'not a ticket route')
    assert.equal((await get(`${t.url}/stream?ticket=good`, bearer('tok-alice'))).body.method, 'tokenreview')
    assert.deepEqual(seen, ['good', 'bad'])
  } finally {
    await t.close()
  }
})
