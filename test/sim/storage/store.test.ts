// The store: objects, resourceVersions, history, watches from a revision, compaction.
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { Store } from '../../../src/sim/storage/store.ts'
import type { StatusError } from '../../../src/sim/apimachinery/status.ts'

const pod = (name: string, labels: Record<string, string> = {}): any => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ns', labels }, spec: { nodeName: 'n1' }, status: { phase: 'Running' } })

describe('store', () => {
  test('create sets uid, creationTimestamp, generation and a growing resourceVersion', () => {
    const s = new Store()
    const a = s.create('pods', pod('a'))
    const b = s.create('pods', pod('b'))
    assert.match(a.metadata.uid ?? '', /^[0-9a-f-]{36}$/)
    assert.match(a.metadata.creationTimestamp ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    assert.equal(a.metadata.generation, 1)
    assert.ok(Number(b.metadata.resourceVersion) > Number(a.metadata.resourceVersion))
    assert.equal(String(s.resourceVersion), b.metadata.resourceVersion)
    assert.throws(() => s.create('pods', pod('a')), (e: StatusError) => e.code === 409 && e.status.reason === 'AlreadyExists')
  })

  test('update keeps uid, bumps generation only on spec change, checks expected resourceVersion', () => {
    const s = new Store()
    const a = s.create('pods', pod('a'))
    const labelled = s.update('pods', { ...a, metadata: { ...a.metadata, labels: { x: 'y' } } })
    assert.equal(labelled.metadata.generation, 1)
    assert.equal(labelled.metadata.uid, a.metadata.uid)
    const respec = s.update('pods', { ...labelled, spec: { nodeName: 'n2' } })
    assert.equal(respec.metadata.generation, 2)
    assert.throws(() => s.update('pods', respec, { expectedResourceVersion: a.metadata.resourceVersion }),
      (e: StatusError) => e.code === 409 && /the object has been modified/.test(e.message))
  })

  test('watch replays history after a version and 410s once it is compacted away', () => {
    const s = new Store({ historySize: 3 })
    const start = s.resourceVersion
    s.create('pods', pod('a'))
    s.create('pods', pod('b'))
    const seen: string[] = []
    const stop = s.watch(start, e => seen.push(`${e.type} ${e.object.metadata.name}`))
    s.delete('pods', 'ns', 'a')
    stop()
    s.create('pods', pod('c'))
    assert.deepEqual(seen, ['ADDED a', 'ADDED b', 'DELETED a'])
    // history holds 3 events: b, delete a, c → start (before a) is too old
    assert.throws(() => s.watch(start, () => {}), (e: StatusError) => e.code === 410 && e.status.reason === 'Expired' && /^too old resource version: \d+ \(\d+\)$/.test(e.message))
    s.compact()
    assert.throws(() => s.watch(s.resourceVersion - 1, () => {}), (e: StatusError) => e.code === 410)
    assert.doesNotThrow(() => s.watch(s.resourceVersion, () => {})())
  })

  test('list sorts by namespace/name and filters by namespace', () => {
    const s = new Store()
    s.create('pods', pod('b'))
    s.create('pods', { ...pod('a'), metadata: { name: 'a', namespace: 'other' } })
    s.create('pods', pod('a'))
    assert.deepEqual(s.list('pods').map(p => `${p.metadata.namespace}/${p.metadata.name}`), ['ns/a', 'ns/b', 'other/a'])
    assert.deepEqual(s.list('pods', 'other').map(p => p.metadata.name), ['a'])
  })
})

test('compactTo: history up to the revision is gone; reads and watches from before it are 410', () => {
  const store = new Store()
  const mk = (n: string): void => { store.create('events', { apiVersion: 'v1', kind: 'Event', metadata: { name: n, namespace: 'demo' } }) }
  mk('a')
  const rvA = store.resourceVersion
  mk('b')
  const rvB = store.resourceVersion
  mk('c')
  store.compactTo(rvB)
  assert.equal(store.horizon, rvB)
  assert.throws(() => store.watch(rvA, () => {}), /too old resource version/)
  assert.throws(() => store.listAt('events', 'demo', rvA), /too old/)
  assert.deepEqual(store.listAt('events', 'demo', rvB).map(o => o.metadata.name).sort(), ['a', 'b'])
  const seen: string[] = []
  const stop = store.watch(rvB, e => seen.push(e.object.metadata.name ?? ''))
  stop()
  assert.deepEqual(seen, ['c'])
  store.compactTo(rvA) // never backwards
  assert.equal(store.horizon, rvB)
})
