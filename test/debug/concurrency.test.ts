// Per-user limits under concurrency: parallel creates by one user against a
// limit of 3 → exactly 3 succeed, the rest 429 with Retry-After — on one
// replica, and with two gateway replicas (same signing key) on one cluster,
// where the reservations in the user's ledger Lease (an update with the
// resourceVersion read) make the count and the create one step.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startDebugStack, testPolicy, type DebugStack } from '../helpers/debug-stack.ts'
import { LEDGER_ANNOTATION, decodeEntries, leaseName } from '../../src/sessions/ledger.ts'

type Obj = Record<string, any>
const security = { signingKey: 'concurrency-test-signing-key-0123456789abc', verificationKeys: [] }
let a: DebugStack
let b: DebugStack

before(async () => {
  a = await startDebugStack({ config: { security }, policy: testPolicy({ developersMaxSessions: 3 }) })
  b = await startDebugStack({ existingSim: a.sim, config: { security, audit: { replica: 'test-2' } }, policy: testPolicy({ developersMaxSessions: 3 }) })
})
after(async () => {
  await b.close()
  await a.close()
})

/** The session ids in a user's ledger, as the cluster stores it. */
function ledgerOf (user: string): string[] {
  const lease = a.sim.store.get('leases', 'kdebug', leaseName(user)) as Obj | undefined
  return (decodeEntries(lease?.metadata.annotations?.[LEDGER_ANNOTATION] ?? '') ?? []).map(e => e.id).sort()
}

function sessionIdOf (c: Obj): string {
  return (c.env as Obj[]).find(e => e.name === 'KDEBUG_SESSION')?.value
}

function ephemeralOf (user: string): Obj[] {
  const pods = ['web', 'api'].map(p => a.sim.store.get('pods', 'demo', p) as Obj)
  return pods.flatMap(p => (p.spec.ephemeralContainers ?? []) as Obj[])
    .filter(c => (c.env ?? []).some((e: Obj) => e.name === 'KDEBUG_REQUESTED_BY' && e.value === user))
}

async function burst (user: string, via: DebugStack[], n: number): Promise<Array<{ status: number, body: any, headers: Headers }>> {
  return await Promise.all(Array.from({ length: n }, async (_, i) =>
    await (via[i % via.length] as DebugStack).post(`/v1/namespaces/demo/pods/${i % 2 === 0 ? 'web' : 'api'}/ephemeral-containers`, user, { image: 'busybox:1.36', reason: `burst ${i}` })))
}

function assertExactlyThree (results: Array<{ status: number, body: any, headers: Headers }>, user: string): void {
  const statuses = results.map(r => r.status).sort()
  assert.deepEqual(statuses, [201, 201, 201, ...Array(results.length - 3).fill(429)], JSON.stringify(results.filter(r => r.status !== 201 && r.status !== 429).map(r => r.body)))
  for (const r of results.filter(x => x.status === 429)) {
    assert.ok(Number(r.headers.get('retry-after')) >= 1)
    assert.equal(r.body.rule, 'developers')
  }
  assert.equal(ephemeralOf(user).length, 3, 'exactly 3 containers exist in the cluster')
}

test('one replica: 10 parallel creates by alice against a limit of 3 → exactly 3', async () => {
  assertExactlyThree(await burst('alice', [a], 10), 'alice')
})

test('two replicas on one cluster: 10 parallel creates by dave split across both → exactly 3', async () => {
  assertExactlyThree(await burst('dave', [a, b], 10), 'dave')
  // the ledger lists exactly the sessions that exist: the refused creates reserved nothing
  assert.deepEqual(ledgerOf('dave'), ephemeralOf('dave').map(sessionIdOf).sort())
})

test('two replicas, one Idempotency-Key sent to both at once → one container, both answers name it', async () => {
  const headers = { 'idempotency-key': 'retry-race-1' }
  const body = { image: 'busybox:1.36', reason: 'same key on two replicas' }
  const before = ephemeralOf('carol').length
  const results = await Promise.all([a, b, a, b].map(async s => await s.post('/v1/namespaces/demo/pods/api/ephemeral-containers', 'carol', body, headers)))
  for (const r of results) assert.equal(r.status, 201, JSON.stringify(r.body))
  assert.equal(new Set(results.map(r => r.body.session.id)).size, 1, 'every answer names the same session')
  assert.equal(results.filter(r => r.body.idempotentReplay === true).length, 3)
  assert.equal(ephemeralOf('carol').length, before + 1, 'exactly one container was added')
})
