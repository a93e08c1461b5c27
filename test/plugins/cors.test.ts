// CORS and WebSocket origins from one allowlist (server.cors), over real HTTP/WS
// against the sim: what a portal page on an allowed origin can do, what a page
// elsewhere cannot, and that nothing is allowed by default.
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startAttachStack, createShellPod, openWs, type AttachStack } from '../helpers/attach-stack.ts'
import { startStack } from '../helpers/stack.ts'
import { resolveConfig, ConfigError } from '../../src/config.ts'
import { jsonOf } from '../helpers/http.ts'

const PORTAL = 'http://localhost:3000'
const EVIL = 'https://evil.example'

let s: AttachStack
before(async () => { s = await startAttachStack({ config: { server: { cors: { origins: [PORTAL] } }, drops: { enabled: true } } }) })
after(async () => { await s.close() })

function preflight (path: string, origin: string, method = 'GET', headers = 'authorization'): Promise<Response> {
  return fetch(s.url + path, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers } })
}

describe('allowed origin', () => {
  test('preflight of a POST with a bearer token and JSON: 204 naming the origin, methods, headers and max-age', async () => {
    const res = await preflight('/v1/stream-tickets', PORTAL, 'POST', 'authorization,content-type')
    assert.equal(res.status, 204)
    assert.equal(res.headers.get('access-control-allow-origin'), PORTAL)
    assert.match(res.headers.get('access-control-allow-methods') ?? '', /\bPOST\b/)
    assert.match(res.headers.get('access-control-allow-methods') ?? '', /\bDELETE\b/)
    const allowed = (res.headers.get('access-control-allow-headers') ?? '').split(/\s*,\s*/)
    for (const h of ['authorization', 'content-type', 'idempotency-key']) assert.ok(allowed.includes(h), h)
    assert.equal(res.headers.get('access-control-max-age'), '600')
    assert.equal(res.headers.get('access-control-allow-credentials'), null)
    assert.match(res.headers.get('vary') ?? '', /origin/i)
  })

  test('preflight works on every kind of /v1 route: JSON, SSE, the attach WebSocket path, sessions DELETE', async () => {
    for (const [path, method] of [
      ['/v1/whoami?namespace=demo', 'GET'],
      ['/v1/namespaces/demo/drops', 'GET'],
      ['/v1/drops', 'GET'],
      ['/v1/namespaces/demo/pods/web/attach?container=app', 'GET'],
      ['/v1/sessions/s-1', 'DELETE'],
      ['/v1/namespaces/demo/pods/web/ephemeral-containers', 'POST']
    ] as const) {
      const res = await preflight(path, PORTAL, method)
      assert.equal(res.status, 204, `${method} ${path}`)
      assert.equal(res.headers.get('access-control-allow-origin'), PORTAL, path)
    }
  })

  test('the actual request gets the origin back and may read the request id', async () => {
    const res = await s.request('/v1/whoami?namespace=demo', { as: 'alice', headers: { origin: PORTAL } })
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('access-control-allow-origin'), PORTAL)
    assert.match(res.headers.get('access-control-expose-headers') ?? '', /x-request-id/)
    assert.match(res.headers.get('vary') ?? '', /origin/i)
  })

  test('problems carry the CORS headers too, so a page can read why it was refused', async () => {
    const res = await s.request('/v1/whoami', { headers: { origin: PORTAL } })
    assert.equal(res.status, 401)
    assert.equal(res.headers.get('access-control-allow-origin'), PORTAL)
    assert.match(res.headers.get('access-control-expose-headers') ?? '', /www-authenticate/)
  })

  test('the SSE stream answers with the CORS headers', async () => {
    const ac = new AbortController()
    const res = await s.request('/v1/namespaces/demo/drops', { as: 'alice', headers: { origin: PORTAL, accept: 'text/event-stream' }, signal: ac.signal })
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/)
    assert.equal(res.headers.get('access-control-allow-origin'), PORTAL)
    ac.abort()
  })

  test('a WebSocket upgrade from the allowed origin and from the gateway\'s own origin is let through', async () => {
    const pod = await createShellPod(s.sim)
    for (const origin of [PORTAL, s.url]) {
      const { ws } = await openWs(`${s.wsUrl}/v1/namespaces/demo/pods/${pod}/attach?container=sh`, [], { headers: { authorization: 'Bearer alice-token', origin } })
      ws.close()
    }
  })
})

