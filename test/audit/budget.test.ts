// The disk budget over HTTP: a forwarder that cannot deliver holds retention
// back; once the budget is reached mutations are refused with 503 and a
// reason (nothing is created), reads still answer, /readyz and /metrics say
// why; when the receiver comes back everything is delivered and writes resume.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startStack, type Stack } from '../helpers/stack.ts'
import { jsonOf } from '../helpers/http.ts'
import type { AuditRuntime } from '../../src/audit/runtime.ts'
import { startReceiver, type Receiver } from '../helpers/audit.ts'

let stack: Stack
let rx: Receiver

before(async () => {
  rx = await startReceiver()
  rx.failing = true
  stack = await startStack({
    config: {
      audit: {
        rotation: { maxBytes: 4096, maxAgeHours: 0, maxFiles: 1 },
        drainSeconds: 0,
        forward: [{ type: 'webhook', url: rx.url, maxAttempts: 2, initialBackoffMs: 1, maxBackoffMs: 20 }]
      }
    }
  })
})
after(async () => {
  await stack.close()
  await rx.close()
})

function ephemeralCount (): number {
  const pod = stack.sim.store.get('pods', 'demo', 'web') as unknown as { spec: { ephemeralContainers?: unknown[] } }
  return pod.spec.ephemeralContainers?.length ?? 0
}

const create = async (reason: string): Promise<Response> => await stack.request('/v1/namespaces/demo/pods/web/ephemeral-containers', {
  as: 'alice', method: 'POST', body: JSON.stringify({ image: 'busybox:1.36', reason })
})

test('budget reached → mutations 503 with the reason, reads still work, readiness and metrics say why; the receiver back → all delivered, writes resume', async () => {
  const rt = stack.services.auditRuntime as AuditRuntime
  let reads = 0
  while (!rt.log.budgetReached() && reads < 500) {
    assert.equal((await stack.request('/v1/whoami', { as: 'alice' })).status, 200)
    reads++
  }
  assert.ok(rt.log.budgetReached(), `no budget after ${reads} reads`)
  const containersBefore = ephemeralCount()

  const refused = await create('while the budget is reached')
  assert.equal(refused.status, 503)
  assert.match(refused.headers.get('content-type') ?? '', /application\/problem\+json/)
  const problem = await jsonOf(refused)
  assert.equal(problem.type, 'https://kdebug.dev/problems/audit-unavailable')
  assert.equal(problem.reason, 'audit-disk-budget')
  assert.match(problem.detail, /audit disk budget is reached .*forwarder has acknowledged only up to seq 0/)
  assert.ok(Number(refused.headers.get('retry-after')) > 0)
  assert.equal(ephemeralCount(), containersBefore, 'nothing was created')

  assert.equal((await stack.request('/v1/whoami', { as: 'alice' })).status, 200, 'reads still answer')
  const audit = await stack.request('/v1/audit?action=audit.budget-reached', { as: 'admin' })
  assert.equal(audit.status, 200)
  assert.equal((await jsonOf(audit)).records.length, 1, 'the chain says when the budget was reached')

  const ready = await stack.request('/readyz')
  assert.equal(ready.status, 503)
  const checks = (await jsonOf(ready)).checks as Array<{ name: string, ok: boolean, detail?: string }>
  assert.match(checks.find((c) => c.name === 'audit-log')?.detail ?? '', /disk budget/)
  assert.match(checks.find((c) => c.name === 'audit-forward')?.detail ?? '', /webhook: down, backlog \d+ records, acknowledged seq 0/)
  const metrics = await (await stack.request('/metrics')).text()
  assert.match(metrics, /^kdebug_audit_budget_reached 1$/m)
  assert.match(metrics, /^kdebug_audit_forward_backlog_records\{sink="webhook"\} [1-9]\d*$/m)
  assert.match(metrics, /^kdebug_audit_forward_up\{sink="webhook"\} 0$/m)

  rx.failing = false
  await rt.forwarders[0]?.caughtUp()
  const created = await create('after the receiver came back')
  assert.equal(created.status, 201, JSON.stringify(await jsonOf(created.clone())))
  assert.equal((await stack.request('/readyz')).status, 200)
  await rt.forwarders[0]?.caughtUp()
  const seqs = [...rx.bySeq.keys()].map((k) => Number(k.split('/')[1])).sort((a, b) => a - b)
  assert.deepEqual(seqs, Array.from({ length: rt.log.head().seq }, (_, i) => i + 1), 'every record arrived')
  const recovered = [...rx.bySeq.values()].map((v) => JSON.parse(v) as { action: string, outcome?: { refused?: number } }).find((r) => r.action === 'audit.budget-recovered')
  assert.ok((recovered?.outcome?.refused ?? 0) >= 2, 'the refused records are counted, not silently dropped')
})
