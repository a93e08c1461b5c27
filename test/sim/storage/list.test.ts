// LIST paging, continue tokens, compaction and resourceVersionMatch as the
// API server's etcd3 store and ValidateListOptions answer them.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startSim } from '../../../src/sim/index.ts'
import type { Sim } from '../../../src/sim/index.ts'
import { ADMIN, api } from '../../helpers/sim-api.ts'
import { CONTINUE_EXPIRED, decodeContinue, encodeContinue } from '../../../src/sim/storage/list.ts'

let sim: Sim
before(async () => { sim = await startSim({ startDelayMs: 5 }) })
after(async () => { await sim.close() })

type Obj = Record<string, any>
const names = (list: Obj): string[] => (list.items as Obj[]).map(o => `${o.metadata.namespace as string}/${o.metadata.name as string}`)
const token = (t: string): Obj => JSON.parse(Buffer.from(t, 'base64url').toString('utf8')) as Obj
const cm = (ns: string, name: string): Obj => ({ apiVersion: 'v1', kind: 'Event', metadata: { name, namespace: ns }, involvedObject: { kind: 'Pod', namespace: ns, name: 'web' }, reason: 'Paging', message: 'm', type: 'Normal' })

test('limit pages in key order with continue tokens (rv + start key) and remainingItemCount', async () => {
  for (const n of ['p1', 'p2', 'p3', 'p4', 'p5']) await api(sim, ADMIN, 'POST', '/api/v1/namespaces/demo/events', { body: cm('demo', n) })
  const all = await api(sim, ADMIN, 'GET', '/api/v1/namespaces/demo/events?fieldSelector=reason%3DPaging')
  assert.equal(all.json.metadata.continue, undefined)
  const p1 = await api(sim, ADMIN, 'GET', '/api/v1/namespaces/demo/events?limit=2')
  assert.equal(p1.json.items.length, 2)
  const t1 = token(p1.json.metadata.continue)
  assert.deepEqual(Object.keys(t1), ['v', 'rv', 'start'])
  assert.equal(t1.v, 'meta.k8s.io/v1')
  assert.equal(t1.rv, Number(p1.json.metadata.resourceVersion))
  assert.equal(t1.start, `${p1.json.items[1].metadata.name as string}\u0000`)
  assert.equal(typeof p1.json.metadata.remainingItemCount, 'number')
  // a change between pages does not show: later pages are read at the first page's resourceVersion
  await api(sim, ADMIN, 'POST', '/api/v1/namespaces/demo/events', { body: cm('demo', 'p0-late') })
  const seen = [...names(p1.json)]
  let cont: string | undefined = p1.json.metadata.continue
  while (cont) {
    const p = await api(sim, ADMIN, 'GET', `/api/v1/namespaces/demo/events?limit=2&continue=${cont}`)
    assert.equal(p.status, 200)
    assert.equal(p.json.metadata.resourceVersion, p1.json.metadata.resourceVersion)
    seen.push(...names(p.json))
    cont = p.json.metadata.continue
  }
  assert.ok(!seen.includes('demo/p0-late'))
  assert.deepEqual(seen, [...seen].sort())
  assert.equal(new Set(seen).size, seen.length)
  // with a selector: no remainingItemCount
  const sel = await api(sim, ADMIN, 'GET', '/api/v1/namespaces/demo/events?limit=1&fieldSelector=reason%3DPaging')
  assert.equal(sel.json.metadata.remainingItemCount, undefined)
  assert.ok(sel.json.metadata.continue)
})

test('a cluster-wide list pages across namespaces (start key namespace/name)', async () => {
  const p = await api(sim, ADMIN, 'GET', '/api/v1/pods?limit=1')
  assert.equal(token(p.json.metadata.continue).start, `${names(p.json)[0] as string}\u0000`)
})

test('a continue token older than the compaction: 410 Expired, the real message, a fresh token at rv -1 that goes on', async () => {
  const p1 = await api(sim, ADMIN, 'GET', '/api/v1/namespaces/demo/events?limit=2')
  await api(sim, ADMIN, 'POST', '/api/v1/namespaces/demo/events', { body: cm('demo', 'after-compact') })
  await api(sim, ADMIN, 'POST', '/__sim/compact')
  await api(sim, ADMIN, 'POST', '/api/v1/namespaces/demo/events', { body: cm('demo', 'zz-after-compact') })
  const stale = await api(sim, ADMIN, 'GET', `/api/v1/namespaces/demo/events?limit=2&continue=${p1.json.metadata.continue as string}`)
  assert.equal(stale.status, 410)
  assert.deepEqual([stale.json.reason, stale.json.code, stale.json.message], ['Expired', 410, CONTINUE_EXPIRED])
  const fresh = token(stale.json.metadata.continue)
  assert.deepEqual([fresh.rv, fresh.start], [-1, token(p1.json.metadata.continue).start])
  const next = await api(sim, ADMIN, 'GET', `/api/v1/namespaces/demo/events?limit=100&continue=${stale.json.metadata.continue as string}`)
  assert.equal(next.status, 200)
  assert.ok(names(next.json).includes('demo/zz-after-compact'), 'the inconsistent continuation reads the latest state')
})

