// Every decision is one audit record, allowed or denied: refused delegation,
// authentication failures, log reads, ticket issuance, attach refusals (origin,
// ticket, RBAC, policy, protocol), session deletes that end 404/409, drop
// subscriptions, every 5xx, and allowed reads that wrote no record of their own. The record's requestId is the gateway's own id
// (the response's x-request-id); the client's X-Request-Id is clientRequestId.
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { startAttachStack, createShellPod, openWs, type AttachStack } from '../helpers/attach-stack.ts'
import { defaultPolicy } from '../../src/policy/default.ts'
import type { Policy } from '../../src/policy/config-schema.ts'

type Rec = Record<string, any>

/** The default policy plus: dave may read logs but not attach (a policy refusal with RBAC allowing it). */
function policy (): Policy {
  const rules = structuredClone(defaultPolicy.rules) as Policy['rules']
  const dev = rules.find(r => r.name === 'developers')
  if (!dev) throw new Error('default policy changed')
  dev.allow.maxSessionsPerUser = 100
  return { rules: [{ name: 'dave-logs-only', match: { users: ['dave'] }, allow: { ...structuredClone(dev.allow), actions: ['logs'] } }, ...rules] }
}

const logLines: Rec[] = []
const logSink = new Writable({
  write (chunk: Buffer, _enc, cb) {
    for (const line of chunk.toString('utf8').split('\n')) if (line !== '') logLines.push(JSON.parse(line) as Rec)
    cb()
  }
})

let s: AttachStack
let shell: string
before(async () => {
  s = await startAttachStack({
    config: { policy: policy(), drops: { enabled: true } },
    logger: pino({ level: 'info' }, logSink)
  })
  shell = await createShellPod(s.sim)
})
after(async () => { await s.close() })

async function recordsOf (res: Response): Promise<Rec[]> {
  const id = res.headers.get('x-request-id')
  assert.ok(id, 'x-request-id on every response')
  return (await s.audit()).filter(r => r.requestId === id) as Rec[]
}

/** Exactly one record for the response, of this action/phase/status. */
async function one (res: Response, want: { action: string, phase: string, status: number, allowed?: boolean }): Promise<Rec> {
  const recs = await recordsOf(res)
  assert.equal(recs.length, 1, `one record, got ${JSON.stringify(recs)}`)
  const r = recs[0] as Rec
  assert.equal(r.action, want.action)
  assert.equal(r.phase, want.phase)
  if (want.phase !== 'request') assert.equal(r.outcome?.status, want.status)
  if (want.allowed !== undefined) assert.equal(r.decision?.allowed, want.allowed)
  return r
}

const bearer = (who: string): Record<string, string> => ({ authorization: `Bearer ${s.sim.tokens[who] ?? ''}` })

async function refusedWs (url: string, headers: Record<string, string>, protocols: string[] = []): Promise<{ status: number, requestId: string }> {
  const err = await openWs(url, protocols, { headers }).then(() => undefined, (e: Error & { status?: number, body?: string }) => e)
  assert.ok(err, 'expected a refusal before the upgrade')
  const body = JSON.parse(err.body ?? '{}') as Rec
  return { status: err.status ?? 0, requestId: String(body.requestId) }
}

async function oneById (requestId: string, want: { action: string, phase: string, status: number }): Promise<Rec> {
  const recs = (await s.audit()).filter(r => r.requestId === requestId) as Rec[]
  assert.equal(recs.length, 1, `one record, got ${JSON.stringify(recs)}`)
  const r = recs[0] as Rec
  assert.equal(r.action, want.action)
  assert.equal(r.phase, want.phase)
  assert.equal(r.outcome?.status, want.status)
  assert.equal(r.decision?.allowed, false)
  return r
}