describe('other origins', () => {
  test('preflight refused with a 403 problem and no CORS headers', async () => {
    const res = await preflight('/v1/stream-tickets', EVIL, 'POST')
    assert.equal(res.status, 403)
    assert.equal(res.headers.get('access-control-allow-origin'), null)
    assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/)
    const body = await jsonOf(res)
    assert.equal(body.type, 'https://kdebug.dev/problems/origin-forbidden')
    assert.match(body.detail, /server\.cors\.origins/)
  })

  test('an actual request gets no CORS headers (the browser withholds the answer from the page)', async () => {
    const res = await s.request('/v1/whoami', { as: 'alice', headers: { origin: EVIL } })
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('access-control-allow-origin'), null)
  })

  test('an origin that only looks like the allowed one is another origin', async () => {
    for (const origin of ['http://localhost:3001', 'https://localhost:3000', 'http://localhost:3000.evil.example', 'null']) {
      const res = await preflight('/v1/whoami', origin)
      assert.equal(res.status, 403, origin)
    }
  })

  test('a WebSocket upgrade is refused before the upgrade, and audited as attach.start naming the caller', async () => {
    const pod = await createShellPod(s.sim)
    const err = await openWs(`${s.wsUrl}/v1/namespaces/demo/pods/${pod}/attach?container=sh`, [], { headers: { authorization: 'Bearer alice-token', origin: EVIL } })
      .then(() => undefined, (e: Error & { status?: number, body?: string }) => e)
    assert.ok(err, 'refused before the upgrade')
    assert.equal(err.status, 403)
    const body = JSON.parse(err.body ?? '{}') as { type: string, requestId: string }
    assert.equal(body.type, 'https://kdebug.dev/problems/origin-forbidden')
    const recs = (await s.audit()).filter(r => r.requestId === body.requestId) as Array<Record<string, any>>
    assert.equal(recs.length, 1)
    const r = recs[0] as Record<string, any>
    assert.equal(r.action, 'attach.start')
    assert.equal(r.phase, 'denied')
    assert.equal(r.outcome.code, 'GW_ORIGIN_FORBIDDEN')
    assert.equal(r.actor.user, 'alice')
    assert.equal(r.target.pod, pod)
  })
})

test('default config: nothing is allowed cross-origin, WebSockets only from the gateway\'s own origin or without Origin', async () => {
  const d = await startStack({ config: { drops: { enabled: false } } })
  try {
    const res = await fetch(d.url + '/v1/whoami', { method: 'OPTIONS', headers: { origin: PORTAL, 'access-control-request-method': 'GET' } })
    assert.equal(res.status, 403)
    assert.equal(res.headers.get('access-control-allow-origin'), null)
    const actual = await d.request('/v1/whoami', { as: 'alice', headers: { origin: PORTAL } })
    assert.equal(actual.headers.get('access-control-allow-origin'), null)
    const err = await openWs(`${d.url.replace(/^http/, 'ws')}/v1/namespaces/demo/pods/web/attach?container=app`, [], { headers: { authorization: 'Bearer alice-token', origin: PORTAL } })
      .then(() => undefined, (e: Error & { status?: number }) => e)
    assert.equal(err?.status, 403)
  } finally {
    await d.close()
  }
})

test('`*` allows any origin without credentials, answering `*`', async () => {
  const d = await startStack({ config: { drops: { enabled: false }, server: { cors: { origins: ['*'] } } } })
  try {
    const res = await fetch(d.url + '/v1/whoami', { method: 'OPTIONS', headers: { origin: EVIL, 'access-control-request-method': 'GET' } })
    assert.equal(res.status, 204)
    assert.equal(res.headers.get('access-control-allow-origin'), '*')
    assert.equal(res.headers.get('access-control-allow-credentials'), null)
  } finally {
    await d.close()
  }
})

test('credentials: the origin is echoed (never `*`) with Allow-Credentials', async () => {
  const d = await startStack({ config: { drops: { enabled: false }, server: { cors: { origins: [PORTAL], credentials: true } } } })
  try {
    const res = await fetch(d.url + '/v1/whoami', { method: 'OPTIONS', headers: { origin: PORTAL, 'access-control-request-method': 'GET' } })
    assert.equal(res.status, 204)
    assert.equal(res.headers.get('access-control-allow-origin'), PORTAL)
    assert.equal(res.headers.get('access-control-allow-credentials'), 'true')
  } finally {
    await d.close()
  }
})

describe('config', () => {
  const load = (cors: Record<string, unknown>): unknown => resolveConfig({ server: { cors } })

  test('`*` with credentials is refused at load', () => {
    assert.throws(() => load({ origins: ['*'], credentials: true }), (e: Error) => e instanceof ConfigError && /credentials cannot be combined with origin "\*"/.test(e.message))
  })

  test('origins must be exactly what browsers send; the message suggests the fix', () => {
    assert.throws(() => load({ origins: ['http://localhost:3000/'] }), (e: Error) => e instanceof ConfigError && /server\.cors/.test(e.message))
    assert.throws(() => load({ origins: ['https://Portal.Example'] }), (e: Error) => e instanceof ConfigError && /did you mean "https:\/\/portal\.example"/.test(e.message))
    assert.throws(() => load({ origins: ['https://portal.example:443'] }), (e: Error) => e instanceof ConfigError && /did you mean "https:\/\/portal\.example"/.test(e.message))
    assert.throws(() => load({ origins: ['portal.example'] }), ConfigError)
  })

  test('the default is empty and an environment list is split on commas', async () => {
    const { loadConfig } = await import('../../src/config.ts')
    assert.deepEqual(loadConfig({}).server.cors, { origins: [], credentials: false, maxAgeSeconds: 600 })
    assert.deepEqual(loadConfig({ KDEBUG_SERVER_CORS_ORIGINS: 'http://localhost:3000,https://portal.example' }).server.cors.origins, [PORTAL, 'https://portal.example'])
  })
})
