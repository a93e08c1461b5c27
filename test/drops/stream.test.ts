// Packet drops end to end: the sim's tailer/Cilium writers → the sim API
// server → the gateway's one watch → SSE/JSON clients over real HTTP.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import net from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { startDropsStack, SseClient, type DropsStack } from '../helpers/drops-stack.ts'

const tailerDrop = (namespace: string, pod: string, port = 5432): Parameters<DropsStack['sim']['drops']['tailer']>[0] =>
  ({ namespace, pod, direction: 'send', peer: 'payments', peerIP: '10.244.2.17', port })

interface Metric { name: string, value: number }
async function metric (s: DropsStack, name: string): Promise<number> {
  const text = await (await fetch(`${s.url}/metrics`)).text()
  const found: Metric[] = []
  for (const line of text.split('\n')) {
    const m = /^(\S+?)(?:\{[^}]*\})? (\S+)$/.exec(line)
    if (m && m[1] === name) found.push({ name, value: Number(m[2]) })
  }
  return found.reduce((a, m) => a + m.value, 0)
}

describe('drops (gateway + sim)', () => {
  let s: DropsStack

  before(async () => {
    s = await startDropsStack({ drops: { heartbeatSeconds: 0.2, retryMs: 1500 } })
  })
  after(async () => { await s.close() })

  test('live: alice sees demo and never payments; bob sees demo; carol sees all', async () => {
    const alice = await SseClient.open(s, '/v1/drops', 'alice')
    const bob = await SseClient.open(s, '/v1/namespaces/demo/drops', 'bob')
    const carol = await SseClient.open(s, '/v1/drops', 'carol')
    assert.equal(alice.status, 200)
    assert.equal(alice.headers.get('content-type'), 'text/event-stream; charset=utf-8')
    assert.equal(alice.headers.get('cache-control'), 'no-cache')
    assert.equal(alice.headers.get('x-accel-buffering'), 'no')
    assert.match(alice.raw, /^retry: 1500\nid: \S+\n\n/)

    await s.sim.drops.cilium({ namespace: 'payments', pod: 'ledger', direction: 'ingress', peer: 'demo/web', peerIP: '10.244.1.9', l4: 'TCP/5432' })
    await s.sim.drops.tailer(tailerDrop('demo', 'web'))
    const d = await alice.next(e => e.event === 'drop')
    assert.equal(d.json.namespace, 'demo')
    assert.equal(d.json.pod, 'web')
    assert.equal(d.json.source, 'kube-iptables-tailer')
    assert.equal(d.json.port, 5432)
    assert.ok(d.id !== undefined && d.id !== '')
    await bob.next(e => e.event === 'drop' && e.json.pod === 'web')
    await carol.next(e => e.json?.namespace === 'payments')
    await carol.next(e => e.json?.namespace === 'demo')
    await sleep(50)
    assert.ok(alice.drops().every(e => e.json.namespace === 'demo'), 'alice never sees payments')
    assert.ok(bob.drops().every(e => e.json.namespace === 'demo'))
    for (const c of [alice, bob, carol]) c.close()
  })

  test('alice may not open payments: 403 problem before any stream', async () => {
    const res = await s.request('/v1/namespaces/payments/drops', { as: 'alice', headers: { accept: 'text/event-stream' } })
    assert.equal(res.status, 403)
    assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/)
    const body = await res.json() as { permission?: string }
    assert.match(body.permission ?? '', /events in namespace payments/)
  })

  test('repeats arrive as drop-update with the higher count', async () => {
    const bob = await SseClient.open(s, '/v1/namespaces/demo/drops?port=8081', 'bob')
    await s.sim.drops.tailer(tailerDrop('demo', 'api', 8081))
    const first = await bob.next(e => e.event === 'drop')
    await s.sim.drops.tailer(tailerDrop('demo', 'api', 8081))
    const upd = await bob.next(e => e.event === 'drop-update')
    assert.equal(upd.json.id, first.json.id)
    assert.equal(upd.json.count, first.json.count + 1)
    bob.close()
  })

  test('heartbeat comments', async () => {
    const c = await SseClient.open(s, '/v1/namespaces/demo/drops', 'bob')
    await sleep(450)
    assert.match(c.raw, /\n: heartbeat\n\n/)
    c.close()
  })

  test('Last-Event-ID replays exactly what was missed (header and query parameter)', async () => {
    const c = await SseClient.open(s, '/v1/namespaces/demo/drops?port=9001', 'bob')
    await s.sim.drops.tailer(tailerDrop('demo', 'web', 9001))
    const seen = await c.next(e => e.event === 'drop')
    c.close()
    await s.sim.drops.tailer(tailerDrop('demo', 'api', 9001))
    await s.sim.drops.tailer(tailerDrop('demo', 'web', 9001))
    await sleep(100)
    const again = await SseClient.open(s, '/v1/namespaces/demo/drops?port=9001', 'bob', { 'last-event-id': seen.id ?? '' })
    await again.next(e => e.event === 'drop-update')
    await sleep(30)
    assert.deepEqual(again.drops().map(e => [e.event, e.json.pod]), [['drop', 'api'], ['drop-update', 'web']])
    again.close()
    const viaQuery = await SseClient.open(s, `/v1/namespaces/demo/drops?port=9001&lastEventId=${encodeURIComponent(seen.id ?? '')}`, 'bob')
    await viaQuery.next(e => e.event === 'drop-update')
    assert.equal(viaQuery.drops().length, 2)
    viaQuery.close()
  })

  test('an unknown or too old Last-Event-ID gets `reset`, then the stream continues live', async () => {
    const c = await SseClient.open(s, '/v1/namespaces/demo/drops?port=9002', 'bob', { 'last-event-id': 'other-replica-42' })
    const reset = await c.next(e => e.event === 'reset')
    assert.equal(reset.json.reason, 'too-old')
    await s.sim.drops.tailer(tailerDrop('demo', 'web', 9002))
    await c.next(e => e.event === 'drop')
    c.close()
  })

  test('JSON list mode: newest first, limit, only permitted namespaces', async () => {
    const res = await s.request('/v1/drops?limit=3', { as: 'alice' })
    assert.equal(res.status, 200)
    const body = await res.json() as { items: Array<{ namespace: string, time: string | null }>, watch: { healthy: boolean }, resourceVersion?: string }
    assert.equal(body.items.length, 3)
    assert.ok(body.items.every(d => d.namespace === 'demo'))
    assert.equal(body.watch.healthy, true)
    assert.match(body.resourceVersion ?? '', /^\d+$/)
    const carol = await (await s.request('/v1/drops?limit=1000', { as: 'carol' })).json() as { items: Array<{ namespace: string, pod: string, port: number }> }
    assert.ok(carol.items.some(d => d.namespace === 'payments'))
    // newest first: the last drop written above (port 9002) leads
    assert.equal(carol.items[0]?.port, 9002)
    const filtered = await (await s.request('/v1/namespaces/demo/drops?pod=a*&port=9001', { as: 'bob' })).json() as { items: Array<{ pod: string }> }
    assert.deepEqual(filtered.items.map(d => d.pod), ['api'])
    const bad = await s.request('/v1/drops?limit=5000', { as: 'carol' })
    assert.equal(bad.status, 400)
  })

  test('a dropped upstream watch resumes without loss or duplicates', async () => {
    const restarts = await metric(s, 'kdebug_drops_watch_restarts_total')
    const c = await SseClient.open(s, '/v1/namespaces/demo/drops?port=7001', 'bob')
    s.sim.faults.set({ dropWatchAfterEvents: 2 })
    for (let i = 0; i < 6; i++) await s.sim.drops.tailer(tailerDrop('demo', i % 2 === 0 ? 'web' : 'api', 7001))
    await c.next(e => e.json?.count === 3 && e.json.pod === 'api')
    s.sim.faults.set({ dropWatchAfterEvents: 0 })
    await sleep(50)
    // web: drop,update,update; api: drop,update,update — each exactly once, in order
    assert.deepEqual(c.drops().map(e => `${e.json.pod}:${e.json.count}`), ['web:1', 'api:1', 'web:2', 'api:2', 'web:3', 'api:3'])
    assert.ok(await metric(s, 'kdebug_drops_watch_restarts_total') > restarts)
    c.close()
  })

  test('forced 410 → re-list, no duplicates', async () => {
    const relists = await metric(s, 'kdebug_drops_watch_relists_total')
    const c = await SseClient.open(s, '/v1/namespaces/demo/drops?port=7002', 'bob')
    await s.sim.drops.tailer(tailerDrop('demo', 'web', 7002))
    await c.next(e => e.event === 'drop')
    // end the current watch after its next event; the resumed one gets 410 before it starts
    s.sim.faults.set({ dropWatchAfterEvents: 1, expireNextWatch: 'http' })
    await s.sim.drops.tailer(tailerDrop('demo', 'api', 7002))
    s.sim.faults.set({ dropWatchAfterEvents: 0 })
    await s.sim.drops.tailer(tailerDrop('demo', 'web', 7002))
    await c.next(e => e.event === 'drop-update')
    await sleep(100)
    assert.deepEqual(c.drops().map(e => `${e.event}:${e.json.pod}:${e.json.count}`), ['drop:web:1', 'drop:api:1', 'drop-update:web:2'])
    assert.ok(await metric(s, 'kdebug_drops_watch_relists_total') > relists)
    c.close()
  })

  test('a real client: curl -N reads the stream', async () => {
    const child = spawn('curl', ['-N', '-s', '--max-time', '5', '-H', 'Accept: text/event-stream',
      '-H', `Authorization: Bearer ${s.sim.tokens.bob ?? ''}`, `${s.url}/v1/namespaces/demo/drops?port=6001`], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (d: string) => { out += d })
    const exited = new Promise(resolve => child.once('exit', resolve))
    try {
      for (let i = 0; i < 100 && !out.startsWith('retry:'); i++) await sleep(10)
      await s.sim.drops.tailer(tailerDrop('demo', 'web', 6001))
      for (let i = 0; i < 300 && !out.includes('event: drop'); i++) await sleep(10)
      assert.match(out, /^retry: 1500\n/)
      assert.match(out, /event: drop\nid: \S+\ndata: \{.*"port":6001/)
    } finally {
      child.kill()
      await exited
    }
  })

  test('readiness reports the drop watch', async () => {
    const body = await (await fetch(`${s.url}/readyz`)).json() as { checks: Array<{ name: string, ok: boolean, critical: boolean, detail?: string }> }
    const check = body.checks.find(c => c.name === 'drop-watch')
    assert.equal(check?.ok, true)
    assert.equal(check?.critical, false)
    assert.match(check?.detail ?? '', /watching/)
  })
})

