// PacketDrop events as kube-iptables-tailer and Cilium write them, through the sim's API.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startSim } from '../../../src/sim/index.ts'
import type { Sim } from '../../../src/sim/index.ts'
import { tailerMessage, ciliumMessage, createDropWriters } from '../../../src/sim/networking/drop-events.ts'
import { StatusError } from '../../../src/sim/apimachinery/status.ts'
import { ADMIN, readWatch } from '../../helpers/sim-api.ts'

let sim: Sim
before(async () => { sim = await startSim({ startDelayMs: 5 }) })
after(async () => { await sim.close() })

test('message formats', () => {
  assert.equal(tailerMessage({ namespace: 'demo', pod: 'web', direction: 'send', peer: 'payments', peerIP: '10.244.2.3', port: 8443, protocol: 'TCP' }),
    'Packet dropped when sending traffic to payments (10.244.2.3) on port 8443/TCP')
  assert.equal(tailerMessage({ namespace: 'demo', pod: 'web', direction: 'receive', peer: '192.0.2.7', peerIP: '192.0.2.7', port: 80, protocol: 'UDP' }),
    'Packet dropped when receiving traffic from 192.0.2.7 on port 80/UDP')
  assert.equal(ciliumMessage({ namespace: 'demo', pod: 'web', direction: 'ingress', peer: 'payments/ledger', peerIP: '10.244.2.3', l4: 'TCP/80' }),
    'Incoming packet dropped (policy_denied) from payments/ledger (10.244.2.3) TCP/80')
  assert.equal(ciliumMessage({ namespace: 'demo', pod: 'web', direction: 'egress', peer: 'world', peerIP: '1.1.1.1', l4: '' }),
    'Outgoing packet dropped (policy_denied) to world (1.1.1.1) ')
})

test('tailer event: shape as client-go v0.18 records it; identical repeat → PATCH count+1 (MODIFIED)', async () => {
  const web = sim.store.get('pods', 'demo', 'web')
  const ev = await sim.drops.tailer({ namespace: 'demo', pod: 'web', direction: 'receive', peer: 'payments', peerIP: '10.244.2.3', port: 80, protocol: 'TCP' }) as any
  assert.match(ev.metadata.name, /^web\.[0-9a-f]{15,}$/)
  assert.equal(ev.metadata.namespace, 'demo')
  assert.deepEqual(ev.involvedObject, { kind: 'Pod', namespace: 'demo', name: 'web', uid: web?.metadata.uid, apiVersion: 'v1', resourceVersion: web?.metadata.resourceVersion })
  assert.equal(ev.reason, 'PacketDrop')
  assert.equal(ev.type, 'Warning')
  assert.equal(ev.count, 1)
  assert.deepEqual(ev.source, { component: 'kube-iptables-tailer' })
  assert.equal(ev.firstTimestamp, ev.lastTimestamp)
  assert.equal(ev.message, 'Packet dropped when receiving traffic from payments (10.244.2.3) on port 80/TCP')

  const res = await fetch(`${sim.url}/api/v1/namespaces/demo/events?watch=true&fieldSelector=reason%3DPacketDrop&resourceVersion=${ev.metadata.resourceVersion}`, { headers: { Authorization: `Bearer ${ADMIN}` } })
  const watching = readWatch(res, e => e.length >= 1)
  const again = await sim.drops.tailer({ namespace: 'demo', pod: 'web', direction: 'receive', peer: 'payments', peerIP: '10.244.2.3', port: 80, protocol: 'TCP' }) as any
  assert.equal(again.metadata.name, ev.metadata.name)
  assert.equal(again.count, 2)
  assert.equal(again.firstTimestamp, ev.firstTimestamp)
  const events = await watching
  assert.deepEqual(events.map(e => [e.type, e.object.count]), [['MODIFIED', 2]])
  assert.equal(sim.store.list('events', 'demo').filter(e => e.reason === 'PacketDrop').length, 1)
})

test('cilium event: source cilium, about the destination pod (by name only) for ingress', async () => {
  const ev = await sim.drops.cilium({ namespace: 'payments', pod: 'ledger', direction: 'ingress', peer: 'demo/web', peerIP: '10.244.1.2', l4: 'TCP/8443' }) as any
  assert.deepEqual(ev.source, { component: 'cilium' })
  assert.deepEqual(ev.involvedObject, { kind: 'Pod', namespace: 'payments', name: 'ledger', apiVersion: 'v1' })
  assert.equal(ev.message, 'Incoming packet dropped (policy_denied) from demo/web (10.244.1.2) TCP/8443')
  const egress = await sim.drops.cilium({ namespace: 'demo', pod: 'api', direction: 'egress', peer: 'world', peerIP: '1.1.1.1', l4: 'UDP/53' }) as any
  assert.equal(egress.involvedObject.uid, sim.store.get('pods', 'demo', 'api')?.metadata.uid, 'egress carries the cached UID')
})

test('cilium correlator: one event per pod and interval; held-back drops are counted into the next write', async () => {
  let now = new Date('2026-06-01T12:00:00Z')
  const w = createDropWriters({ url: sim.url, store: sim.store, tailerToken: 'tailer-token', ciliumToken: 'cilium-token', ciliumIntervalSeconds: 120, now: () => now })
  const drop = (port: number): any => w.cilium({ namespace: 'demo', pod: 'web', direction: 'ingress', peer: 'payments/ledger', peerIP: '10.244.2.3', l4: `TCP/${port}` })
  const first = await drop(80)
  assert.equal(first.count, 1)
  now = new Date(now.getTime() + 10_000)
  assert.equal(await drop(81), undefined, 'spam filter: burst 1 per interval')
  assert.equal(await drop(82), undefined)
  now = new Date(now.getTime() + 120_000)
  const later = await drop(83)
  assert.equal(later.metadata.name, first.metadata.name, 'MaxEvents 1: every drop of this pod aggregates into one Event')
  assert.equal(later.count, 4)
  assert.equal(later.message, 'Incoming packet dropped (policy_denied) from payments/ledger (10.244.2.3) TCP/83')
  assert.equal(later.firstTimestamp, first.firstTimestamp)
})

test('tailer correlator: the 10th distinct message for one pod within 10 min is combined', async () => {
  const w = createDropWriters({ url: sim.url, store: sim.store, tailerToken: 'tailer-token', ciliumToken: 'cilium-token' })
  const names = new Set<string>()
  let last: any
  for (let port = 1; port <= 10; port++) {
    last = await w.tailer({ namespace: 'demo', pod: 'api', direction: 'send', peer: 'payments', peerIP: '10.244.2.3', port })
    names.add(last.metadata.name)
  }
  assert.equal(names.size, 10)
  assert.equal(last.message, '(combined from similar events): Packet dropped when sending traffic to payments (10.244.2.3) on port 10/TCP')
  const next = await w.tailer({ namespace: 'demo', pod: 'api', direction: 'send', peer: 'payments', peerIP: '10.244.2.3', port: 11 }) as any
  assert.equal(next.metadata.name, last.metadata.name)
  assert.equal(next.count, 2)
})

test('the writers go through RBAC: without the binding the tailer gets 403', async () => {
  assert.ok(sim.rbac.remove('ClusterRoleBinding', 'kube-iptables-tailer'))
  await assert.rejects(sim.drops.tailer({ namespace: 'demo', pod: 'api', direction: 'send', peer: 'x', peerIP: '10.0.0.1', port: 1 }),
    (e: unknown) => e instanceof StatusError && e.code === 403 && /User "system:serviceaccount:kube-system:kube-iptables-tailer" cannot create resource "events"/.test(e.message))
})
