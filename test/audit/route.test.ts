// GET /v1/audit: RBAC-gated reading of this replica's chain.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startStack, type Stack } from '../helpers/stack.ts'
import { jsonOf } from '../helpers/http.ts'

let stack: Stack
before(async () => { stack = await startStack() })
after(async () => { await stack.close() })

test('alice may not read the audit log: 403 naming the permission', async () => {
  const res = await stack.request('/v1/audit', { as: 'alice' })
  assert.equal(res.status, 403)
  const body = await jsonOf(res)
  assert.match(body.permission, /list auditlogs\.kdebug\.io/)
})

test('an admin reads records filtered by user and action, newest first page', async () => {
  const created = await stack.request('/v1/namespaces/demo/pods/web/ephemeral-containers', {
    as: 'alice', method: 'POST', body: JSON.stringify({ image: 'busybox', reason: 'audit route test' })
  })
  assert.equal(created.status, 201)
  const denied = await stack.request('/v1/namespaces/payments/pods/ledger/ephemeral-containers', {
    as: 'alice', method: 'POST', body: JSON.stringify({ image: 'busybox', reason: 'not mine' })
  })
  assert.equal(denied.status, 403)
  const res = await stack.request('/v1/audit?user=alice&limit=50', { as: 'admin' })
  assert.equal(res.status, 200)
  const page = await jsonOf(res)
  assert.equal(page.replica, 'test-1')
  const phases = page.records.map((r: { action: string, phase: string }) => `${r.action}:${r.phase}`)
  assert.ok(phases.includes('ephemeral.create:request'), phases.join(','))
  assert.ok(phases.includes('ephemeral.create:outcome'), phases.join(','))
  assert.ok(page.records.some((r: { phase: string, target?: { namespace?: string } }) => r.phase === 'denied' && r.target?.namespace === 'payments'))
  for (const r of page.records) assert.ok(r.actor.user === 'alice' || r.actor.onBehalfOf?.user === 'alice')
  const bad = await stack.request('/v1/audit?since=yesterday', { as: 'admin' })
  assert.equal(bad.status, 400)
})
