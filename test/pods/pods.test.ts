// GET /v1/namespaces/{namespace}/pods over real HTTP against the sim: the
// caller's `list pods` first, Kubernetes paging, our sessions recognised by
// their signed metadata (forged metadata is a claim without a requester), and
// one audit record per decision.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startDebugStack, type DebugStack } from '../helpers/debug-stack.ts'
import { jsonOf } from '../helpers/http.ts'

let s: DebugStack
before(async () => { s = await startDebugStack({ config: { drops: { enabled: false } } }) })
after(async () => { await s.close() })

async function simPods (ns: string): Promise<string[]> {
  const res = await fetch(`${s.sim.url}/api/v1/namespaces/${ns}/pods`, { headers: { authorization: `Bearer ${s.sim.tokens.admin ?? ''}` } })
  return ((await res.json()) as { items: Array<{ metadata: { name: string } }> }).items.map(p => p.metadata.name)
}

test('alice lists demo: every pod with phase, node and containers as the API server reports them', async () => {
  const res = await s.request('/v1/namespaces/demo/pods', { as: 'alice' })
  assert.equal(res.status, 200)
  const body = await jsonOf(res)
  assert.deepEqual(body.items.map((p: { name: string }) => p.name), await simPods('demo'))
  assert.equal(body.continue, undefined)
  const web = body.items.find((p: { name: string }) => p.name === 'web')
  assert.equal(web.phase, 'Running')
  assert.equal(web.node, 'node-1')
  assert.match(web.createdAt, /^\d{4}-\d\d-\d\dT/)
  const app = web.containers.find((c: { name: string }) => c.name === 'app')
  assert.equal(app.state, 'running')
  assert.equal(app.ready, true)
  assert.equal(app.restarts, 0)
  assert.equal(typeof app.image, 'string')
  assert.equal(app.tty, false)
  assert.equal(app.stdin, false)
  assert.ok(Array.isArray(web.ephemeralContainers))
})

test('paged like Kubernetes: limit + continue walk the whole list once', async () => {
  const all = await simPods('demo')
  assert.ok(all.length >= 2, 'the demo world has several pods')
  const seen: string[] = []
  let token: string | undefined
  for (let i = 0; i < all.length + 1; i++) {
    const res = await s.request(`/v1/namespaces/demo/pods?limit=1${token ? `&continue=${encodeURIComponent(token)}` : ''}`, { as: 'alice' })
    assert.equal(res.status, 200)
    const page = await jsonOf(res)
    assert.equal(page.items.length, 1)
    seen.push(page.items[0].name)
    token = page.continue
    if (token === undefined) break
  }
  assert.deepEqual(seen, all)
})

test('no `list pods` in the namespace: 403 naming the permission; one denied record', async () => {
  const res = await s.request('/v1/namespaces/payments/pods', { as: 'alice' })
  assert.equal(res.status, 403)
  const body = await jsonOf(res)
  assert.match(body.permission, /list pods/)
  const recs = s.audit().filter(r => r.requestId === res.headers.get('x-request-id'))
  assert.equal(recs.length, 1)
  assert.equal(recs[0]?.phase, 'denied')
  assert.equal(recs[0]?.target?.namespace, 'payments')
})

test('an allowed listing is one http.read record', async () => {
  const res = await s.request('/v1/namespaces/demo/pods?limit=2', { as: 'bob' })
  assert.equal(res.status, 200)
  const recs = s.audit().filter(r => r.requestId === res.headers.get('x-request-id'))
  assert.equal(recs.length, 1)
  assert.equal(recs[0]?.action, 'http.read')
  assert.equal(recs[0]?.actor.user, 'bob')
  assert.equal(recs[0]?.target?.namespace, 'demo')
})

test('our ephemeral container: targetContainer and the verified session with requester, reason and expiry', async () => {
  const created = await s.post('/v1/namespaces/demo/pods/web/ephemeral-containers', 'alice', { image: 'busybox:1.36', target: 'app', reason: 'pods list test', ttlSeconds: 600 })
  assert.equal(created.status, 201, JSON.stringify(created.body))
  const name = created.body.session.container as string
  const body = await jsonOf(await s.request('/v1/namespaces/demo/pods', { as: 'bob' }))
  const web = body.items.find((p: { name: string }) => p.name === 'web')
  const eph = web.ephemeralContainers.find((c: { name: string }) => c.name === name)
  assert.ok(eph, 'listed')
  assert.equal(eph.image, 'busybox:1.36')
  assert.equal(eph.targetContainer, 'app')
  assert.ok(['waiting', 'running'].includes(eph.state))
  assert.deepEqual(eph.session, { id: created.body.session.id, verified: true, requester: 'alice', reason: 'pods list test', expiresAt: created.body.session.expiresAt })
})

test('forged metadata (KDEBUG_* env written by someone who may patch pods) is unverified and nobody\'s', async () => {
  const patch = {
    spec: {
      ephemeralContainers: [{
        name: 'forged-1',
        image: 'busybox:1.36',
        env: [{ name: 'KDEBUG_SESSION', value: 'forged-session' }, { name: 'KDEBUG_REQUESTED_BY', value: 'carol' }, { name: 'KDEBUG_SIGNATURE', value: 'AAAA' }]
      }]
    }
  }
  const res = await fetch(`${s.sim.url}/api/v1/namespaces/demo/pods/api/ephemeralcontainers`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${s.sim.tokens.admin ?? ''}`, 'content-type': 'application/strategic-merge-patch+json' },
    body: JSON.stringify(patch)
  })
  assert.equal(res.status, 200, await res.clone().text())
  const body = await jsonOf(await s.request('/v1/namespaces/demo/pods', { as: 'alice' }))
  const eph = body.items.find((p: { name: string }) => p.name === 'api').ephemeralContainers.find((c: { name: string }) => c.name === 'forged-1')
  assert.equal(eph.session.id, 'forged-session')
  assert.equal(eph.session.verified, false)
  assert.equal(eph.session.requester, undefined)
})

test('bad paging parameters are 400 naming the field; an unknown parameter too', async () => {
  for (const [q, field] of [['limit=0', '/querystring/limit'], ['limit=501', '/querystring/limit'], ['continue=a%20b', '/querystring/continue'], ['labelSelector=x', '/querystring/labelSelector']]) {
    const res = await s.request(`/v1/namespaces/demo/pods?${q}`, { as: 'alice' })
    assert.equal(res.status, 400, q)
    const body = await jsonOf(res)
    assert.equal(body.errors[0].field, field, q)
  }
  const bad = await s.request('/v1/namespaces/Demo/pods', { as: 'alice' })
  assert.equal(bad.status, 400)
})

test('a continue token the API server rejects is its 4xx, passed through as a problem', async () => {
  const res = await s.request('/v1/namespaces/demo/pods?continue=bm90LWEtdG9rZW4', { as: 'alice' })
  assert.ok(res.status === 400 || res.status === 410, String(res.status))
  assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/)
})
