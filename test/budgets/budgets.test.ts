// Per-caller budgets over real HTTP/WS: concurrent streams (attach + followed
// logs + drop SSE together), stream-ticket issuance rate and audit volume —
// 429 + Retry-After, other callers unaffected, slots released when streams end,
// refusals past the audit budget summarised rather than written one by one.
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import type { WebSocket } from 'ws'
import { startAttachStack, createPod, createShellPod, openWs, type AttachStack } from '../helpers/attach-stack.ts'
import { startStack, type Stack } from '../helpers/stack.ts'

type Rec = Record<string, any>

async function waitFor (what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (cond()) return
    await new Promise(resolve => setTimeout(resolve, 10))
  }
  assert.fail(`timed out waiting for ${what}`)
}

function problemOf (body: string): Rec {
  return JSON.parse(body) as Rec
}

describe('stream budget and ticket rate', () => {
  let s: AttachStack
  let now = Date.parse('2026-12-01T10:00:00Z')
  const pods: string[] = []
  const talkers: string[] = []
  before(async () => {
    s = await startAttachStack({ config: { drops: { enabled: true } }, clock: () => now })
    for (let i = 0; i < 5; i++) pods.push(await createShellPod(s.sim))
    // A followed log answers once there is output: these print a line and keep running.
    for (let i = 0; i < 4; i++) talkers.push(await createPod(s.sim, { container: { name: 'sh', image: 'busybox', command: ['sh', '-c', 'echo started\nsleep 3600'] } }))
  })
  after(async () => { await s.close() })

  interface Held { close: () => Promise<void> }

  async function followLogs (as: string, pod: string): Promise<{ res: Response, held?: Held }> {
    const ac = new AbortController()
    const res = await s.request(`/v1/namespaces/demo/pods/${pod}/containers/sh/logs?follow=true`, { as, signal: ac.signal })
    if (res.status !== 200) { await res.text(); return { res } }
    return { res, held: { close: async () => { ac.abort(); await res.body?.cancel().catch(() => {}) } } }
  }

  async function dropStream (as: string): Promise<{ res: Response, held?: Held }> {
    const ac = new AbortController()
    const res = await s.request('/v1/namespaces/demo/drops', { as, signal: ac.signal, headers: { accept: 'text/event-stream' } })
    if (res.status !== 200) { await res.text(); return { res } }
    return { res, held: { close: async () => { ac.abort(); await res.body?.cancel().catch(() => {}) } } }
  }

  async function attach (as: string, pod: string): Promise<{ status: number, body?: string, held?: Held }> {
    const token = s.sim.tokens[as] ?? ''
    try {
      const { ws } = await openWs(`${s.wsUrl}/v1/namespaces/demo/pods/${pod}/attach?container=sh`, [], { headers: { authorization: `Bearer ${token}` } })
      return { status: 101, held: { close: async () => await closeWs(ws) } }
    } catch (err) {
      const e = err as { status?: number, body?: string }
      return { status: e.status ?? 0, body: e.body }
    }
  }

  async function closeWs (ws: WebSocket): Promise<void> {
    if (ws.readyState === ws.CLOSED) return
    await new Promise<void>(resolve => { ws.once('close', () => resolve()); ws.close() })
  }

  test('33 concurrent streams of one user: the 33rd gets 429 + Retry-After; others are unaffected; slots come back', { timeout: 60_000 }, async () => {
    const held: Held[] = []
    try {
      // 32 = limits.streamsPerUser (default): attach WebSockets, followed logs and drop SSE count together.
      for (let i = 0; i < 4; i++) {
        const a = await attach('alice', pods[i] as string)
        assert.equal(a.status, 101, a.body)
        held.push(a.held as Held)
      }
      for (let i = 0; i < 4; i++) {
        const d = await dropStream('alice')
        assert.equal(d.res.status, 200)
        held.push(d.held as Held)
      }
      for (let i = 0; i < 24; i++) {
        const l = await followLogs('alice', talkers[i % talkers.length] as string)
        assert.equal(l.res.status, 200)
        held.push(l.held as Held)
      }
      assert.equal(s.app.budgets.streams.held('user:alice'), 32)

      const refusedLogs = await followLogs('alice', talkers[0] as string)
      assert.equal(refusedLogs.res.status, 429)
      assert.ok(Number(refusedLogs.res.headers.get('retry-after')) >= 1)
      assert.equal(refusedLogs.res.headers.get('content-type')?.split(';')[0], 'application/problem+json')
      const refusedAttach = await attach('alice', pods[1] as string)
      assert.equal(refusedAttach.status, 429)
      assert.equal(problemOf(refusedAttach.body ?? '{}').budget, 'streams')
      const refusedDrops = await dropStream('alice')
      assert.equal(refusedDrops.res.status, 429)
      // A non-following log read is not a held stream.
      const once = await s.request(`/v1/namespaces/demo/pods/${talkers[0] as string}/containers/sh/logs`, { as: 'alice' })
      assert.equal(once.status, 200)
      await once.text()

      // Another user is unaffected, on every kind of stream.
      const daveAttach = await attach('dave', pods[4] as string)
      assert.equal(daveAttach.status, 101, daveAttach.body)
      held.push(daveAttach.held as Held)
      const daveLogs = await followLogs('dave', talkers[3] as string)
      assert.equal(daveLogs.res.status, 200)
      held.push(daveLogs.held as Held)

      // One of alice's ends: she may open one again.
      await (held.shift() as Held).close()
      await waitFor('a released slot', () => s.app.budgets.streams.held('user:alice') === 31)
      const again = await followLogs('alice', talkers[0] as string)
      assert.equal(again.res.status, 200)
      held.push(again.held as Held)

      // Each refusal is one audited decision.
      const ids = [refusedLogs.res.headers.get('x-request-id')]
      const recs = JSON.parse('[' + readFileSync(s.auditFile, 'utf8').trim().split('\n').join(',') + ']') as Rec[]
      const rec = recs.filter(r => r.requestId === ids[0])
      assert.equal(rec.length, 1)
      assert.equal(rec[0]?.outcome.status, 429)
      assert.equal(rec[0]?.action, 'logs.read')
    } finally {
      await Promise.all(held.map(async h => { await h.close() }))
    }
    // No leak: every slot is back once the streams are gone.
    await waitFor('all slots released', () => s.app.budgets.streams.total === 0)
    assert.equal(s.app.budgets.streams.callers, 0)
    const metrics = await (await s.request('/metrics')).text()
    assert.match(metrics, /kdebug_budget_refusals_total\{budget="streams"\} 3/)
    assert.match(metrics, /kdebug_budget_streams_open 0/)
  })

  test('a ticket flood gets 429 + Retry-After past the burst; the bucket refills with time; others are unaffected', async () => {
    const issue = async (as: string): Promise<Response> => await s.request('/v1/stream-tickets', { as, method: 'POST', body: JSON.stringify({ url: '/v1/drops' }) })
    for (let i = 0; i < 20; i++) assert.equal((await issue('carol')).status, 201, `ticket ${i + 1}`)
    const refused = await issue('carol')
    assert.equal(refused.status, 429)
    assert.equal(refused.headers.get('retry-after'), '1')
    const body = await refused.json() as Rec
    assert.equal(body.budget, 'tickets')
    assert.equal(body.ticket, undefined)
    for (let i = 0; i < 10; i++) assert.equal((await issue('carol')).status, 429)
    assert.equal((await issue('alice')).status, 201, 'another user is unaffected')
    now += 1000 // 60 per minute: one more a second
    assert.equal((await issue('carol')).status, 201)
    assert.equal((await issue('carol')).status, 429)
  })

  test('a delegated request is charged to the effective user (and to the bot, at a larger share)', async () => {
    const issue = async (user: string): Promise<Response> => await s.request('/v1/stream-tickets', { as: 'chatbot', method: 'POST', headers: { 'impersonate-user': user }, body: JSON.stringify({ url: '/v1/drops' }) })
    let ok = 0
    for (let i = 0; i < 25; i++) if ((await issue('bob')).status === 201) ok++
    assert.equal(ok, 20, 'bob\'s own bucket (burst 20) runs out')
    assert.equal((await issue('alice')).status, 201, 'the bot still has budget of its own (delegatorFactor × burst)')
  })
})

