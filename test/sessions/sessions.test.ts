// Sessions found from the cluster (list/get/delete, visibility by `list pods`),
// expired ephemeral containers, and the TTL reaper racing another replica.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { Registry } from 'prom-client'
import { startDebugStack, type DebugStack } from '../helpers/debug-stack.ts'
import { kubeDebugClient } from '../../src/kube/debug-client.ts'
import { Reaper } from '../../src/sessions/reaper.ts'
import { signerFromConfig } from '../../src/security/signing.ts'
import { ManualClock } from '../helpers/clock.ts'

const security = { signingKey: 'sessions-test-signing-key-0123456789abcdef', verificationKeys: [] }

type Obj = Record<string, any>
let stack: DebugStack
// Session expiry is judged by the gateway's clock: tests move it instead of waiting.
const clock = new ManualClock(Date.now())
const reason = 'sessions test'
const made: Record<string, Obj> = {}

before(async () => {
  stack = await startDebugStack({ config: { security }, clock: clock.now })
  const create = async (name: string, path: string, as: string, body: Obj): Promise<void> => {
    const r = await stack.post(path, as, { image: 'busybox:1.36', reason, ...body })
    assert.equal(r.status, 201, JSON.stringify(r.body))
    made[name] = r.body.session
  }
  await create('aliceEph', '/v1/namespaces/demo/pods/web/ephemeral-containers', 'alice', {})
  await create('aliceCopy', '/v1/namespaces/demo/pods/web/copies', 'alice', {})
  await create('carolNode', '/v1/nodes/node-1/debug-pods', 'carol', { ttlSeconds: 60 })
  // payments enforces PodSecurity baseline: the default `general` profile (SYS_PTRACE) would be refused
  await create('carolEph', '/v1/namespaces/payments/pods/ledger/ephemeral-containers', 'carol', { profile: 'baseline' })
  await create('carolCopy', '/v1/namespaces/payments/pods/ledger/copies', 'carol', { ttlSeconds: 60, profile: 'baseline' })
})
after(async () => { await stack.close() })

async function get (path: string, as: string): Promise<{ status: number, body: any }> {
  const res = await stack.request(path, { as })
  return { status: res.status, body: await res.json() }
}

const ids = (body: Obj): string[] => body.items.map((s: Obj) => s.id)

test('GET /v1/sessions shows sessions only where the caller may list pods', async () => {
  const alice = await get('/v1/sessions', 'alice')
  assert.equal(alice.status, 200)
  assert.ok(ids(alice.body).includes(made.aliceEph?.id))
  assert.ok(ids(alice.body).includes(made.aliceCopy?.id))
  assert.ok(!ids(alice.body).includes(made.carolNode?.id), 'alice cannot list pods in kdebug')
  assert.ok(!ids(alice.body).includes(made.carolEph?.id), 'alice cannot list pods in payments')
  const copy = alice.body.items.find((s: Obj) => s.id === made.aliceCopy?.id)
  assert.equal(copy.kind, 'copy')
  assert.equal(copy.requestedBy, 'alice')
  assert.equal(copy.copyOf, 'web')

  const carol = await get('/v1/sessions', 'carol')
  for (const s of Object.values(made)) assert.ok(ids(carol.body).includes(s.id), s.id)
  const mine = await get('/v1/sessions?mine=true', 'carol')
  assert.ok(mine.body.items.every((s: Obj) => s.requestedBy === 'carol'))
  const ns = await get('/v1/sessions?namespace=payments', 'carol')
  assert.ok(ns.body.items.length >= 2 && ns.body.items.every((s: Obj) => s.namespace === 'payments'))

  const chatbot = await get('/v1/sessions', 'chatbot')
  assert.deepEqual(chatbot.body.items, [])
})

test('GET /v1/sessions/:id: 200 where visible, 404 otherwise', async () => {
  const ok = await get(`/v1/sessions/${made.carolEph?.id}`, 'carol')
  assert.equal(ok.status, 200)
  assert.equal(ok.body.kind, 'ephemeral')
  assert.equal(ok.body.pod, 'ledger')
  assert.equal(ok.body.requestedBy, 'carol')
  assert.equal((await get(`/v1/sessions/${made.carolEph?.id}`, 'alice')).status, 404)
  assert.equal((await get('/v1/sessions/0000000000nosuch', 'carol')).status, 404)
  // ids go into a label selector: anything that is not a label value is refused before
  assert.equal((await get('/v1/sessions/x,app%3Dweb', 'carol')).status, 400)
})