test('bad continue tokens are 400 "invalid continue token"', async () => {
  for (const bad of ['%%%', Buffer.from('{}').toString('base64url'), encodeContinue('x', 0), encodeContinue('', 5), encodeContinue('../kube-system/x', 5)]) {
    const r = await api(sim, ADMIN, 'GET', `/api/v1/namespaces/demo/events?limit=1&continue=${encodeURIComponent(bad)}`)
    assert.equal(r.status, 400, bad)
    assert.match(r.json.message, /^invalid continue token: /)
  }
  const both = await api(sim, ADMIN, 'GET', `/api/v1/namespaces/demo/events?limit=1&resourceVersion=5&continue=${encodeContinue('a\u0000', 5)}`)
  assert.deepEqual([both.status, both.json.message], [400, 'specifying resource version is not allowed when using continue'])
  assert.deepEqual(decodeContinue(encodeContinue('demo/web\u0000', 42)), { start: 'demo/web\u0000', rv: 42 })
})

test('resourceVersionMatch: ValidateListOptions errors verbatim (422 on ListOptions.meta.k8s.io)', async () => {
  const cases: Array<[string, string]> = [
    ['resourceVersionMatch=Exact', 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided'],
    ['resourceVersionMatch=Exact&resourceVersion=0', 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"'],
    ['resourceVersionMatch=Newest&resourceVersion=1', 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Unsupported value: "Newest": supported values: "Exact", "NotOlderThan", ""'],
    [`resourceVersionMatch=NotOlderThan&resourceVersion=1&continue=${encodeContinue('a\u0000', 5)}`, 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is provided']
  ]
  for (const [q, message] of cases) {
    const r = await api(sim, ADMIN, 'GET', `/api/v1/namespaces/demo/pods?${q}`)
    assert.deepEqual([r.status, r.json.reason, r.json.message], [422, 'Invalid', message], q)
  }
})

test('resourceVersionMatch=Exact reads the past; compacted is 410; the future is 504', async () => {
  await api(sim, ADMIN, 'POST', '/api/v1/namespaces/demo/events', { body: cm('demo', 'exact-1') })
  const before = sim.store.resourceVersion
  await api(sim, ADMIN, 'POST', '/api/v1/namespaces/demo/events', { body: cm('demo', 'exact-2') })
  await api(sim, ADMIN, 'DELETE', '/api/v1/namespaces/demo/events/exact-1')
  const then = await api(sim, ADMIN, 'GET', `/api/v1/namespaces/demo/events?resourceVersion=${before}&resourceVersionMatch=Exact`)
  assert.equal(then.json.metadata.resourceVersion, String(before))
  assert.ok(names(then.json).includes('demo/exact-1'))
  assert.ok(!names(then.json).includes('demo/exact-2'))
  const now = await api(sim, ADMIN, 'GET', `/api/v1/namespaces/demo/events?resourceVersion=${before}&resourceVersionMatch=NotOlderThan`)
  assert.ok(!names(now.json).includes('demo/exact-1'))
  await api(sim, ADMIN, 'POST', '/__sim/compact')
  const gone = await api(sim, ADMIN, 'GET', `/api/v1/namespaces/demo/events?resourceVersion=${before}&resourceVersionMatch=Exact`)
  assert.deepEqual([gone.status, gone.json.reason, gone.json.message], [410, 'Expired', 'The resourceVersion for the provided list is too old.'])
  const future = await api(sim, ADMIN, 'GET', `/api/v1/namespaces/demo/events?resourceVersion=${sim.store.resourceVersion + 100}`)
  assert.deepEqual([future.status, future.json.reason], [504, 'Timeout'])
})

test('10,000 pods: every 500-item page is the same size, whatever the total (flat memory for a paged reader)', async () => {
  const template = { apiVersion: 'v1', kind: 'Pod', spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'busybox' }] }, status: { phase: 'Running' } }
  for (let i = 0; i < 10_000; i++) sim.store.create('pods', { ...structuredClone(template), metadata: { name: `bulk-${String(i).padStart(5, '0')}`, namespace: 'bulk' } } as never)
  let cont = ''
  let pages = 0
  let items = 0
  const sizes = new Set<number>()
  do {
    const res = await fetch(`${sim.url}/api/v1/namespaces/bulk/pods?limit=500${cont ? `&continue=${cont}` : ''}`, { headers: { Authorization: `Bearer ${ADMIN}` } })
    const text = await res.text()
    const list = JSON.parse(text) as Obj
    pages++
    items += (list.items as unknown[]).length
    // names are the same length, so equal pages are equally large, bar the token/count digits
    sizes.add(Math.round(text.length / 1000))
    cont = list.metadata.continue ?? ''
  } while (cont)
  assert.equal(pages, 20)
  assert.equal(items, 10_000)
  assert.ok(sizes.size <= 2, `page sizes ${[...sizes].join(', ')} kB`)
})
