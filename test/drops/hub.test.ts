import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { DropHub, type DropHubOptions } from '../../src/drops/hub.ts'
import { NamespaceAccess } from '../../src/drops/access.ts'
import { compileDropFilter } from '../../src/drops/filter.ts'
import { makeDrop } from './fixtures.ts'
import { FakeAuthorizer, FakeResponse } from './fakes.ts'
import { ManualClock } from '../helpers/clock.ts'

const who = { user: 'alice', groups: ['dev'] }

function hubWith (over: Partial<DropHubOptions> = {}): { hub: DropHub, counts: { sent: number, slow: number, subs: number } } {
  const counts = { sent: 0, slow: 0, subs: 0 }
  const hub = new DropHub({
    bufferSize: 100,
    heartbeatSeconds: 60,
    retryMs: 3000,
    maxBacklogBytes: 4096,
    permissionRecheckSeconds: 60,
    maxSubscribers: 10,
    epoch: 'e1',
    closeGraceMs: 50,
    slowCheckMs: 20,
    metrics: { sent: n => { counts.sent += n }, slowDisconnect: () => { counts.slow++ }, subscribers: n => { counts.subs = n } },
    ...over
  })
  return { hub, counts }
}

function nsAccess (auth: FakeAuthorizer, namespace?: string, recheckMs = 60_000): NamespaceAccess {
  const a = new NamespaceAccess({ identity: who, authorizer: auth, recheckMs, namespace })
  if (namespace) a.grant(namespace)
  return a
}

const all = compileDropFilter({})