describe('drops: small buffer, backlog limit, shutdown', () => {
  test('reset when the id fell out of the buffer; a stalled reader is cut; shutdown sends `shutdown`', async () => {
    const s = await startDropsStack({ drops: { bufferSize: 3, maxBacklogBytes: 262144 } })
    try {
      const c = await SseClient.open(s, '/v1/namespaces/demo/drops', 'bob')
      await s.sim.drops.tailer(tailerDrop('demo', 'web', 1))
      const first = await c.next(e => e.event === 'drop')
      for (let p = 2; p <= 5; p++) await s.sim.drops.tailer(tailerDrop('demo', 'web', p))
      await c.next(e => e.json?.port === 5)
      c.close()
      const late = await SseClient.open(s, '/v1/namespaces/demo/drops', 'bob', { 'last-event-id': first.id ?? '' })
      const reset = await late.next(e => e.event === 'reset')
      assert.equal(reset.json.reason, 'too-old')
      late.close()

      // a reader that never reads: raw socket, paused
      const stalled = net.connect((new URL(s.url)).port as unknown as number, '127.0.0.1')
      stalled.write(`GET /v1/drops HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nAuthorization: Bearer ${s.sim.tokens.carol ?? ''}\r\n\r\n`)
      const stalledClosed = new Promise(resolve => stalled.once('close', resolve))
      stalled.on('error', () => {})
      await sleep(100)
      stalled.pause()
      const healthy = await SseClient.open(s, '/v1/drops', 'carol')
      // big events straight into the sim's store: ~6 MB, more than the loopback socket buffers
      // (4 MB send + 128 KB receive) plus the backlog limit. One at a time, each once the healthy
      // reader has it: with a 3-drop buffer, a reader that owes more than 3 drops is cut as slow,
      // so the healthy one must never owe more than one (batches raced the kernel's buffer sizes).
      const padding = 'x'.repeat(16 * 1024)
      const N = 400
      const bulkSeen = (): number => healthy.drops().filter(e => e.json.peer === 'bulk').length
      for (let i = 0; i < N; i++) {
        s.sim.store.create('events', {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { name: `bulk.${i}`, namespace: 'demo' },
          involvedObject: { kind: 'Pod', namespace: 'demo', name: 'web', apiVersion: 'v1' },
          reason: 'PacketDrop',
          message: `Packet dropped when sending traffic to bulk (10.0.0.1) on port 1/TCP ${padding}`,
          source: { component: 'kube-iptables-tailer' },
          count: 1,
          type: 'Warning'
        })
        await healthy.next(() => bulkSeen() === i + 1)
      }
      for (let i = 0; i < 200 && await metric(s, 'kdebug_drops_slow_disconnects_total') === 0; i++) await sleep(20)
      assert.equal(await metric(s, 'kdebug_drops_slow_disconnects_total'), 1)
      stalled.resume()
      await stalledClosed
      assert.equal(await metric(s, 'kdebug_drops_subscribers'), 1)

      // graceful shutdown: the open stream gets `shutdown` and ends, close() does not hang
      await s.app.close()
      await healthy.ended
      assert.equal(healthy.events.at(-1)?.event, 'shutdown')
    } finally {
      await s.close()
    }
  })
})
