// Watch over HTTP: initial ADDED, resume from a resourceVersion, selector
// transitions, bookmarks, 410 before and after the stream starts, timeouts, drops.
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startSim } from '../../../src/sim/index.ts'
import { filterEvent } from '../../../src/sim/apiserver/watch.ts'
import type { Sim } from '../../../src/sim/index.ts'
import { ADMIN, api, readWatch, waitFor } from '../../helpers/sim-api.ts'

let sim: Sim
before(async () => { sim = await startSim({ startDelayMs: 5, historySize: 50, bookmarkIntervalMs: 100 }) })
after(async () => { await sim.close() })

const watchReq = (path: string, token = ADMIN): Promise<Response> => fetch(sim.url + path, { headers: { Authorization: `Bearer ${token}` } })
const event = (name: string, reason = 'PacketDrop'): unknown => ({ apiVersion: 'v1', kind: 'Event', metadata: { name, namespace: 'demo' }, involvedObject: { kind: 'Pod', namespace: 'demo', name: 'web' }, reason, message: 'm', type: 'Warning', count: 1, source: { component: 'kube-iptables-tailer' } })

test('watch without resourceVersion starts with ADDED for the current objects, then live changes', async () => {
  const res = await watchReq('/api/v1/namespaces/demo/pods?watch=true&labelSelector=app%3Dweb')
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('content-type'), 'application/json')
  const pending = readWatch(res, ev => ev.length >= 2)
  await api(sim, ADMIN, 'PATCH', '/api/v1/namespaces/demo/pods/web', { body: { metadata: { annotations: { touched: '1' } } }, contentType: 'application/merge-patch+json' })
  const events = await pending
  assert.deepEqual(events.map(e => [e.type, e.object.metadata.name]), [['ADDED', 'web'], ['MODIFIED', 'web']])
  assert.equal(events[1].object.kind, 'Pod')
  assert.equal(events[1].object.apiVersion, 'v1')
})

test('resume from a list resourceVersion sees exactly the later changes, filtered by fieldSelector', async () => {
  const list = await api(sim, ADMIN, 'GET', '/api/v1/namespaces/demo/events')
  const rv = list.json.metadata.resourceVersion
  await api(sim, ADMIN, 'POST', '/api/v1/namespaces/demo/events', { body: event('w1') })
  await api(sim, ADMIN, 'POST', '/api/v1/namespaces/demo/events', { body: event('w2', 'Other') })
  await api(sim, ADMIN, 'PATCH', '/api/v1/namespaces/demo/events/w1', { body: { count: 2 }, contentType: 'application/merge-patch+json' })
  const res = await watchReq(`/api/v1/namespaces/demo/events?watch=true&resourceVersion=${rv}&fieldSelector=reason%3DPacketDrop`)
  const events = await readWatch(res, ev => ev.length >= 2)
  assert.deepEqual(events.map(e => [e.type, e.object.metadata.name, e.object.count]), [['ADDED', 'w1', 1], ['MODIFIED', 'w1', 2]])
})

test('bookmarks only with allowWatchBookmarks=true; they carry just the resourceVersion', async () => {
  const res = await watchReq(`/api/v1/namespaces/demo/pods?watch=true&resourceVersion=${sim.store.resourceVersion}&allowWatchBookmarks=true`)
  const events = await readWatch(res, ev => ev.length >= 1)
  assert.equal(events[0].type, 'BOOKMARK')
  assert.deepEqual(events[0].object, { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: String(sim.store.resourceVersion) } })
  const plain = await watchReq(`/api/v1/namespaces/demo/pods?watch=true&resourceVersion=${sim.store.resourceVersion}&timeoutSeconds=1`)
  const none = await readWatch(plain, () => false, 3000)
  assert.deepEqual(none, [], 'no bookmark without allowWatchBookmarks, stream ends at the server timeout')
})

// DefaultWatchCacheSizes: events 0 — their watches come from the etcd3 watcher, which sends no bookmarks.
test('events have no watch cache: no bookmarks even when allowed; a compacted version gets the etcd3 watcher\'s 410', async () => {
  const res = await watchReq(`/api/v1/namespaces/demo/events?watch=true&resourceVersion=${sim.store.resourceVersion}&allowWatchBookmarks=true&timeoutSeconds=1`)
  const none = await readWatch(res, () => false, 3000)
  assert.deepEqual(none, [])
  const old = sim.store.resourceVersion
  await api(sim, ADMIN, 'POST', '/api/v1/namespaces/demo/events', { body: event('nb1') })
  await api(sim, ADMIN, 'POST', '/__sim/compact')
  const gone = await watchReq(`/api/v1/namespaces/demo/events?watch=true&resourceVersion=${old}`)
  assert.equal(gone.status, 200)
  const evs = await readWatch(gone, () => false)
  assert.deepEqual(evs.map(e => [e.type, e.object.code, e.object.reason, e.object.message]), [['ERROR', 410, 'Expired', 'The resourceVersion for the provided watch is too old.']])
})

