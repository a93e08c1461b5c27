import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { DropWatcher, type DropWatcherOptions } from '../../src/drops/watcher.ts'
import { backoffDelay } from '../../src/lib/backoff.ts'
import { UpstreamError } from '../../src/drops/upstream.ts'
import type { Drop, DropEventKind } from '../../src/drops/types.ts'
import { FakeEventsApi } from './fakes.ts'

interface Rig {
  api: FakeEventsApi
  watcher: DropWatcher
  got: Array<[DropEventKind, string, number]>
  sleeps: number[]
  hooks: { restarts: number, relists: number, received: number }
}

function rig (over: Partial<DropWatcherOptions> = {}, api = new FakeEventsApi()): Rig {
  const got: Rig['got'] = []
  const sleeps: number[] = []
  const hooks = { restarts: 0, relists: 0, received: 0 }
  const watcher = new DropWatcher({
    upstream: api,
    sink: (kind: DropEventKind, drop: Drop) => { got.push([kind, drop.id, drop.count]) },
    namespaces: [],
    reasons: ['PacketDrop'],
    dedupeEntries: 100,
    watchTimeoutSeconds: 300,
    listPageSize: 500,
    backoff: { initialMs: 100, maxMs: 1000 },
    random: () => 1,
    sleep: async (ms: number) => { sleeps.push(ms); await sleep(1) },
    hooks: { onRestart: () => { hooks.restarts++ }, onRelist: () => { hooks.relists++ }, onReceived: () => { hooks.received++ } },
    ...over
  })
  return { api, watcher, got, sleeps, hooks }
}

async function until (cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (cond()) return
    await sleep(2)
  }
  assert.fail(`timed out waiting for ${what}`)
}

