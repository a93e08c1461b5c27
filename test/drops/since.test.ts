// `since` on the drop routes: a new panel starts with the recent history this
// replica holds, then goes live (SSE), or gets only that history (JSON). The
// gateway's clock is a ManualClock, so "how long ago" is a step in the test.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startStack, type Stack } from '../helpers/stack.ts'
import { SseClient } from '../helpers/drops-stack.ts'
import { ManualClock } from '../helpers/clock.ts'
import { jsonOf } from '../helpers/http.ts'
import { parseDurationMs } from '../../src/lib/duration.ts'

let s: Stack
const clock = new ManualClock(Date.now())

async function waitFor (cond: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await cond()) return
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  throw new Error(`timed out waiting for ${what}`)
}

const held = async (query: string, as = 'alice'): Promise<Array<{ pod: string, port: number }>> =>
  (await jsonOf(await s.request(`/v1/namespaces/demo/drops?${query}`, { as }))).items

before(async () => {
  s = await startStack({ clock: clock.now, config: { drops: { backoff: { initialMs: 20, maxMs: 200 } } } })
  await waitFor(async () => ((await jsonOf(await fetch(`${s.url}/readyz`))).checks ?? []).some((c: { name: string, ok: boolean }) => c.name === 'drop-watch' && c.ok), 'the drop watch')
  // Two drops now (the sim stamps them with the real time the gateway's clock started at) …
  await s.sim.drops.tailer({ namespace: 'demo', pod: 'web', direction: 'send', peer: 'payments', peerIP: '10.244.2.17', port: 7101 })
  await s.sim.drops.tailer({ namespace: 'demo', pod: 'api', direction: 'send', peer: 'payments', peerIP: '10.244.2.17', port: 7102 })
  await waitFor(async () => (await held('port=7102')).length === 1, 'the drops to arrive')
  // … and the gateway's "now" is 20 minutes later.
  clock.advance(20 * 60_000)
})
after(async () => { await s.close() })

test('JSON: since=30m has the drops of 20 minutes ago, since=10m has none; without since, all that is held', async () => {
  assert.deepEqual((await held('since=30m')).filter(d => d.port > 7100).map(d => d.pod).sort(), ['api', 'web'])
  assert.deepEqual((await held('since=10m')).filter(d => d.port > 7100), [])
  assert.equal((await held('since=1h30m')).filter(d => d.port > 7100).length, 2)
  assert.equal((await held('')).filter(d => d.port > 7100).length, 2)
})

test('SSE: since=30m replays the held drops first (with their ids), then the stream goes live', async () => {
  const c = await SseClient.open(s, '/v1/namespaces/demo/drops?since=30m&direction=egress', 'alice')
  const first = await c.next(e => e.event === 'drop' && e.json.port === 7101)
  const second = await c.next(e => e.event === 'drop' && e.json.port === 7102)
  const seq = (id: string | undefined): number => Number(id?.split('-').pop())
  assert.ok(seq(first.id) < seq(second.id))
  await s.sim.drops.tailer({ namespace: 'demo', pod: 'web', direction: 'send', peer: 'payments', peerIP: '10.244.2.17', port: 7103 })
  await c.next(e => e.event === 'drop' && e.json.port === 7103)
  c.close()
})

test('SSE: since=10m replays nothing older (the history is written before anything live)', async () => {
  const c = await SseClient.open(s, '/v1/namespaces/demo/drops?since=10m', 'alice')
  await s.sim.drops.tailer({ namespace: 'demo', pod: 'api', direction: 'send', peer: 'payments', peerIP: '10.244.2.17', port: 7104 })
  await c.next(e => e.event === 'drop' && e.json.port === 7104)
  // the drops stamped 20 minutes before the gateway's now would have come first
  assert.deepEqual(c.drops().map(e => e.json.port), [7104])
  c.close()
})

test('since must be a duration: 400 naming the field', async () => {
  for (const bad of ['10', 'ten', '-5m', '1d', 'h']) {
    const res = await s.request(`/v1/namespaces/demo/drops?since=${bad}`, { as: 'alice' })
    assert.equal(res.status, 400, bad)
    assert.equal((await jsonOf(res)).errors[0].field, '/querystring/since')
  }
})

test('parseDurationMs: h/m/s in order, as kubectl --since', () => {
  assert.equal(parseDurationMs('45s'), 45_000)
  assert.equal(parseDurationMs('10m'), 600_000)
  assert.equal(parseDurationMs('1h30m'), 5_400_000)
  assert.equal(parseDurationMs('2h5s'), 7_205_000)
  assert.equal(parseDurationMs(''), undefined)
  assert.equal(parseDurationMs('5m1h'), undefined)
  assert.equal(parseDurationMs('1.5h'), undefined)
})