// cacher.go Watch: once authorized and parsed, a too-old version fails "with a watch event of type ERROR".
test('too old resourceVersion → 200 with one ERROR event carrying the 410 Expired Status, then the end', async () => {
  const old = sim.store.resourceVersion
  await api(sim, ADMIN, 'POST', '/__sim/compact')
  await api(sim, ADMIN, 'POST', '/api/v1/namespaces/demo/events', { body: event('w3') })
  const res = await watchReq(`/api/v1/namespaces/demo/pods?watch=true&resourceVersion=${old - 1}`)
  assert.equal(res.status, 200)
  const events = await readWatch(res, () => false)
  assert.equal(events.length, 1)
  assert.equal(events[0].type, 'ERROR')
  assert.equal(events[0].object.code, 410)
  assert.equal(events[0].object.reason, 'Expired')
  assert.match(events[0].object.message, /^too old resource version: \d+ \(\d+\)$/)
})

test('forced 410 after start arrives as an ERROR event, then the stream ends', async () => {
  sim.faults.set({ expireNextWatch: 'event' })
  const res = await watchReq(`/api/v1/namespaces/demo/events?watch=true&resourceVersion=${sim.store.resourceVersion}`)
  assert.equal(res.status, 200)
  const events = await readWatch(res, () => false)
  assert.equal(events.length, 1)
  assert.equal(events[0].type, 'ERROR')
  assert.deepEqual({ kind: events[0].object.kind, code: events[0].object.code, reason: events[0].object.reason }, { kind: 'Status', code: 410, reason: 'Expired' })
  sim.faults.set({ expireNextWatch: 'http' })
  const r = await api(sim, ADMIN, 'GET', '/api/v1/namespaces/demo/events?watch=true')
  assert.equal(r.status, 410)
  assert.equal((await api(sim, ADMIN, 'GET', '/api/v1/namespaces/demo/events?watch=true&timeoutSeconds=1')).status, 200, 'one-shot')
})

test('dropWatchAfterEvents cuts the stream after N events', async () => {
  sim.faults.set({ dropWatchAfterEvents: 2 })
  try {
    assert.ok(sim.store.list('pods').length > 2, 'more pods than the limit')
    const res = await watchReq('/api/v1/pods?watch=true')
    let text = ''
    const reader = res.body!.getReader()
    try {
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        text += Buffer.from(value).toString()
      }
    } catch { /* the connection was cut */ }
    const events = text.split('\n').filter(Boolean).map(l => JSON.parse(l))
    assert.equal(events.length, 2)
  } finally {
    sim.faults.reset()
  }
})

test('watch is authorized: list rights are not watch rights of another namespace', async () => {
  const r = await api(sim, 'bob-token', 'GET', '/api/v1/namespaces/payments/pods?watch=true')
  assert.equal(r.status, 403)
  assert.equal(r.json.message, 'pods is forbidden: User "bob" cannot watch resource "pods" in API group "" in the namespace "payments"')
})

test('sendInitialEvents=true: current objects as ADDED, then the initial-events-end bookmark', async () => {
  const res = await watchReq(`/api/v1/namespaces/demo/pods?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&resourceVersion=${sim.store.resourceVersion}`)
  const events = await readWatch(res, ev => ev.some(e => e.type === 'BOOKMARK'))
  assert.deepEqual(events.map(e => e.type), ['ADDED', 'ADDED', 'BOOKMARK'])
  assert.deepEqual(events[2].object.metadata.annotations, { 'k8s.io/initial-events-end': 'true' })
})

test('a client that goes away is unsubscribed', async () => {
  // a sim of its own: the other tests' watches end on their own schedule and would move the count
  const own = await startSim({ startDelayMs: 5 })
  try {
    const before = own.store.watcherCount
    const ctl = new AbortController()
    const res = await fetch(`${own.url}/api/v1/namespaces/demo/pods?watch=true&resourceVersion=${own.store.resourceVersion}`, { headers: { Authorization: `Bearer ${ADMIN}` }, signal: ctl.signal })
    assert.equal(res.status, 200)
    // the store subscription is made before the response headers are written
    assert.equal(own.store.watcherCount, before + 1)
    assert.equal(own.store.watchersOf('pods'), 1, 'counted under its resource')
    assert.equal(own.store.watchersOf('events'), 0)
    ctl.abort()
    await waitFor(() => own.store.watcherCount === before || undefined, 'the watch to be unsubscribed')
  } finally {
    await own.close()
  }
})

describe('watch filtering', () => {
  test('selector transitions become ADDED / DELETED', () => {
    const running = (o: any): boolean => o.status.phase === 'Running'
    const a = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a', namespace: 'ns' }, status: { phase: 'Running' } } as any
    const pending = { ...a, status: { phase: 'Pending' } }
    assert.equal(filterEvent({ type: 'MODIFIED', resource: 'pods', object: a, previous: pending, rv: 2 }, running)?.type, 'ADDED')
    assert.equal(filterEvent({ type: 'MODIFIED', resource: 'pods', object: pending, previous: a, rv: 2 }, running)?.type, 'DELETED')
    assert.equal(filterEvent({ type: 'MODIFIED', resource: 'pods', object: a, previous: a, rv: 2 }, running)?.type, 'MODIFIED')
    assert.equal(filterEvent({ type: 'MODIFIED', resource: 'pods', object: pending, previous: pending, rv: 2 }, running), undefined)
  })
})