describe('DropHub', () => {
  test('fans the same frame out to every matching subscriber, never another namespace', async () => {
    const { hub, counts } = hubWith()
    const auth = new FakeAuthorizer()
    auth.allowed.add('demo')
    const a = new FakeResponse()
    const b = new FakeResponse()
    const p = new FakeResponse()
    hub.subscribe({ res: a, filter: compileDropFilter({ namespace: 'demo' }), access: nsAccess(auth, 'demo') })
    hub.subscribe({ res: b, filter: compileDropFilter({ namespace: 'demo', port: 5432 }), access: nsAccess(auth, 'demo') })
    hub.subscribe({ res: p, filter: compileDropFilter({ namespace: 'payments' }), access: nsAccess(auth, 'payments') })
    hub.publish('drop', makeDrop({ id: 'd1', namespace: 'demo' }))
    hub.publish('drop', makeDrop({ id: 'd2', namespace: 'demo', port: 80 }))
    hub.publish('drop', makeDrop({ id: 'p1', namespace: 'payments' }))
    assert.equal(a.events().length, 0, 'written at the end of the turn, not per publish')
    hub.flush()
    assert.deepEqual(a.events().map(e => JSON.parse(e.data).id), ['d1', 'd2'])
    assert.deepEqual(b.events().map(e => JSON.parse(e.data).id), ['d1'])
    assert.deepEqual(p.events().map(e => JSON.parse(e.data).id), ['p1'])
    // identical bytes for the shared event
    const frameOf = (r: FakeResponse): string => r.out.slice(r.out.indexOf('event: drop'))
    assert.equal(frameOf(a).split('\n\n')[0], frameOf(b).split('\n\n')[0])
    assert.equal(a.events()[0]?.id, 'e1-1')
    assert.equal(counts.sent, 4)
    assert.equal(counts.subs, 3)
  })

  test('the drops of one turn reach each subscriber as one write, joined once for everyone who gets them all', async () => {
    const { hub, counts } = hubWith({ maxBacklogBytes: 1 << 20 })
    const a = new FakeResponse()
    const b = new FakeResponse()
    const only5432 = new FakeResponse()
    hub.subscribe({ res: a, filter: all, access: nsAccess(new FakeAuthorizer(), 'demo') })
    hub.subscribe({ res: b, filter: all, access: nsAccess(new FakeAuthorizer(), 'demo') })
    hub.subscribe({ res: only5432, filter: compileDropFilter({ port: 5432 }), access: nsAccess(new FakeAuthorizer(), 'demo') })
    const before = [a.writes, b.writes, only5432.writes]
    for (let i = 0; i < 5; i++) hub.publish('drop', makeDrop({ id: `d${i}`, port: i === 2 ? 80 : 5432 }))
    await new Promise(resolve => setImmediate(resolve))
    assert.deepEqual([a.writes, b.writes, only5432.writes].map((n, i) => n - (before[i] as number)), [1, 1, 1])
    assert.equal(a.chunks.at(-1), b.chunks.at(-1), 'the same joined buffer, not a copy per subscriber')
    assert.deepEqual(a.events().map(e => JSON.parse(e.data).id), ['d0', 'd1', 'd2', 'd3', 'd4'])
    assert.deepEqual(only5432.events().map(e => JSON.parse(e.data).id), ['d0', 'd1', 'd3', 'd4'])
    assert.equal(counts.sent, 14)
  })

  test('a burst larger than half the buffer is written before it could wrap: live readers lose nothing', () => {
    const { hub } = hubWith({ bufferSize: 4 })
    const r = new FakeResponse()
    hub.subscribe({ res: r, filter: all, access: nsAccess(new FakeAuthorizer(), 'demo') })
    for (let i = 0; i < 11; i++) hub.publish('drop', makeDrop({ id: `d${i}` }))
    assert.deepEqual(r.events().map(e => JSON.parse(e.data).id), Array.from({ length: 10 }, (_, i) => `d${i}`))
    hub.flush()
    assert.equal(r.events().length, 11)
  })

  test('first frame is the retry hint with the current id, so a reconnect resumes from here', () => {
    const { hub } = hubWith()
    hub.publish('drop', makeDrop({ id: 'x' }))
    const r = new FakeResponse()
    hub.subscribe({ res: r, filter: all, access: nsAccess(new FakeAuthorizer(), 'demo') })
    assert.equal(r.out, 'retry: 3000\nid: e1-1\n\n')
  })

  test('cluster-wide subscriber: each namespace is checked once, order is kept while checks run', async () => {
    const { hub } = hubWith()
    const auth = new FakeAuthorizer()
    auth.allowed.add('demo')
    const r = new FakeResponse()
    hub.subscribe({ res: r, filter: all, access: nsAccess(auth) })
    hub.publish('drop', makeDrop({ id: 'd1', namespace: 'demo' }))
    hub.publish('drop', makeDrop({ id: 'p1', namespace: 'payments' }))
    hub.publish('drop', makeDrop({ id: 'd2', namespace: 'demo' }))
    hub.flush()
    assert.equal(r.events().length, 0, 'nothing before the review answered')
    for (let i = 0; i < 50 && r.events().length < 2; i++) await sleep(10)
    hub.publish('drop', makeDrop({ id: 'p2', namespace: 'payments' }))
    hub.publish('drop', makeDrop({ id: 'd3', namespace: 'demo' }))
    hub.flush()
    assert.deepEqual(r.events().map(e => JSON.parse(e.data).id), ['d1', 'd2', 'd3'])
    // cluster scope + list/watch for demo and payments (list and watch each)
    assert.ok(auth.calls <= 6, `reviews: ${auth.calls}`)
  })

  test('a cluster-wide allowance shows every namespace', async () => {
    const { hub } = hubWith()
    const auth = new FakeAuthorizer()
    auth.allowed.add('')
    const r = new FakeResponse()
    hub.subscribe({ res: r, filter: all, access: nsAccess(auth) })
    hub.publish('drop', makeDrop({ id: 'd1', namespace: 'demo' }))
    hub.publish('drop', makeDrop({ id: 'p1', namespace: 'payments' }))
    await sleep(20)
    assert.deepEqual(r.events().map(e => JSON.parse(e.data).id), ['d1', 'p1'])
  })

  test('a failing review hides the namespace (fail closed)', async () => {
    const { hub } = hubWith()
    const auth = new FakeAuthorizer()
    auth.fail = true
    const r = new FakeResponse()
    hub.subscribe({ res: r, filter: all, access: nsAccess(auth) })
    hub.publish('drop', makeDrop({ id: 'd1', namespace: 'demo' }))
    await sleep(20)
    assert.equal(r.events().length, 0)
  })

  test('Last-Event-ID replays what came after it, then continues live', () => {
    const { hub } = hubWith()
    for (let i = 1; i <= 3; i++) hub.publish('drop', makeDrop({ id: `d${i}` }))
    const r = new FakeResponse()
    hub.subscribe({ res: r, filter: all, access: nsAccess(new FakeAuthorizer(), 'demo'), lastEventId: 'e1-1' })
    hub.publish('drop-update', makeDrop({ id: 'd1', count: 2 }))
    hub.flush()
    assert.ok(r.out.startsWith('retry: 3000\n\n'))
    assert.deepEqual(r.events().map(e => [e.event, e.id, JSON.parse(e.data).id]), [
      ['drop', 'e1-2', 'd2'], ['drop', 'e1-3', 'd3'], ['drop-update', 'e1-4', 'd1']
    ])
  })

  test('an id no longer held (or of another process) gets `reset` with the current id, then live', () => {
    const { hub } = hubWith({ bufferSize: 2 })
    for (let i = 1; i <= 5; i++) hub.publish('drop', makeDrop({ id: `d${i}` }))
    for (const stale of ['e1-1', 'other-3', 'garbage']) {
      const r = new FakeResponse()
      hub.subscribe({ res: r, filter: all, access: nsAccess(new FakeAuthorizer(), 'demo'), lastEventId: stale })
      const [reset] = r.events()
      assert.equal(reset?.event, 'reset')
      assert.equal(reset?.id, 'e1-5')
      assert.equal(JSON.parse(reset?.data ?? '{}').reason, 'too-old')
    }
    const r = new FakeResponse()
    hub.subscribe({ res: r, filter: all, access: nsAccess(new FakeAuthorizer(), 'demo'), lastEventId: 'e1-4' })
    assert.deepEqual(r.events().map(e => e.id), ['e1-5'])
  })

  test('a stalled reader is cut once its backlog passes the limit; others keep flowing', async () => {
    const { hub, counts } = hubWith({ maxBacklogBytes: 2048 })
    const slow = new FakeResponse()
    const fast = new FakeResponse()
    const closes: string[] = []
    hub.subscribe({ res: slow, filter: all, access: nsAccess(new FakeAuthorizer(), 'demo'), onClose: r => closes.push(r) })
    hub.subscribe({ res: fast, filter: all, access: nsAccess(new FakeAuthorizer(), 'demo') })
    slow.stalled = true
    for (let i = 0; i < 20; i++) hub.publish('drop', makeDrop({ id: `d${i}` }))
    hub.flush()
    // its own memory: one write (the hub's write size, which may end one frame past it; frames
    // here are < 1 KiB), the rest stays in the shared buffer
    assert.equal(hub.writeBytes, 1024, 'half the 2 KiB backlog limit')
    assert.ok(slow.unsent > 0 && slow.unsent < hub.writeBytes + 1024, `unsent ${slow.unsent}`)
    assert.equal(slow.destroyed, false, 'not judged within a burst')
    await sleep(60)
    assert.equal(slow.destroyed, true)
    assert.deepEqual(closes, ['slow'])
    assert.equal(counts.slow, 1)
    assert.equal(hub.size, 1)
    assert.equal(fast.events().length, 20)
  })

  test('a blocked reader that keeps draining catches up in order, even past the limit', async () => {
    const { hub, counts } = hubWith({ maxBacklogBytes: 2048 })
    const r = new FakeResponse()
    hub.subscribe({ res: r, filter: compileDropFilter({ port: 5432 }), access: nsAccess(new FakeAuthorizer(), 'demo') })
    r.stalled = true
    for (let i = 0; i < 30; i++) {
      hub.publish('drop', makeDrop({ id: `d${i}`, port: i % 3 === 0 ? 80 : 5432 }))
      hub.flush()
    }
    r.unstall()
    await sleep(60)
    assert.equal(r.destroyed, false)
    assert.equal(counts.slow, 0)
    const ids = r.events().map(e => JSON.parse(e.data).id)
    assert.deepEqual(ids, Array.from({ length: 30 }, (_, i) => `d${i}`).filter((_, i) => i % 3 !== 0))
    hub.publish('drop', makeDrop({ id: 'live' }))
    hub.flush()
    assert.equal(r.events().at(-1)?.id, 'e1-31')
  })

  test('a reader that falls behind the whole buffer is cut when it drains', () => {
    const { hub, counts } = hubWith({ bufferSize: 5, maxBacklogBytes: 1 << 20 })
    const r = new FakeResponse()
    hub.subscribe({ res: r, filter: all, access: nsAccess(new FakeAuthorizer(), 'demo') })
    r.stalled = true
    for (let i = 0; i < 10; i++) hub.publish('drop', makeDrop({ id: `d${i}` }))
    r.unstall()
    assert.equal(r.destroyed, true)
    assert.equal(counts.slow, 1)
  })

  test('heartbeat comments while subscribers exist', async () => {
    const { hub } = hubWith({ heartbeatSeconds: 0.02 })
    const r = new FakeResponse()
    hub.subscribe({ res: r, filter: all, access: nsAccess(new FakeAuthorizer(), 'demo') })
    await sleep(70)
    assert.match(r.out, /\n: heartbeat\n\n/)
    r.destroy()
    assert.equal(hub.size, 0)
  })

  test('revoked access ends a namespaced stream with `revoked`', async () => {
    const { hub } = hubWith({ permissionRecheckSeconds: 0.02 })
    const auth = new FakeAuthorizer()
    auth.allowed.add('demo')
    const r = new FakeResponse()
    hub.subscribe({ res: r, filter: all, access: nsAccess(auth, 'demo', 20) })
    hub.publish('drop', makeDrop({ id: 'd1' }))
    auth.allowed.delete('demo')
    await sleep(80)
    assert.deepEqual(r.events().map(e => e.event), ['drop', 'revoked'])
    assert.equal(r.writableEnded, true)
    assert.equal(hub.size, 0)
  })

  test('revoked access stops a cluster-wide flow after the recheck', async () => {
    const { hub } = hubWith({ permissionRecheckSeconds: 0.02 })
    const auth = new FakeAuthorizer()
    auth.allowed.add('demo')
    const clock = new ManualClock()
    const access = new NamespaceAccess({ identity: who, authorizer: auth, recheckMs: 20, now: clock.now })
    const r = new FakeResponse()
    hub.subscribe({ res: r, filter: all, access })
    hub.publish('drop', makeDrop({ id: 'd1' }))
    while (r.events().length < 1) await sleep(1)
    auth.allowed.delete('demo')
    clock.advance(21) // the decision is now past its recheck time
    hub.publish('drop', makeDrop({ id: 'd2' }))
    // Joins the re-ask the publish started; the hub's own continuation runs before ours.
    await access.check('demo')
    await new Promise(resolve => setImmediate(resolve))
    assert.deepEqual(r.events().map(e => JSON.parse(e.data).id), ['d1'])
    r.destroy()
  })

  test('close() sends `shutdown` and ends every stream gracefully', async () => {
    // A grace longer than the test timeout: close() can only finish if the streams end.
    const { hub } = hubWith({ closeGraceMs: 600_000 })
    const a = new FakeResponse()
    const b = new FakeResponse()
    hub.subscribe({ res: a, filter: all, access: nsAccess(new FakeAuthorizer(), 'demo') })
    hub.subscribe({ res: b, filter: all, access: nsAccess(new FakeAuthorizer(), 'demo') })
    await hub.close()
    for (const r of [a, b]) {
      assert.equal(r.events().at(-1)?.event, 'shutdown')
      assert.equal(r.writableEnded, true)
    }
    assert.equal(hub.size, 0)
    assert.equal(hub.closing, true)
  })

  test('recent(): latest state per drop, newest first, filtered by access and limit', async () => {
    const { hub } = hubWith()
    const auth = new FakeAuthorizer()
    auth.allowed.add('demo')
    hub.publish('drop', makeDrop({ id: 'a', namespace: 'demo' }))
    hub.publish('drop', makeDrop({ id: 'p', namespace: 'payments' }))
    hub.publish('drop', makeDrop({ id: 'b', namespace: 'demo', port: 80 }))
    hub.publish('drop-update', makeDrop({ id: 'a', namespace: 'demo', count: 3 }))
    const items = await hub.recent({ limit: 10, filter: all, access: nsAccess(auth) })
    assert.deepEqual(items.map(d => [d.id, d.count]), [['a', 3], ['b', 1]])
    const one = await hub.recent({ limit: 1, filter: compileDropFilter({ port: 80 }), access: nsAccess(auth) })
    assert.deepEqual(one.map(d => d.id), ['b'])
  })
})
