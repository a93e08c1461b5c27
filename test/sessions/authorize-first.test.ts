// Authorize before expensive work: session lookups and listings read pods only
// in namespaces the caller may list pods in, decided before any pod is read;
// a caller without rights costs no pod LIST at all and gets a 404 / empty list.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { startSim, type Sim } from '../../src/sim/index.ts'
import { startDebugStack, type DebugStack } from '../helpers/debug-stack.ts'

type Obj = Record<string, any>
interface Seen { method: string, path: string, query: URLSearchParams }
let sim: Sim
let proxy: http.Server
let stack: DebugStack
const seen: Seen[] = []
const made: Record<string, Obj> = {}

/** Every call the gateway makes to the API server passes here (plain HTTP to the sim's same port) and is recorded. */
function recordingProxy (target: string): http.Server {
  return http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    seen.push({ method: req.method ?? '', path: url.pathname, query: url.searchParams })
    const up = http.request(target + (req.url ?? '/'), { method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers)
      r.pipe(res)
    })
    up.on('error', () => res.destroy())
    req.pipe(up)
  })
}

before(async () => {
  sim = await startSim({ startDelayMs: 10 })
  proxy = recordingProxy(sim.url)
  await new Promise<void>(resolve => proxy.listen(0, '127.0.0.1', resolve))
  // plain HTTP to the proxy (client-node allows it only with TLS verification off)
  const viaProxy = sim.kubeconfig.replace(sim.httpsUrl, `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`)
    .replace(/certificate-authority-data: .*/, 'insecure-skip-tls-verify: true')
  assert.notEqual(viaProxy, sim.kubeconfig)
  stack = await startDebugStack({ existingSim: { ...sim, kubeconfig: viaProxy } })
  for (const [name, path, as] of [['aliceEph', '/v1/namespaces/demo/pods/web/ephemeral-containers', 'alice'], ['carolEph', '/v1/namespaces/payments/pods/ledger/ephemeral-containers', 'carol'], ['carolCopy', '/v1/namespaces/payments/pods/ledger/copies', 'carol']] as const) {
    const r = await stack.post(path, as, { image: 'busybox:1.36', reason: 'authorize first', profile: 'baseline' })
    assert.equal(r.status, 201, JSON.stringify(r.body))
    made[name] = r.body.session
  }
})
after(async () => {
  await stack.close()
  proxy.closeAllConnections()
  await new Promise<void>(resolve => proxy.close(() => resolve()))
  await sim.close()
})

/** Pod LISTs the gateway made (namespace undefined = cluster-wide). */
interface PodList { namespace?: string, namespaces?: true }
const lists: PodList[] = []

async function get (path: string, as: string, method = 'GET'): Promise<{ status: number, body: any }> {
  seen.length = 0
  const res = await stack.request(path, { as, method })
  const out = { status: res.status, body: await res.json() }
  lists.length = 0
  for (const s of seen) {
    if (s.method !== 'GET') continue
    if (s.path === '/api/v1/namespaces') lists.push({ namespaces: true })
    else if (s.path === '/api/v1/pods' && s.query.get('watch') !== 'true') lists.push({})
    else {
      const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(s.path)
      if (m && s.query.get('watch') !== 'true') lists.push({ namespace: m[1] })
    }
  }
  return out
}

const clusterWide = (): PodList[] => lists.filter(l => !l.namespaces && l.namespace === undefined)

test('no rights anywhere (chatbot): GET /v1/sessions/{id} → 404 without reading a single pod', async () => {
  for (const id of [made.carolCopy?.id, made.carolEph?.id, made.aliceEph?.id, 'nosuchsession']) {
    const r = await get(`/v1/sessions/${id}`, 'chatbot')
    assert.equal(r.status, 404)
    assert.deepEqual(lists.filter(l => !l.namespaces), [], `pod LISTs for ${id}`)
  }
  const del = await get(`/v1/sessions/${made.carolCopy?.id}`, 'chatbot', 'DELETE')
  assert.equal(del.status, 404)
  assert.deepEqual(lists.filter(l => !l.namespaces), [])
  const list = await get('/v1/sessions', 'chatbot')
  assert.deepEqual(list.body.items, [])
  assert.deepEqual(lists.filter(l => !l.namespaces), [])
})

test('namespace-scoped caller (alice): reads only demo, never the cluster; payments sessions 404', async () => {
  const own = await get(`/v1/sessions/${made.aliceEph?.id}`, 'alice')
  assert.equal(own.status, 200)
  assert.deepEqual(clusterWide(), [])
  assert.ok(lists.filter(l => !l.namespaces).every(l => l.namespace === 'demo'))
  const other = await get(`/v1/sessions/${made.carolCopy?.id}`, 'alice')
  assert.equal(other.status, 404)
  assert.deepEqual(clusterWide(), [])
  const list = await get('/v1/sessions', 'alice')
  assert.ok(list.body.items.every((s: Obj) => s.namespace === 'demo'))
  assert.deepEqual(clusterWide(), [])
})

test('?namespace= narrows a lookup to one namespace; a namespace the caller may not list is a 404 without any read', async () => {
  const hinted = await get(`/v1/sessions/${made.aliceEph?.id}?namespace=demo`, 'alice')
  assert.equal(hinted.status, 200)
  assert.ok(lists.length > 0 && lists.every(l => l.namespace === 'demo'), JSON.stringify(lists))
  assert.ok(!lists.some(l => l.namespaces), 'no namespace enumeration')
  const denied = await get(`/v1/sessions/${made.carolCopy?.id}?namespace=payments`, 'alice')
  assert.equal(denied.status, 404)
  assert.deepEqual(lists, [])
})

test('a cluster-wide reader (carol) is served by paged cluster reads', async () => {
  const r = await get(`/v1/sessions/${made.carolEph?.id}`, 'carol')
  assert.equal(r.status, 200)
  assert.ok(!lists.some(l => l.namespaces), 'no namespace enumeration for cluster-wide callers')
  assert.ok(clusterWide().length > 0)
})
