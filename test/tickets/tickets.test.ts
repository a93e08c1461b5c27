import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { startAttachStack, createShellPod, openWs, type AttachStack } from '../helpers/attach-stack.ts'
import { KdebugClient } from '../helpers/attach-client.ts'
import { TicketService, bindingOf } from '../../src/tickets/service.ts'
import { translateBearerProtocol } from '../../src/attach/protocols.ts'
import type { Identity } from '../../src/auth/identity.ts'

let s: AttachStack
let pod: string
before(async () => {
  s = await startAttachStack()
  pod = await createShellPod(s.sim)
})
after(async () => { await s.close() })

const attachPath = (p: string, container = 'sh'): string => `/v1/namespaces/demo/pods/${p}/attach?container=${container}`

async function issue (url: string, as = 'alice', headers: Record<string, string> = {}): Promise<{ ticket: string, expiresAt: string, path: string, container?: string }> {
  const res = await s.request('/v1/stream-tickets', { method: 'POST', as, headers, body: JSON.stringify({ url }) })
  assert.equal(res.status, 201, await res.clone().text())
  assert.equal(res.headers.get('cache-control'), 'no-store')
  return await res.json() as { ticket: string, expiresAt: string, path: string, container?: string }
}

async function attachWithTicket (path: string, ticket: string): Promise<{ status?: number, client?: KdebugClient }> {
  try {
    const { ws } = await openWs(`${s.wsUrl}${path}&ticket=${encodeURIComponent(ticket)}`)
    return { client: new KdebugClient(ws) }
  } catch (err) {
    return { status: (err as { status?: number }).status }
  }
}

describe('stream tickets', () => {
  test('a ticket opens the attach it was issued for, once', async () => {
    const t = await issue(attachPath(pod))
    assert.equal(t.path, `/v1/namespaces/demo/pods/${pod}/attach`)
    assert.equal(t.container, 'sh')
    const expires = Date.parse(t.expiresAt) - Date.now()
    assert.ok(expires > 20_000 && expires <= 30_000, `expires in ${expires} ms`)
    const first = await attachWithTicket(attachPath(pod), t.ticket)
    assert.ok(first.client)
    first.client.send('echo by-ticket\n')
    await first.client.waitText('by-ticket')
    first.client.ws.close()
    await first.client.closed
    const again = await attachWithTicket(attachPath(pod), t.ticket)
    assert.equal(again.status, 401, 'a used ticket is refused')
    // never written to the audit trail
    assert.ok(!readFileSync(s.auditFile, 'utf8').includes(t.ticket))
    const start = (await s.audit()).find(r => r.action === 'attach.start' && (r.request as Record<string, unknown>).authMethod === 'ticket')
    assert.ok(start, 'the session records that a ticket authenticated it')
  })

  test('a ticket for another URL or container is refused', async () => {
    const t = await issue(attachPath(pod))
    assert.equal((await attachWithTicket(attachPath('web', 'app'), t.ticket)).status, 401)
    assert.equal((await attachWithTicket(attachPath(pod, 'other'), t.ticket)).status, 401)
    const logs = await s.request(`/v1/namespaces/demo/pods/${pod}/containers/sh/logs?ticket=${encodeURIComponent(t.ticket)}`)
    assert.equal(logs.status, 401)
    // A wrong-URL attempt does not use the ticket up.
    const ok = await attachWithTicket(attachPath(pod), t.ticket)
    assert.ok(ok.client)
    ok.client.ws.close()
    await ok.client.closed
  })

  test('a forged or tampered ticket is refused', async () => {
    const t = await issue(attachPath(pod))
    const [p, payload, sig] = t.ticket.split('.') as [string, string, string]
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>
    claims.i = { u: 'admin', g: ['system:masters'] }
    const forged = `${p}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${sig}`
    assert.equal((await attachWithTicket(attachPath(pod), forged)).status, 401)
    assert.equal((await attachWithTicket(attachPath(pod), 'garbage')).status, 401)
  })

  test('a ticket keeps delegation: the bot acting for alice', async () => {
    const t = await issue(attachPath(pod), 'chatbot', { 'impersonate-user': 'alice', 'impersonate-group': 'dev' })
    const r = await attachWithTicket(attachPath(pod), t.ticket)
    assert.ok(r.client)
    r.client.ws.close()
    await r.client.closed
    const starts = (await s.audit()).filter(x => x.action === 'attach.start' && (x.actor as Record<string, unknown>).user === 'chatbot')
    assert.deepEqual((starts.at(-1)?.actor as Record<string, unknown>).onBehalfOf, { user: 'alice', groups: ['dev', 'system:authenticated'] })
  })

  test('tickets need authentication and a /v1/ stream path', async () => {
    const anon = await s.request('/v1/stream-tickets', { method: 'POST', body: JSON.stringify({ url: attachPath(pod) }) })
    assert.equal(anon.status, 401)
    const bad = await s.request('/v1/stream-tickets', { method: 'POST', as: 'alice', body: JSON.stringify({ url: 'https://elsewhere.example/x' }) })
    assert.equal(bad.status, 400)
  })

  test('expired tickets are refused (clock injected)', () => {
    let now = 1_000_000
    const svc = new TicketService({ ttlMs: 30_000, maxUsed: 100, now: () => now })
    const id: Identity = { user: 'alice', groups: ['dev'], method: 'static' }
    const url = '/v1/namespaces/demo/pods/web/attach?container=app'
    const { ticket } = svc.issue(id, bindingOf(url)!)
    now += 30_000
    assert.equal(svc.redeem(ticket, url), undefined)
    const second = svc.issue(id, bindingOf(url)!).ticket
    now += 29_999
    assert.deepEqual(svc.redeem(second, url), { user: 'alice', groups: ['dev'], method: 'ticket' })
  })

  test('the used-ticket set is bounded and fails closed', () => {
    let now = 0
    const svc = new TicketService({ ttlMs: 1000, maxUsed: 100, now: () => now })
    const id: Identity = { user: 'a', groups: [], method: 'static' }
    const tickets = Array.from({ length: 101 }, () => svc.issue(id, { path: '/v1/drops' }).ticket)
    for (const t of tickets.slice(0, 100)) assert.ok(svc.redeem(t, '/v1/drops'))
    assert.equal(svc.redeem(tickets[100]!, '/v1/drops'), undefined, 'full: refused rather than forgetting live ids')
    now += 1001
    const fresh = svc.issue(id, { path: '/v1/drops' }).ticket
    assert.ok(svc.redeem(fresh, '/v1/drops'), 'expired ids are purged')
    assert.equal(svc.usedCount, 1)
  })

  test('tickets verify on another replica with the same secret, not with another', () => {
    const secret = 'x'.repeat(32)
    const a = new TicketService({ secret, ttlMs: 30_000, maxUsed: 100 })
    const b = new TicketService({ secret, ttlMs: 30_000, maxUsed: 100 })
    const c = new TicketService({ ttlMs: 30_000, maxUsed: 100 })
    const t = a.issue({ user: 'u', groups: [], method: 'static' }, { path: '/v1/drops' }).ticket
    assert.equal(c.redeem(t, '/v1/drops'), undefined)
    assert.ok(b.redeem(t, '/v1/drops'))
  })
})

