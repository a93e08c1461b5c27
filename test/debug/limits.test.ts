// Refusals that depend on state: the per-user session limit (429, and a
// deleted session's place freed at once), an
// unwritable audit log (503, nothing done), and `wait` running out (202).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startDebugStack, testPolicy, type DebugStack } from '../helpers/debug-stack.ts'
import { createMemoryAuditLog, type MemoryAuditLog } from '../../src/audit/writer.ts'
import { LEDGER_ANNOTATION, decodeEntries, leaseName } from '../../src/sessions/ledger.ts'

type Obj = Record<string, any>
let stack: DebugStack
let audit: MemoryAuditLog
const reason = 'limits test'
const EPH = '/v1/namespaces/demo/pods/web/ephemeral-containers'

before(async () => {
  audit = createMemoryAuditLog({ replica: 'limits' })
  // containers take 3 s to start, so a short wait runs out
  stack = await startDebugStack({ audit, policy: testPolicy({ developersMaxSessions: 2 }), sim: { startDelayMs: 3000 } })
})
after(async () => { await stack.close() })

/** The session ids in a user's ledger, as the cluster stores it. */
function ledgerOf (user: string): string[] {
  const lease = stack.sim.store.get('leases', 'kdebug', leaseName(user)) as Obj | undefined
  return (decodeEntries(lease?.metadata.annotations?.[LEDGER_ANNOTATION] ?? '') ?? []).map(e => e.id)
}

function ephemeralCount (): number {
  return ((stack.sim.store.get('pods', 'demo', 'web') as Obj).spec.ephemeralContainers ?? []).length
}

test('wait that runs out → 202 with the current state', async () => {
  const r = await stack.post(EPH, 'alice', { image: 'busybox:1.36', reason, wait: 1 })
  assert.equal(r.status, 202)
  assert.ok(['pending', 'waiting'].includes(r.body.session.state), r.body.session.state)
})

test('an unwritable audit log → 503 and nothing is created', async () => {
  const before = ephemeralCount()
  audit.sink.setFailure(new Error('disk full'))
  try {
    const r = await stack.post(EPH, 'alice', { image: 'busybox:1.36', reason })
    assert.equal(r.status, 503)
    assert.equal(r.body.type, 'https://kdebug.dev/problems/audit-unavailable')
  } finally {
    audit.sink.setFailure(null)
  }
  assert.equal(ephemeralCount(), before)
})

test('more live sessions than the rule allows → 429 with Retry-After, audited as denied', async () => {
  // one live session from the first test; the limit is 2
  let r = await stack.post(EPH, 'alice', { image: 'busybox:1.36', reason })
  for (let i = 0; r.status === 503 && i < 20; i++) r = await stack.post(EPH, 'alice', { image: 'busybox:1.36', reason })
  assert.equal(r.status, 201)
  const before = ephemeralCount()
  const refused = await stack.post(EPH, 'alice', { image: 'busybox:1.36', reason })
  assert.equal(refused.status, 429)
  assert.equal(refused.body.rule, 'developers')
  const retry = Number(refused.headers.get('retry-after'))
  assert.ok(retry >= 1 && retry <= 3600, String(retry))
  assert.equal(ephemeralCount(), before)
  const rec = audit.records.find(x => x.requestId === refused.headers.get('x-request-id'))
  assert.equal(rec?.phase, 'denied')
  assert.equal(rec?.outcome?.status, 429)
  // carol (sre) is not affected by alice's count
  const carol = await stack.post(EPH, 'carol', { image: 'busybox:1.36', reason })
  assert.equal(carol.status, 201)
})

test('a copy deleted through the gateway leaves the user\'s ledger at once: its place is free before any recount', async () => {
  const copy = await stack.post('/v1/namespaces/demo/pods/web/copies', 'dave', { image: 'busybox:1.36', reason, name: 'web-dave-limits' })
  assert.equal(copy.status, 201, JSON.stringify(copy.body))
  const id = copy.body.session.id as string
  assert.ok(ledgerOf('dave').includes(id))
  const del = await stack.request(`/v1/sessions/${id}`, { as: 'dave', method: 'DELETE' })
  assert.equal(del.status, 200)
  // the removal runs after the answer: a bounded number of event-loop turns, no timers
  for (let turn = 0; turn < 10_000 && ledgerOf('dave').includes(id); turn++) await new Promise(resolve => setImmediate(resolve))
  assert.deepEqual(ledgerOf('dave'), [])
})
