// Objects a namespace user plants with the gateway's labels, annotations or
// KDEBUG_* env (forged requester, a signature copied from another object, no
// signature): never replayed for an Idempotency-Key (also across namespaces),
// listed as `verified: false` and nobody's, not counted against the named
// user's limit, never reaped; a verified session always wins its id.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startDebugStack, testPolicy, type DebugStack } from '../helpers/debug-stack.ts'
import { kubeDebugClient } from '../../src/kube/debug-client.ts'
import { Reaper } from '../../src/sessions/reaper.ts'
import { idempotencyKeyHash } from '../../src/sessions/ids.ts'
import { signerFromConfig } from '../../src/security/signing.ts'

type Obj = Record<string, any>
let stack: DebugStack
const security = { signingKey: 'planted-test-signing-key-0123456789abcdef', verificationKeys: [] }
const reason = 'planted test'
const EPH_BODY = { image: 'busybox:1.36', reason }
const COPY_BODY = { image: 'busybox:1.36', reason, profile: 'baseline' }
const future = new Date(Date.now() + 3600_000).toISOString()
const past = new Date(Date.now() - 3600_000).toISOString()
const real: Record<string, any> = {}

before(async () => {
  // alice may hold 3 live sessions
  stack = await startDebugStack({ config: { security }, policy: testPolicy({ developersMaxSessions: 3 }) })
})
after(async () => { await stack.close() })

/** A call straight to the API server as a cluster user (what anyone with these RBAC rights can do). */
async function kube (as: string, method: string, path: string, body: unknown, contentType = 'application/json'): Promise<Obj> {
  const res = await fetch(stack.sim.url + path, { method, headers: { authorization: `Bearer ${stack.sim.tokens[as] ?? ''}`, 'content-type': contentType }, body: JSON.stringify(body) })
  const out = await res.json() as Obj
  assert.ok(res.status < 300, `${method} ${path} as ${as}: ${res.status} ${JSON.stringify(out)}`)
  return out
}

function storedPod (namespace: string, name: string): Obj {
  return stack.sim.store.get('pods', namespace, name) as Obj
}

function plantPod (as: string, namespace: string, name: string, labels: Record<string, string>, annotations: Record<string, string>): Promise<Obj> {
  return kube(as, 'POST', `/api/v1/namespaces/${namespace}/pods`, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels, annotations },
    spec: { containers: [{ name: 'debugger', image: 'busybox:1.36' }] }
  })
}

function ourLabels (session: string, kind = 'copy'): Record<string, string> {
  return { 'app.kubernetes.io/managed-by': 'kdebug-gateway', 'kdebug.io/session': session, 'kdebug.io/kind': kind }
}

function plantEphemeral (as: string, namespace: string, pod: string, name: string, env: Array<{ name: string, value: string }>): Promise<Obj> {
  return kube(as, 'PATCH', `/api/v1/namespaces/${namespace}/pods/${pod}/ephemeralcontainers`,
    { spec: { ephemeralContainers: [{ name, image: 'busybox:1.36', env }] } }, 'application/strategic-merge-patch+json')
}

async function sessions (as: string, query = ''): Promise<Obj[]> {
  const res = await stack.request(`/v1/sessions${query}`, { as })
  assert.equal(res.status, 200)
  return ((await res.json()) as Obj).items
}

test('dave plants sessions in alice\'s name before she starts: they do not count against her limit of 3', async () => {
  for (let i = 0; i < 3; i++) {
    await plantPod('dave', 'demo', `planted-live-${i}`, ourLabels(`forged${i}`), { 'kdebug.io/requested-by': 'alice', 'kdebug.io/expires-at': future, 'kdebug.io/container': 'debugger' })
  }
  await plantEphemeral('dave', 'demo', 'api', 'planted-live-eph', [
    { name: 'KDEBUG_SESSION', value: 'forgedeph' }, { name: 'KDEBUG_REQUESTED_BY', value: 'alice' }, { name: 'KDEBUG_EXPIRES_AT', value: future }
  ])
  const eph = await stack.post('/v1/namespaces/demo/pods/web/ephemeral-containers', 'alice', EPH_BODY, { 'idempotency-key': 'real-eph' })
  assert.equal(eph.status, 201, JSON.stringify(eph.body))
  assert.equal(eph.body.session.verified, true)
  real.eph = eph.body.session
  const copy = await stack.post('/v1/namespaces/demo/pods/web/copies', 'alice', COPY_BODY, { 'idempotency-key': 'real-copy' })
  assert.equal(copy.status, 201, JSON.stringify(copy.body))
  real.copy = copy.body.session
  const carol = await stack.post('/v1/namespaces/payments/pods/ledger/copies', 'carol', COPY_BODY, { 'idempotency-key': 'real-carol' })
  assert.equal(carol.status, 201, JSON.stringify(carol.body))
  real.carolCopy = carol.body.session
})

