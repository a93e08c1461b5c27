// The drops watcher against the sim's API server, where events behave like a
// real cluster's: no watch cache (no bookmarks), LIST pages with continue
// tokens, and etcd compaction that expires both old watch resourceVersions and
// continue tokens of a list in progress.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { KubeConfig } from '@kubernetes/client-node'
import { startSim, type Sim } from '../../src/sim/index.ts'
import { DropWatcher } from '../../src/drops/watcher.ts'
import { kubeEventsUpstream, type EventsUpstream } from '../../src/drops/upstream.ts'
import type { Drop, DropEventKind } from '../../src/drops/types.ts'

let sim: Sim
let kc: KubeConfig
before(async () => {
  sim = await startSim({ startDelayMs: 5 })
  kc = new KubeConfig()
  kc.loadFromString(sim.kubeconfig)
})
after(async () => { await sim.close() })

const drop = (port: number): Parameters<Sim['drops']['tailer']>[0] => ({ namespace: 'demo', pod: 'web', direction: 'send', peer: 'payments', peerIP: '10.244.2.17', port })

async function until (cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise(resolve => setTimeout(resolve, 10))
  assert.ok(cond(), `timed out waiting for ${what}`)
}

function watcherOn (upstream: EventsUpstream, got: Array<[DropEventKind, string]>): DropWatcher {
  return new DropWatcher({
    upstream,
    sink: (kind: DropEventKind, d: Drop) => { got.push([kind, d.message ?? d.id]) },
    namespaces: ['demo'],
    reasons: ['PacketDrop'],
    dedupeEntries: 1000,
    watchTimeoutSeconds: 300,
    listPageSize: 2,
    backoff: { initialMs: 1, maxMs: 5 }
  })
}

test('a continue token expired by compaction mid-LIST: the list starts over, nothing is emitted twice or lost; counted as a relist', async () => {
  for (let p = 7100; p < 7107; p++) await sim.drops.tailer(drop(p))
  const real = kubeEventsUpstream(kc)
  let pages = 0
  const lists: Array<string | undefined> = []
  const upstream: EventsUpstream = {
    list: async (scope, page) => {
      lists.push(page.continue)
      const out = await real.list(scope, page)
      // after the first page: the API server compacts (and something new arrives)
      if (++pages === 1) {
        await sim.drops.tailer(drop(7107))
        sim.store.compact()
      }
      return out
    },
    watch: real.watch
  }
  const got: Array<[DropEventKind, string]> = []
  const w = watcherOn(upstream, got)
  w.start()
  try {
    await until(() => w.health().connected && got.length >= 8, 'all 8 drops after the restarted list')
    assert.equal(new Set(got.map(g => g[1])).size, got.length, 'no drop twice')
    assert.equal(got.length, 8)
    assert.equal(w.health().relists, 1)
    assert.match(w.health().lastError ?? '', /^410 Expired: The provided continue parameter is too old/)
    // the second list started over: no continue token on its first page
    assert.equal(lists.filter(c => c === undefined).length, 2)
  } finally {
    await w.close()
  }
})

test('a watch resumed from a compacted resourceVersion gets the ERROR 410, re-lists, and emits only what is new', async () => {
  const real = kubeEventsUpstream(kc)
  const got: Array<[DropEventKind, string]> = []
  const w = watcherOn(real, got)
  w.start()
  try {
    await until(() => w.health().connected && sim.store.watcherCount > 0, 'watching')
    const ev = (port: number): Record<string, unknown> => ({ apiVersion: 'v1', kind: 'Event', metadata: { name: `web.${port}`, namespace: 'demo' }, involvedObject: { kind: 'Pod', namespace: 'demo', name: 'web' }, reason: 'PacketDrop', type: 'Warning', count: 1, message: `Packet dropped when sending traffic to payments (10.244.2.17) on port ${port}/TCP`, source: { component: 'kube-iptables-tailer' }, firstTimestamp: new Date().toISOString(), lastTimestamp: new Date().toISOString() })
    const before = got.length
    const watchers = sim.store.watcherCount
    // the API server goes away right after delivering one more drop: the watch is cut, reconnects are refused
    sim.faults.set({ dropWatchAfterEvents: 1, refuseConnections: true })
    sim.store.create('events', ev(7200) as never)
    await until(() => got.length === before + 1, 'the live drop')
    await until(() => sim.store.watcherCount < watchers, 'the watch broken')
    // meanwhile: a new drop, then etcd compaction
    sim.store.create('events', ev(7201) as never)
    sim.store.compact()
    const relists = w.health().relists
    sim.faults.set({ dropWatchAfterEvents: 0, refuseConnections: false })
    await until(() => w.health().relists > relists && w.health().connected, 'relisted after the 410')
    await until(() => got.some(g => g[1].includes('7201')), 'the drop from the gap')
    assert.equal(new Set(got.map(g => g[1])).size, got.length, 'nothing emitted twice')
    assert.match(w.health().lastError ?? '', /410 Expired: The resourceVersion for the provided watch is too old\./)
  } finally {
    sim.faults.set({ dropWatchAfterEvents: 0, refuseConnections: false })
    await w.close()
  }
})
