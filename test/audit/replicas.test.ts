// GET /v1/audit?replicas=all: the replica asks its peers (the addresses of
// audit.peers.service) with the caller's own credentials; every peer
// authenticates and authorizes the caller itself, and each answer says which
// replica it comes from.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startStack, type Stack } from '../helpers/stack.ts'
import { jsonOf } from '../helpers/http.ts'

let a: Stack
let b: Stack

before(async () => {
  b = await startStack({ config: { audit: { replica: 'test-2' } } })
  const port = Number(new URL(b.url).port)
  a = await startStack({ existingSim: b.sim, config: { audit: { replica: 'test-1', peers: { service: '127.0.0.1', port } } } })
})
after(async () => {
  await a.close()
  await b.close()
})

interface Page { replica: string, records: Array<{ replica: string, seq: number, actor: { user: string }, request?: { route?: string } }>, replicas?: Array<{ replica?: string, ok: boolean }>, complete?: boolean }

test('replicas=all merges the peers\' answers, each record naming its replica; the peer re-checked the caller itself', async () => {
  assert.equal((await a.request('/v1/whoami', { as: 'alice' })).status, 200)
  assert.equal((await b.request('/v1/whoami', { as: 'alice' })).status, 200)
  const self = await jsonOf(await a.request('/v1/audit?user=alice', { as: 'admin' })) as Page
  assert.equal(self.replica, 'test-1')
  assert.ok(self.records.every((r) => r.replica === 'test-1'))
  assert.equal(self.replicas, undefined)

  const res = await a.request('/v1/audit?user=alice&replicas=all', { as: 'admin' })
  assert.equal(res.status, 200)
  const all = await jsonOf(res) as Page
  assert.equal(all.replica, 'test-1')
  assert.equal(all.complete, true)
  assert.deepEqual(all.replicas?.map((r) => [r.replica, r.ok]), [['test-1', true], ['test-2', true]])
  assert.deepEqual([...new Set(all.records.map((r) => r.replica))].sort(), ['test-1', 'test-2'])

  // test-2 wrote its own record of the admin's query: it authenticated and authorized the caller itself.
  const onB = await jsonOf(await b.request('/v1/audit?user=admin&action=http.read', { as: 'admin' })) as Page
  assert.ok(onB.records.some((r) => r.request?.route === '/v1/audit'))
})

test('a caller without the permission is refused before any peer is asked; paging by seq is refused with replicas=all', async () => {
  assert.equal((await a.request('/v1/audit?replicas=all', { as: 'alice' })).status, 403)
  const bad = await a.request('/v1/audit?replicas=all&afterSeq=3', { as: 'admin' })
  assert.equal(bad.status, 400)
  assert.match(JSON.stringify(await jsonOf(bad)), /afterSeq/)
  const noPeers = await b.request('/v1/audit?replicas=all', { as: 'admin' })
  assert.equal(noPeers.status, 400)
  assert.match((await jsonOf(noPeers)).detail, /audit\.peers\.service/)
})