test('an unsigned pod with alice\'s key hash and the matching request hash is not replayed to her', async () => {
  const hash = storedPod('demo', real.copy.pod).metadata.annotations['kdebug.io/request-hash']
  await plantPod('dave', 'demo', 'planted-replay', ourLabels('plantedreplay'), {
    'kdebug.io/requested-by': 'alice',
    'kdebug.io/expires-at': future,
    'kdebug.io/container': 'debugger',
    'kdebug.io/copy-of': 'web',
    'kdebug.io/idempotency-key': idempotencyKeyHash('alice', 'planted-key'),
    'kdebug.io/request-hash': hash
  })
  const r = await stack.post('/v1/namespaces/demo/pods/web/copies', 'alice', COPY_BODY, { 'idempotency-key': 'planted-key' })
  assert.equal(r.status, 201, JSON.stringify(r.body))
  assert.notEqual(r.body.idempotentReplay, true)
  assert.notEqual(r.body.session.pod, 'planted-replay')
  assert.equal(r.body.session.verified, true)
  real.thirdForAlice = r.body.session
})

test('alice now holds 3 verified sessions: the 4th is refused (the limit still counts real ones)', async () => {
  const r = await stack.post('/v1/namespaces/demo/pods/web/ephemeral-containers', 'alice', EPH_BODY)
  assert.equal(r.status, 429)
})

test('a real signature copied onto another pod (same namespace, or another one) does not verify; not replayed across namespaces', async () => {
  const original = storedPod('payments', real.carolCopy.pod).metadata
  // carol's signed metadata, key hash and request hash on a pod dave creates in demo
  await plantPod('dave', 'demo', 'planted-copied-sig', { ...original.labels }, { ...original.annotations, 'kdebug.io/idempotency-key': idempotencyKeyHash('carol', 'cross-ns') })
  const aliceOriginal = storedPod('demo', real.copy.pod).metadata
  await plantPod('dave', 'demo', 'planted-copied-sig-2', { ...aliceOriginal.labels }, { ...aliceOriginal.annotations })
  const r = await stack.post('/v1/namespaces/payments/pods/ledger/copies', 'carol', COPY_BODY, { 'idempotency-key': 'cross-ns' })
  assert.equal(r.status, 201, JSON.stringify(r.body))
  assert.notEqual(r.body.idempotentReplay, true)
  assert.equal(r.body.session.namespace, 'payments')
  // the copied annotations still claim carol's original key: a retry of it replays the real one
  const retry = await stack.post('/v1/namespaces/payments/pods/ledger/copies', 'carol', COPY_BODY, { 'idempotency-key': 'real-carol' })
  assert.equal(retry.body.idempotentReplay, true)
  assert.equal(retry.body.session.pod, real.carolCopy.pod)
})

test('planted ephemeral containers (forged env, a copied signature) are not replayed and not alice\'s', async () => {
  const realEnv = (storedPod('demo', 'web').spec.ephemeralContainers as Obj[]).find(c => c.name === real.eph.container)?.env as Array<{ name: string, value: string }>
  const hash = realEnv.find(e => e.name === 'KDEBUG_REQUEST_HASH')?.value as string
  // forged: alice's key hash and the right request hash, no signature
  await plantEphemeral('dave', 'demo', 'web', 'planted-forged', [
    { name: 'KDEBUG_SESSION', value: 'plantedeph1' }, { name: 'KDEBUG_REQUESTED_BY', value: 'alice' }, { name: 'KDEBUG_EXPIRES_AT', value: future },
    { name: 'KDEBUG_IDEMPOTENCY_KEY', value: idempotencyKeyHash('alice', 'eph-planted') }, { name: 'KDEBUG_REQUEST_HASH', value: hash }
  ])
  // copied: alice's real env, signature included, on another container of the same pod
  await plantEphemeral('dave', 'demo', 'web', 'planted-copied', realEnv.map(e => e.name === 'KDEBUG_IDEMPOTENCY_KEY' ? { ...e, value: idempotencyKeyHash('alice', 'eph-copied') } : e))
  await plantEphemeral('dave', 'demo', 'web', 'planted-copied-2', realEnv)
  for (const key of ['eph-planted', 'eph-copied']) {
    const r = await stack.post('/v1/namespaces/demo/pods/web/ephemeral-containers', 'alice', EPH_BODY, { 'idempotency-key': key })
    // alice is at her limit: the planted container is not returned as hers; the create is refused
    assert.equal(r.status, 429, `${key}: ${JSON.stringify(r.body)}`)
  }
  const list = await stack.request('/v1/namespaces/demo/pods/web/ephemeral-containers', { as: 'alice' })
  const items = ((await list.json()) as Obj).items as Obj[]
  for (const name of ['planted-forged', 'planted-copied', 'planted-copied-2']) {
    const item = items.find(i => i.name === name)
    assert.equal(item?.verified, false, name)
    assert.equal(item?.requestedBy, undefined, name)
  }
  assert.equal(items.find(i => i.name === real.eph.container)?.verified, true)
})