describe('audit volume budget', () => {
  let s: Stack
  let now = Date.parse('2026-12-01T10:00:00Z')
  before(async () => {
    s = await startStack({ config: { drops: { enabled: false }, limits: { auditRecordsPerUserPerMinute: 5 } }, clock: () => now })
  })
  after(async () => { await s.close() })

  const audit = (): Rec[] => readFileSync(s.auditFile, 'utf8').split('\n').filter(Boolean).map(l => JSON.parse(l) as Rec)
  const issue = async (as: string): Promise<Response> => await s.request('/v1/stream-tickets', { as, method: 'POST', body: JSON.stringify({ url: '/v1/drops' }) })

  test('past the budget: 429 + Retry-After, one exceeded record, the rest summarised in one record', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await issue('alice')).status, 201)
    const refused: Response[] = []
    for (let i = 0; i < 6; i++) refused.push(await issue('alice'))
    for (const r of refused) {
      assert.equal(r.status, 429)
      assert.equal(r.headers.get('retry-after'), '60')
    }
    // Any request, not only audited ones: the caller is out of budget.
    assert.equal((await s.request('/v1/whoami', { as: 'alice' })).status, 429)
    const mine = audit().filter(r => r.actor?.user === 'alice')
    assert.equal(mine.filter(r => r.action === 'ticket.issue').length, 5)
    const exceeded = mine.filter(r => r.action === 'audit.budget-exceeded')
    assert.equal(exceeded.length, 1, 'the first refusal is written')
    assert.equal(exceeded[0]?.requestId, refused[0]?.headers.get('x-request-id'))
    for (const r of refused.slice(1)) assert.equal(audit().filter(x => x.requestId === r.headers.get('x-request-id')).length, 0)

    // Other callers are unaffected.
    assert.equal((await issue('bob')).status, 201)

    // The window ends: alice is admitted again and one summary says how many were refused.
    now += 60_000
    assert.equal((await issue('alice')).status, 201)
    const summaries = audit().filter(r => r.action === 'audit.budget-summary' && r.actor?.user === 'alice')
    assert.equal(summaries.length, 1)
    assert.equal(summaries[0]?.outcome.refused, 7)
    assert.equal(summaries[0]?.outcome.status, 429)
    const metrics = await (await s.request('/metrics')).text()
    assert.match(metrics, /kdebug_budget_refusals_total\{budget="audit"\} 7/)
    assert.match(metrics, /kdebug_audit_refusals_summarised_total 6/)
  })

  test('unauthenticated floods are bounded per address: records stop at the budget, the rest are summarised', async () => {
    const before = audit().length
    for (let i = 0; i < 12; i++) {
      const res = await s.request('/v1/stream-tickets', { token: `bogus-${i}-${'x'.repeat(20)}`, method: 'POST', body: JSON.stringify({ url: '/v1/drops' }) })
      assert.equal(res.status, 401)
    }
    const written = audit().slice(before).filter(r => r.actor?.user === 'system:anonymous' && r.action === 'ticket.issue')
    assert.equal(written.length, 5)
    now += 60_000
    assert.equal((await issue('bob')).status, 201)
    const summary = audit().filter(r => r.action === 'audit.budget-summary' && r.actor?.user === 'system:anonymous')
    assert.equal(summary.length, 1)
    assert.equal(summary[0]?.outcome.refused, 7)
  })
})
