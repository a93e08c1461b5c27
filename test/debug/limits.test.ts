// Refusals that depend on state: the per-user session limit (429), an
// unwritable audit log (503, nothing done), and `wait` running out (202).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startDebugStack, testPolicy, type DebugStack } from '../helpers/debug-stack.ts'
import { createMemoryAuditLog, type MemoryAuditLog } from '../../src/audit/writer.ts'

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