test('DELETE: ephemeral → 409 explaining why; bob may not delete; alice deletes her copy (audited)', async () => {
  const eph = await stack.request(`/v1/sessions/${made.aliceEph?.id}`, { as: 'alice', method: 'DELETE' })
  assert.equal(eph.status, 409)
  assert.match((await eph.json() as Obj).detail, /ephemeral container.*exit/s)

  const bob = await stack.request(`/v1/sessions/${made.aliceCopy?.id}`, { as: 'bob', method: 'DELETE' })
  assert.equal(bob.status, 403)
  assert.match((await bob.json() as Obj).permission, /^delete pods/)
  assert.ok(stack.sim.store.get('pods', 'demo', made.aliceCopy?.pod))

  const res = await stack.request(`/v1/sessions/${made.aliceCopy?.id}`, { as: 'alice', method: 'DELETE' })
  assert.equal(res.status, 200)
  assert.equal((await res.json() as Obj).state, 'deleting')
  const left = stack.sim.store.get('pods', 'demo', made.aliceCopy?.pod) as Obj | undefined
  assert.ok(left === undefined || left.metadata.deletionTimestamp)
  const recs = stack.audit().filter(r => r.requestId === res.headers.get('x-request-id'))
  assert.deepEqual(recs.map(r => [r.action, r.phase]), [['session.delete', 'request'], ['session.delete', 'outcome']])
})

test('an ephemeral container past its TTL is reported as expired', async () => {
  const r = await stack.post('/v1/namespaces/demo/pods/api/ephemeral-containers', 'alice', { image: 'busybox:1.36', reason, ttlSeconds: 1, wait: 5 })
  assert.equal(r.status, 201)
  assert.equal(r.body.session.state, 'running')
  clock.advance(1100)
  const s = await get(`/v1/sessions/${r.body.session.id}`, 'alice')
  assert.equal(s.body.state, 'expired')
  const list = await get('/v1/namespaces/demo/pods/api/ephemeral-containers', 'alice')
  assert.equal(list.body.items.find((i: Obj) => i.session === r.body.session.id).state, 'expired')
})

test('TTL reaper: two replicas sweep at once; expired node pod and copy are deleted once, audited, counted', async () => {
  const client = kubeDebugClient(stack.services.cluster.kubeConfig)
  const registry = new Registry()
  const later = (): number => Date.now() + 2 * 3600_000
  const { verify } = signerFromConfig(security)
  const a = new Reaper({ client, audit: stack.services.audit, intervalMs: 60_000, verify, registry, clock: later, replica: 'a' })
  const b = new Reaper({ client, audit: stack.services.audit, intervalMs: 60_000, verify, clock: later, replica: 'b' })
  const [ra, rb] = await Promise.all([a.runOnce(), b.runOnce()])
  for (const s of [made.carolNode, made.carolCopy]) {
    const results = [...ra, ...rb].filter(x => x.pod === s?.pod).map(x => x.result)
    assert.ok(results.includes('deleted'), `${s?.pod}: ${JSON.stringify(results)}`)
    assert.ok(results.every(x => x === 'deleted' || x === 'gone'))
    const left = stack.sim.store.get('pods', s?.namespace, s?.pod) as Obj | undefined
    assert.ok(left === undefined || left.metadata.deletionTimestamp)
  }
  // ephemeral containers are never touched
  assert.ok((stack.sim.store.get('pods', 'payments', 'ledger') as Obj).spec.ephemeralContainers.length > 0)
  const recs = stack.audit().filter(r => r.action === 'reaper.delete')
  assert.ok(recs.some(r => r.phase === 'request' && r.target?.pod === made.carolNode?.pod && r.actor.user === 'system:kdebug-gateway'))
  assert.ok(recs.some(r => r.phase === 'outcome' && r.target?.pod === made.carolCopy?.pod))
  assert.match(await registry.metrics(), /kdebug_reaper_deletions_total\{result="deleted"\} [1-9]/)
  // a sweep now finds nothing left to do for them
  const again = await a.runOnce()
  assert.ok(!again.some(x => x.pod === made.carolNode?.pod && x.result === 'deleted'))
})