describe('DropWatcher', () => {
  test('lists, then watches from the list resourceVersion; repeats become drop-update', async () => {
    const { api, watcher, got, hooks } = rig()
    api.put('demo', 'web.1', 1)
    api.put('payments', 'ledger.1', 2)
    watcher.start()
    await until(() => api.openWatches === 1, 'watch')
    assert.equal(api.lists[0]?.scope.fieldSelector, 'reason=PacketDrop')
    assert.equal(api.lists[0]?.scope.namespace, undefined)
    assert.equal(api.watches[0]?.resourceVersion, '102')
    api.put('demo', 'web.1', 2)
    api.put('demo', 'api.1', 1)
    api.put('demo', 'web.1', 2) // same count: nothing to tell
    await until(() => got.length === 4, 'events')
    assert.deepEqual(got, [
      ['drop', 'uid-demo-web.1', 1], ['drop', 'uid-payments-ledger.1', 2],
      ['drop-update', 'uid-demo-web.1', 2], ['drop', 'uid-demo-api.1', 1]
    ])
    assert.equal(hooks.received, 4)
    const h = watcher.health()
    assert.equal(h.connected, true)
    assert.equal(h.streams[0]?.resourceVersion, '105')
    assert.notEqual(h.lastEventAt, null)
    await watcher.close()
    assert.equal(api.openWatches, 0)
    assert.equal(watcher.health().connected, false)
  })

  test('a watch that ends resumes from the last resourceVersion: no re-list, no loss, no duplicates', async () => {
    const { api, watcher, got, hooks } = rig({ now: (() => { let t = 0; return () => (t += 5000) })() })
    watcher.start()
    await until(() => api.openWatches === 1, 'watch')
    api.put('demo', 'a', 1)
    api.endWatches()
    api.put('demo', 'b', 1) // while reconnecting
    await until(() => api.watches.length === 2 && api.openWatches === 1, 'second watch')
    assert.equal(api.watches[1]?.resourceVersion, '101')
    api.put('demo', 'a', 2)
    await until(() => got.length === 3, 'events')
    assert.deepEqual(got.map(g => g.slice(0, 2)), [['drop', 'uid-demo-a'], ['drop', 'uid-demo-b'], ['drop-update', 'uid-demo-a']])
    assert.equal(api.lists.length, 1)
    assert.equal(hooks.restarts, 1)
    await watcher.close()
  })

  test('bookmarks advance the resume point', async () => {
    const { api, watcher } = rig({ now: (() => { let t = 0; return () => (t += 5000) })() })
    watcher.start()
    await until(() => api.openWatches === 1, 'watch')
    api.put('other', 'x', 1) // a change the watch may not show (here: it does), then a bookmark
    api.rv += 10
    api.bookmark()
    api.endWatches()
    await until(() => api.watches.length === 2, 'second watch')
    assert.equal(api.watches[1]?.resourceVersion, '111')
    await watcher.close()
  })

  test('410 on resume → re-list without duplicates; changes during the gap still arrive', async () => {
    const { api, watcher, got, hooks } = rig()
    api.put('demo', 'a', 1)
    api.put('demo', 'b', 1)
    watcher.start()
    await until(() => api.openWatches === 1, 'watch')
    api.endWatches()
    // while disconnected: history compacted, a repeat of a, a new c, b deleted
    api.put('demo', 'a', 5)
    api.put('demo', 'c', 1)
    api.remove('demo', 'b')
    api.compact()
    api.failures.push(new Error('ECONNRESET'))
    await until(() => api.lists.length === 2 && api.openWatches === 1, 're-list and watch')
    assert.deepEqual(got.map(g => g.slice(0, 2)), [
      ['drop', 'uid-demo-a'], ['drop', 'uid-demo-b'], ['drop-update', 'uid-demo-a'], ['drop', 'uid-demo-c']
    ])
    assert.equal(hooks.relists, 1)
    assert.equal(watcher.health().relists, 1)
    await watcher.close()
  })

  test('410 as an ERROR event mid-stream → re-list at once, nothing sent twice', async () => {
    const { api, watcher, got, sleeps } = rig({ now: (() => { let t = 0; return () => (t += 5000) })() })
    api.put('demo', 'a', 1)
    watcher.start()
    await until(() => api.openWatches === 1, 'watch')
    api.put('demo', 'b', 1)
    await until(() => got.length === 2, 'b')
    api.expireNextAsEvent = true
    api.endWatches()
    await until(() => api.lists.length === 2 && api.openWatches === 1, 're-list')
    api.put('demo', 'c', 1)
    await until(() => got.length === 3, 'c')
    assert.deepEqual(got.map(g => g[1]), ['uid-demo-a', 'uid-demo-b', 'uid-demo-c'])
    assert.deepEqual(sleeps, [], 'a 410 re-lists without waiting')
    await watcher.close()
  })

  test('failures back off exponentially (full jitter, capped) and recover', async () => {
    const { api, watcher, sleeps } = rig()
    for (let i = 0; i < 5; i++) api.failures.push(new UpstreamError('unavailable', 503))
    watcher.start()
    await until(() => api.openWatches === 1, 'watch after failures')
    assert.deepEqual(sleeps, [100, 200, 400, 800, 1000])
    assert.match(watcher.health().lastError ?? '', /503/)
    assert.equal(watcher.health().connected, true)
    await watcher.close()
  })

  test('one watch per configured namespace and reason', async () => {
    const { api, watcher, got } = rig({ namespaces: ['demo', 'payments'], reasons: ['PacketDrop', 'Dropped'] })
    watcher.start()
    await until(() => api.openWatches === 4, 'four watches')
    assert.deepEqual(api.lists.map(l => `${l.scope.namespace}:${l.scope.fieldSelector}`).sort(), [
      'demo:reason=Dropped', 'demo:reason=PacketDrop', 'payments:reason=Dropped', 'payments:reason=PacketDrop'
    ])
    api.put('payments', 'l', 1)
    await until(() => got.length === 1, 'drop')
    // the fake ignores the field selector: the Dropped watch sees the event too but does not treat it as its reason
    await sleep(10)
    assert.equal(got.length, 1)
    assert.equal(watcher.resourceVersion, undefined)
    await watcher.close()
  })

  test('paginated list', async () => {
    const api = new FakeEventsApi()
    api.pageSize = 2
    for (let i = 0; i < 5; i++) api.put('demo', `p${i}`, 1)
    const { watcher, got } = rig({ listPageSize: 2 }, api)
    watcher.start()
    await until(() => api.openWatches === 1, 'watch')
    assert.deepEqual(api.lists.map(l => l.continue), [undefined, '2', '4'])
    assert.equal(got.length, 5)
    await watcher.close()
  })

  test('a server that ends watches at once cannot make the watcher spin', async () => {
    const { api, watcher, sleeps } = rig()
    watcher.start()
    for (let i = 1; i <= 3; i++) {
      await until(() => api.openWatches === 1 && api.watches.length === i, `watch ${i}`)
      api.endWatches()
    }
    await until(() => sleeps.length === 3, 'three backoffs')
    assert.deepEqual(sleeps, [100, 200, 400])
    await watcher.close()
  })

  test('backoffDelay', () => {
    const b = { initialMs: 500, maxMs: 30000 }
    assert.equal(backoffDelay(1, b, () => 0.999), 499)
    assert.equal(backoffDelay(3, b, () => 0.5), 1000)
    assert.equal(backoffDelay(20, b, () => 0.999), 29970)
    assert.equal(backoffDelay(4, b, () => 0), 0)
  })
})