describe('bearer subprotocol', () => {
  const bearerProtocol = (token: string): string => `base64url.bearer.authorization.k8s.io.${Buffer.from(token).toString('base64url')}`

  test('authenticates a WebSocket without an Authorization header; the token is not echoed', async () => {
    const { ws, protocol } = await openWs(`${s.wsUrl}${attachPath(pod)}`, ['kdebug.v1', bearerProtocol('alice-token')])
    assert.equal(protocol, 'kdebug.v1')
    const c = new KdebugClient(ws)
    c.send('echo bearer-ok\n')
    await c.waitText('bearer-ok')
    ws.close()
    await c.closed
    const v5 = await openWs(`${s.wsUrl}${attachPath(pod)}`, [bearerProtocol('alice-token'), 'v5.channel.k8s.io'])
    assert.equal(v5.protocol, 'v5.channel.k8s.io')
    v5.ws.close()
  })

  test('a bad token in the subprotocol is a 401', async () => {
    const err = await openWs(`${s.wsUrl}${attachPath(pod)}`, ['kdebug.v1', bearerProtocol('nope')]).then(() => undefined, (e: { status?: number }) => e)
    assert.equal(err?.status, 401)
  })

  test('translateBearerProtocol', () => {
    const h: Record<string, string | undefined> = { 'sec-websocket-protocol': `${bearerProtocol('t0k')}, v5.channel.k8s.io` }
    translateBearerProtocol(h)
    assert.deepEqual(h, { 'sec-websocket-protocol': 'v5.channel.k8s.io', authorization: 'Bearer t0k' })
    const only: Record<string, string | undefined> = { 'sec-websocket-protocol': bearerProtocol('t'), authorization: 'Bearer other' }
    translateBearerProtocol(only)
    assert.deepEqual(only, { authorization: 'Bearer other' }, 'an explicit header wins; the protocol is still removed')
  })
})