test('listings show planted sessions as verified: false and nobody\'s; mine=true never includes them', async () => {
  const all = await sessions('alice', '?namespace=demo')
  const planted = all.filter(s => !s.verified)
  const names = planted.map(s => s.pod + '/' + (s.container ?? ''))
  for (const p of ['planted-live-0', 'planted-replay', 'planted-copied-sig', 'planted-copied-sig-2']) assert.ok(names.some(n => n.startsWith(p + '/')), `${p} listed: ${names.join(', ')}`)
  for (const c of ['planted-live-eph', 'planted-forged', 'planted-copied', 'planted-copied-2']) assert.ok(names.some(n => n.endsWith('/' + c)), `${c} listed`)
  for (const s of planted) {
    assert.equal(s.requestedBy, '')
    assert.ok(['alice', 'carol'].includes(s.claimedRequestedBy), JSON.stringify(s))
  }
  const mine = await sessions('alice', '?mine=true')
  assert.ok(mine.length >= 3)
  assert.ok(mine.every(s => s.verified === true && s.requestedBy === 'alice'))
  assert.ok(all.filter(s => s.verified).every(s => s.claimedRequestedBy === undefined))
})

test('a planted pod claiming a real session\'s id does not take its place', async () => {
  await plantPod('dave', 'demo', 'planted-same-id', ourLabels(real.copy.id), { 'kdebug.io/requested-by': 'dave', 'kdebug.io/expires-at': future, 'kdebug.io/container': 'debugger' })
  const res = await stack.request(`/v1/sessions/${real.copy.id}`, { as: 'alice' })
  const s = await res.json() as Obj
  assert.equal(s.pod, real.copy.pod)
  assert.equal(s.verified, true)
})

test('the reaper deletes no unverified pod, however expired it claims to be; it reports each one', async () => {
  await plantPod('dave', 'demo', 'planted-expired', ourLabels('plantedexp'), { 'kdebug.io/requested-by': 'alice', 'kdebug.io/expires-at': past })
  // an image swapped on a real, signed copy (pod images are mutable) no longer verifies either
  const swapped = storedPod('demo', real.thirdForAlice.pod)
  await kube('admin', 'PATCH', `/api/v1/namespaces/demo/pods/${real.thirdForAlice.pod}`,
    { spec: { containers: [{ name: swapped.metadata.annotations['kdebug.io/container'], image: 'busybox:1.37' }] } }, 'application/strategic-merge-patch+json')
  const { verify } = signerFromConfig(security)
  const reaper = new Reaper({ client: kubeDebugClient(stack.services.cluster.kubeConfig), audit: stack.services.audit, intervalMs: 60_000, verify, clock: () => Date.now() + 3 * 3600_000 })
  const results = await reaper.runOnce()
  const byPod = new Map(results.map(r => [r.pod, r.result]))
  for (const p of ['planted-expired', 'planted-live-0', 'planted-replay', 'planted-copied-sig', 'planted-copied-sig-2', 'planted-same-id', real.thirdForAlice.pod]) {
    assert.equal(byPod.get(p), 'unverified', p)
    const left = storedPod('demo', p)
    assert.ok(left !== undefined && !left.metadata.deletionTimestamp, `${p} left alone`)
  }
  assert.equal(byPod.get(real.copy.pod), 'deleted')
  const reported = stack.audit().filter(r => r.action === 'reaper.unverified').map(r => r.target?.pod)
  assert.ok(reported.includes('planted-expired'))
})