describe('request ids', () => {
  test('the audit requestId is the gateway\'s id; the client\'s X-Request-Id is clientRequestId', async () => {
    const res = await s.request('/v1/stream-tickets', { as: 'alice', method: 'POST', headers: { 'x-request-id': 'portal-42.abc' }, body: JSON.stringify({ url: `/v1/namespaces/demo/pods/${shell}/attach?container=sh` }) })
    assert.equal(res.status, 201)
    const id = res.headers.get('x-request-id') ?? ''
    assert.notEqual(id, 'portal-42.abc')
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    const r = await one(res, { action: 'ticket.issue', phase: 'request', status: 0, allowed: true })
    assert.equal(r.clientRequestId, 'portal-42.abc')
    // A forged id cannot pull someone else's records into "my" request.
    assert.equal((await s.audit()).filter(x => x.requestId === 'portal-42.abc').length, 0)
  })

  test('two requests with the same client id get distinct audit ids', async () => {
    const h = { 'x-request-id': 'dup-1' }
    const a = await s.request('/v1/whoami', { as: 'chatbot', headers: { ...h, 'impersonate-user': 'carol' } })
    const b = await s.request('/v1/whoami', { as: 'chatbot', headers: { ...h, 'impersonate-user': 'carol' } })
    assert.notEqual(a.headers.get('x-request-id'), b.headers.get('x-request-id'))
    const ra = await one(a, { action: 'http.request', phase: 'denied', status: 403 })
    const rb = await one(b, { action: 'http.request', phase: 'denied', status: 403 })
    assert.equal(ra.clientRequestId, 'dup-1')
    assert.equal(rb.clientRequestId, 'dup-1')
  })
})

describe('authentication and delegation', () => {
  test('refused impersonation is one denied record naming the caller and the permission', async () => {
    const res = await s.request('/v1/whoami', { as: 'chatbot', headers: { 'impersonate-user': 'carol' } })
    assert.equal(res.status, 403)
    const r = await one(res, { action: 'http.request', phase: 'denied', status: 403, allowed: false })
    assert.equal(r.actor.user, 'chatbot')
    assert.equal(r.outcome.code, 'GW_IMPERSONATION_FORBIDDEN')
    assert.match(r.decision.permission, /impersonate/)
    assert.match(r.decision.permission, /carol/)
  })

  test('refused impersonation of a group on a mutating route is audited too', async () => {
    const res = await s.request('/v1/stream-tickets', { as: 'chatbot', method: 'POST', headers: { 'impersonate-user': 'alice', 'impersonate-group': 'system:masters' }, body: JSON.stringify({ url: '/v1/drops' }) })
    assert.equal(res.status, 403)
    const r = await one(res, { action: 'ticket.issue', phase: 'denied', status: 403, allowed: false })
    assert.equal(r.actor.user, 'chatbot')
    assert.match(r.decision.permission, /system:masters/)
  })

  test('a bad token on a mutating route is one record, without the token', async () => {
    const token = 'not-a-real-token-' + 'x'.repeat(24)
    const res = await s.request('/v1/stream-tickets', { token, method: 'POST', body: JSON.stringify({ url: '/v1/drops' }) })
    assert.equal(res.status, 401)
    const r = await one(res, { action: 'ticket.issue', phase: 'denied', status: 401, allowed: false })
    assert.equal(r.actor.user, 'system:anonymous')
    assert.equal(r.outcome.code, 'GW_UNAUTHENTICATED')
    assert.ok(!readFileSync(s.auditFile, 'utf8').includes(token))
  })
})

describe('log reads', () => {
  test('an allowed read is one request record, before any byte', async () => {
    const res = await s.request(`/v1/namespaces/demo/pods/${shell}/containers/sh/logs`, { as: 'alice' })
    assert.equal(res.status, 200)
    await res.text()
    const r = await one(res, { action: 'logs.read', phase: 'request', status: 0, allowed: true })
    assert.equal(r.actor.user, 'alice')
    assert.deepEqual(r.target, { namespace: 'demo', pod: shell, container: 'sh' })
  })

  test('a read refused by RBAC is one denied record naming the permission', async () => {
    const res = await s.request(`/v1/namespaces/demo/pods/${shell}/containers/sh/logs`, { as: 'bob' })
    assert.equal(res.status, 403)
    const r = await one(res, { action: 'logs.read', phase: 'denied', status: 403, allowed: false })
    assert.match(r.decision.permission, /pods\/log/)
    assert.equal(r.target.pod, shell)
  })

  test('a read in a namespace the caller may not see is one denied record', async () => {
    const res = await s.request('/v1/namespaces/payments/pods/ledger/containers/app/logs', { as: 'alice' })
    assert.equal(res.status, 403)
    await one(res, { action: 'logs.read', phase: 'denied', status: 403, allowed: false })
  })

  test('an unauthenticated read is one denied record', async () => {
    const res = await s.request(`/v1/namespaces/demo/pods/${shell}/containers/sh/logs`)
    assert.equal(res.status, 401)
    await one(res, { action: 'logs.read', phase: 'denied', status: 401, allowed: false })
  })
})

