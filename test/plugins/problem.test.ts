// The HTTP contract every route shares: problem+json errors naming the field,
// 404 vs 405, 413, request ids, readiness, graceful shutdown.
import { test, before, after } from 'node:test'
import { jsonOf } from '../helpers/http.ts'
import assert from 'node:assert/strict'
import { Type } from '@sinclair/typebox'
import { startStack, type Stack } from '../helpers/stack.ts'

let stack: Stack
before(async () => {
  stack = await startStack({
    config: { server: { bodyLimitBytes: 2048 } },
    extend: (app) => {
      app.post('/test/echo', {
        schema: {
          body: Type.Object({
            image: Type.String({ minLength: 1 }),
            capabilities: Type.Optional(Type.Object({ add: Type.Array(Type.String({ pattern: '^[A-Z_]+$' })) }))
          }, { additionalProperties: false })
        }
      }, async (request) => request.body)
      app.get('/test/boom', async () => { throw new Error('secret internal detail at /var/run/x') })
    }
  })
})
after(async () => { await stack.close() })

function isProblem (res: Response): boolean {
  return (res.headers.get('content-type') ?? '').startsWith('application/problem+json')
}

test('validation errors are 400 problems naming each bad field', async () => {
  const res = await stack.request('/test/echo', { as: 'alice', method: 'POST', body: JSON.stringify({ capabilities: { add: ['sys_ptrace'] } }) })
  assert.equal(res.status, 400)
  assert.ok(isProblem(res))
  const body = await jsonOf(res)
  assert.equal(body.status, 400)
  assert.equal(body.title, 'Invalid request')
  assert.match(body.type, /^https:\/\/kdebug\.dev\/problems\/validation$/)
  assert.equal(body.requestId, res.headers.get('x-request-id'))
  const fields = body.errors.map((e: { field: string }) => e.field)
  assert.ok(fields.includes('/body/image'), JSON.stringify(body.errors))
  assert.ok(fields.includes('/body/capabilities/add/0'), JSON.stringify(body.errors))
})

test('unknown fields are named too', async () => {
  const res = await stack.request('/test/echo', { as: 'alice', method: 'POST', body: JSON.stringify({ image: 'busybox', imagee: 'x' }) })
  assert.equal(res.status, 400)
  const body = await jsonOf(res)
  assert.deepEqual(body.errors, [{ field: '/body/imagee', message: 'unknown field' }])
})

test('malformed JSON is a 400 problem', async () => {
  const res = await stack.request('/test/echo', { as: 'alice', method: 'POST', body: '{"image":' })
  assert.equal(res.status, 400)
  assert.ok(isProblem(res))
})

test('query validation names the parameter', async () => {
  const res = await stack.request('/v1/whoami?namespace=Not_A_Namespace', { as: 'alice' })
  assert.equal(res.status, 400)
  const body = await jsonOf(res)
  assert.equal(body.errors[0].field, '/querystring/namespace')
})

test('unknown route → 404 problem, known path with another method → 405 with Allow', async () => {
  const nf = await stack.request('/v1/nothing-here', { as: 'alice' })
  assert.equal(nf.status, 404)
  assert.ok(isProblem(nf))
  const na = await stack.request('/v1/whoami', { as: 'alice', method: 'DELETE' })
  assert.equal(na.status, 405)
  assert.ok(isProblem(na))
  assert.equal(na.headers.get('allow'), 'GET')
})

test('a body over the limit → 413 problem', async () => {
  const res = await stack.request('/test/echo', { as: 'alice', method: 'POST', body: JSON.stringify({ image: 'x'.repeat(5000) }) })
  assert.equal(res.status, 413)
  assert.ok(isProblem(res))
})

test('a wrong content type → 415 problem', async () => {
  const res = await stack.request('/test/echo', { as: 'alice', method: 'POST', body: 'image=busybox', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  assert.equal(res.status, 415)
  assert.ok(isProblem(res))
})

test('5xx problems hide internals', async () => {
  const res = await stack.request('/test/boom', { as: 'alice' })
  assert.equal(res.status, 500)
  const text = await res.text()
  assert.doesNotMatch(text, /secret internal detail|\/var\/run/)
  assert.equal(JSON.parse(text).title, 'Internal error')
})

test('x-request-id: always the gateway\'s own id, never the client\'s', async () => {
  const kept = await stack.request('/healthz', { headers: { 'x-request-id': 'portal-42.abc' } })
  assert.match(kept.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/)
  const replaced = await stack.request('/healthz', { headers: { 'x-request-id': 'bad id with spaces<script>' } })
  const id = replaced.headers.get('x-request-id') ?? ''
  assert.notEqual(id, 'bad id with spaces<script>')
  assert.match(id, /^[0-9a-f-]{36}$/)
})

test('readyz reports the API server and the audit log; metrics are Prometheus text', async () => {
  const ready = await stack.request('/readyz')
  assert.equal(ready.status, 200)
  const body = await jsonOf(ready)
  assert.equal(body.status, 'ready')
  assert.deepEqual(body.checks.map((c: { name: string }) => c.name).slice(0, 2), ['kubernetes-api', 'audit-log'])
  const metrics = await (await stack.request('/metrics')).text()
  assert.match(metrics, /kdebug_http_requests_total\{method="GET",route="\/readyz",status="200"\}/)
  // the token and authz caches and the audit log report too
  await stack.request('/v1/whoami?namespace=demo', { as: 'alice' })
  await stack.request('/v1/whoami?namespace=demo', { as: 'alice' })
  const after = await (await stack.request('/metrics')).text()
  assert.match(after, /kdebug_token_cache_lookups_total\{result="hit"\} [1-9]/)
  assert.match(after, /kdebug_authz_cache_lookups_total\{result="miss"\} [1-9]/)
  assert.match(after, /kdebug_authz_cache_lookups_total\{result="hit"\} [1-9]/)
  assert.match(after, /kdebug_audit_writable 1/)
  assert.match(after, /kdebug_audit_append_duration_seconds_bucket/)
})

test('the spec is served and lists the routes', async () => {
  const res = await stack.request('/openapi.json')
  assert.equal(res.status, 200)
  const spec = await jsonOf(res)
  assert.equal(spec.openapi, '3.1.0')
  assert.ok(spec.paths['/v1/whoami'])
})

test('Swagger UI is off by default and served at /docs when enabled', async () => {
  assert.equal((await stack.request('/docs')).status, 404)
  const withDocs = await startStack({ config: { docs: { enabled: true }, drops: { enabled: false } } })
  try {
    const res = await fetch(`${withDocs.url}/docs/`, { redirect: 'follow' })
    assert.equal(res.status, 200)
    assert.match(await res.text(), /swagger/i)
  } finally {
    await withDocs.close()
  }
})