describe('stream tickets', () => {
  test('issuance is one record with who and the bound path; the ticket appears nowhere in the audit file', async () => {
    const res = await s.request('/v1/stream-tickets', { as: 'alice', method: 'POST', body: JSON.stringify({ url: `/v1/namespaces/demo/pods/${shell}/attach?container=sh` }) })
    assert.equal(res.status, 201)
    const { ticket } = await res.json() as { ticket: string }
    const r = await one(res, { action: 'ticket.issue', phase: 'request', status: 0, allowed: true })
    assert.equal(r.actor.user, 'alice')
    assert.equal(r.request.path, `/v1/namespaces/demo/pods/${shell}/attach`)
    assert.equal(r.request.container, 'sh')
    assert.deepEqual(r.target, { namespace: 'demo', pod: shell, container: 'sh' })
    const file = readFileSync(s.auditFile, 'utf8')
    assert.ok(!file.includes(ticket))
    assert.ok(!file.includes(ticket.split('.')[2] as string), 'not even the signature')
  })
})

describe('attach refusals', () => {
  const url = (): string => `${s.wsUrl}/v1/namespaces/demo/pods/${shell}/attach?container=sh`

  test('a foreign origin is one denied record', async () => {
    const { status, requestId } = await refusedWs(url(), { ...bearer('alice'), origin: 'https://evil.example' })
    assert.equal(status, 403)
    const r = await oneById(requestId, { action: 'attach.start', phase: 'denied', status: 403 })
    assert.equal(r.outcome.code, 'GW_ORIGIN_FORBIDDEN')
    assert.equal(r.actor.user, 'alice')
  })

  test('an invalid ticket is one denied record, without the ticket', async () => {
    const forged = 'kdt1.eyJub3QiOiJyZWFsIn0.' + 'A'.repeat(43)
    const { status, requestId } = await refusedWs(`${url()}&ticket=${forged}`, {})
    assert.equal(status, 401)
    const r = await oneById(requestId, { action: 'attach.start', phase: 'denied', status: 401 })
    assert.equal(r.actor.user, 'system:anonymous')
    assert.ok(!readFileSync(s.auditFile, 'utf8').includes(forged))
  })

  test('RBAC refusal is one denied record', async () => {
    const { status, requestId } = await refusedWs(url(), bearer('bob'))
    assert.equal(status, 403)
    const r = await oneById(requestId, { action: 'attach.start', phase: 'denied', status: 403 })
    assert.match(r.decision.permission, /pods\/attach/)
  })

  test('policy refusal is one denied record naming the rule', async () => {
    const { status, requestId } = await refusedWs(url(), bearer('dave'))
    assert.equal(status, 403)
    const r = await oneById(requestId, { action: 'attach.start', phase: 'denied', status: 403 })
    assert.equal(r.decision.rule, 'dave-logs-only')
  })

  test('an unsupported subprotocol is one denied record', async () => {
    const { status, requestId } = await refusedWs(url(), bearer('alice'), ['no.such.protocol'])
    assert.equal(status, 400)
    await oneById(requestId, { action: 'attach.start', phase: 'denied', status: 400 })
  })

  test('a refusal while shutting down is one 503 record', async () => {
    s.attach.sessions.closing = true
    let refused: { status: number, requestId: string }
    try {
      refused = await refusedWs(url(), bearer('alice'))
    } finally {
      s.attach.sessions.closing = false
    }
    assert.equal(refused.status, 503)
    const recs = (await s.audit()).filter(r => r.requestId === refused.requestId) as Rec[]
    assert.equal(recs.length, 1)
    assert.equal(recs[0]?.action, 'attach.start')
    assert.equal(recs[0]?.outcome.status, 503)
    assert.equal(recs[0]?.outcome.code, 'GW_UNAVAILABLE')
  })

  test('a plain GET (no upgrade) is one denied record', async () => {
    const res = await s.request(`/v1/namespaces/demo/pods/${shell}/attach?container=sh`, { as: 'alice' })
    assert.equal(res.status, 400)
    await one(res, { action: 'attach.start', phase: 'denied', status: 400, allowed: false })
  })
})

describe('session deletes', () => {
  test('deleting a session that does not exist is one denied 404 record', async () => {
    const res = await s.request('/v1/sessions/no-such-session', { as: 'alice', method: 'DELETE' })
    assert.equal(res.status, 404)
    const r = await one(res, { action: 'session.delete', phase: 'denied', status: 404, allowed: false })
    assert.equal(r.target.session, 'no-such-session')
  })

  test('deleting an ephemeral session is one denied 409 record', async () => {
    const created = await s.request('/v1/namespaces/demo/pods/web/ephemeral-containers', { as: 'alice', method: 'POST', body: JSON.stringify({ image: 'busybox:1.36', target: 'app', reason: 'audit test' }) })
    assert.equal(created.status, 201, await created.clone().text())
    const { session } = await created.json() as { session: { id: string } }
    const res = await s.request(`/v1/sessions/${session.id}`, { as: 'alice', method: 'DELETE' })
    assert.equal(res.status, 409)
    const r = await one(res, { action: 'session.delete', phase: 'denied', status: 409, allowed: false })
    assert.equal(r.target.session, session.id)
    assert.equal(r.target.pod, 'web')
  })
})

describe('drop subscriptions', () => {
  test('an allowed JSON read is one request record; a refused one is one denied record', async () => {
    const ok = await s.request('/v1/namespaces/demo/drops', { as: 'alice' })
    assert.equal(ok.status, 200)
    await ok.json()
    await one(ok, { action: 'drops.subscribe', phase: 'request', status: 0, allowed: true })
    const no = await s.request('/v1/namespaces/payments/drops', { as: 'alice' })
    assert.equal(no.status, 403)
    await one(no, { action: 'drops.subscribe', phase: 'denied', status: 403, allowed: false })
  })
})

describe('allowed reads without a record of their own', () => {
  test('whoami, a session listing and an audit query are one allowed record each, written before the answer', async () => {
    for (const [path, as] of [['/v1/whoami?namespace=demo', 'alice'], ['/v1/sessions', 'dave'], ['/v1/audit?action=attach.start', 'admin']] as const) {
      const res = await s.request(path, { as, headers: { 'x-request-id': 'portal-read-1' } })
      assert.equal(res.status, 200, path)
      const r = await one(res, { action: 'http.read', phase: 'event', status: 200, allowed: true })
      assert.equal(r.request.route, path.split('?')[0])
      assert.equal(r.actor.user, as)
      assert.equal(r.clientRequestId, 'portal-read-1')
    }
  })

  test('a read that wrote its own record gets no second one', async () => {
    const ok = await s.request('/v1/namespaces/demo/drops', { as: 'alice' })
    assert.equal(ok.status, 200)
    await ok.json()
    await one(ok, { action: 'drops.subscribe', phase: 'request', status: 0, allowed: true })
  })
})

describe('5xx', () => {
  test('a failed read is one outcome record (route, status, code; no internals) and an error log with a stack', async () => {
    s.sim.faults.set({ errorRate: 1, errorCodes: [500], pathPrefix: '/api/v1/' })
    let res: Response
    try {
      res = await s.request('/v1/sessions', { as: 'alice' })
    } finally {
      s.sim.faults.reset()
    }
    assert.ok(res.status >= 500, `status ${res.status}`)
    const r = await one(res, { action: 'http.request', phase: 'outcome', status: res.status })
    assert.equal(r.request.route, '/v1/sessions')
    assert.match(r.outcome.code, /^GW_/)
    assert.equal(r.decision, undefined)
    assert.doesNotMatch(JSON.stringify(r), /injected fault/)
    const id = res.headers.get('x-request-id')
    const logged = logLines.find(l => l.requestId === id && l.level === 50)
    assert.ok(logged, 'logged at error')
    assert.match(String(logged.err?.stack), /\n\s+at /, 'with a stack')
  })

  test('a failed POST is logged at error with its stack (a read body does not mean the client left)', async () => {
    s.sim.faults.set({ errorRate: 1, errorCodes: [500], pathPrefix: '/api/v1/namespaces/demo/pods' })
    let res: Response
    try {
      res = await s.request('/v1/namespaces/demo/pods/web/ephemeral-containers', { as: 'alice', method: 'POST', body: JSON.stringify({ image: 'busybox:1.36', target: 'app', reason: 'audit test' }) })
    } finally {
      s.sim.faults.reset()
    }
    assert.ok(res.status >= 500, `status ${res.status}`)
    const id = res.headers.get('x-request-id')
    const logged = logLines.find(l => l.requestId === id && l.level === 50)
    assert.ok(logged, 'logged at error')
    assert.match(String(logged.err?.stack), /\n\s+at /)
    assert.doesNotMatch(JSON.stringify(logged), /Bearer|alice-token/)
    const recs = await recordsOf(res)
    assert.ok(recs.length >= 1, 'audited')
    assert.ok(recs.some(x => x.outcome?.status === res.status), JSON.stringify(recs))
  })
})
