// The three debug actions over real HTTP against the sim: who may do what,
// policy, Kubernetes errors passed through, dry run, idempotency, wait, audit.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startDebugStack, type DebugStack } from '../helpers/debug-stack.ts'

let stack: DebugStack
before(async () => { stack = await startDebugStack() })
after(async () => { await stack.close() })

const EPH = (ns: string, pod: string): string => `/v1/namespaces/${ns}/pods/${pod}/ephemeral-containers`
const COPY = (ns: string, pod: string): string => `/v1/namespaces/${ns}/pods/${pod}/copies`
const NODE = (node: string): string => `/v1/nodes/${node}/debug-pods`

type Obj = Record<string, any>
function pod (ns: string, name: string): Obj | undefined {
  return stack.sim.store.get('pods', ns, name) as Obj | undefined
}
function ephemeralNames (ns: string, name: string): string[] {
  return (pod(ns, name)?.spec.ephemeralContainers ?? []).map((c: Obj) => c.name)
}
function recordsFor (requestId: string | null): Obj[] {
  return stack.audit().filter(r => r.requestId === requestId)
}
const reason = 'investigating a test failure'

test('alice adds an ephemeral container in demo: 201 with session, attach URL and attribution env', async () => {
  const r = await stack.post(EPH('demo', 'web'), 'alice', { image: 'busybox:1.36', target: 'app', reason, ticket: 'INC-1' })
  assert.equal(r.status, 201)
  const s = r.body.session
  assert.equal(s.kind, 'ephemeral')
  assert.equal(s.namespace, 'demo')
  assert.equal(s.pod, 'web')
  assert.match(s.container, /^debugger-[bcdfghjklmnpqrstvwxz2456789]{5}$/)
  assert.equal(s.requestedBy, 'alice')
  assert.equal(s.reason, reason)
  assert.equal(s.profile, 'general')
  assert.equal(s.node, 'node-1')
  assert.ok(Date.parse(s.expiresAt) > Date.now())
  assert.equal(r.body.attach.url, `/v1/namespaces/demo/pods/web/attach?container=${s.container}`)
  assert.deepEqual(r.body.attach.protocols, ['kdebug.v1', 'v5.channel.k8s.io', 'v4.channel.k8s.io'])
  assert.ok(r.body.warnings.some((w: Obj) => w.code === 'TARGET_RUNTIME_SUPPORT'))
  const stored = pod('demo', 'web')?.spec.ephemeralContainers.find((c: Obj) => c.name === s.container)
  assert.equal(stored.targetContainerName, 'app')
  assert.deepEqual(stored.securityContext.capabilities.add, ['SYS_PTRACE'])
  const env = Object.fromEntries(stored.env.map((e: Obj) => [e.name, e.value]))
  assert.equal(env.KDEBUG_SESSION, s.id)
  assert.equal(env.KDEBUG_REQUESTED_BY, 'alice')
  assert.equal(env.KDEBUG_TICKET, 'INC-1')
  // audit: request (before) then outcome, tied together
  const recs = recordsFor(r.headers.get('x-request-id'))
  assert.deepEqual(recs.map(x => x.phase), ['request', 'outcome'])
  assert.equal(recs[0]?.decision.rule, 'developers')
  assert.equal(recs[0]?.target.container, s.container)
  assert.equal(recs[1]?.relatesTo, recs[0]?.id)
  assert.equal(recs[1]?.outcome.status, 201)
})

test('bob (view only) is refused with 403 naming the missing permission, and the denial is audited', async () => {
  const before = ephemeralNames('demo', 'web').length
  const r = await stack.post(EPH('demo', 'web'), 'bob', { image: 'busybox:1.36', reason })
  assert.equal(r.status, 403)
  assert.match(r.body.permission, /^patch pods\/ephemeralcontainers "web" in namespace demo/)
  assert.equal(ephemeralNames('demo', 'web').length, before)
  const recs = recordsFor(r.headers.get('x-request-id'))
  assert.deepEqual(recs.map(x => x.phase), ['denied'])
  assert.equal(recs[0]?.decision.allowed, false)
})

test('alice may not debug in payments (RBAC); carol (sre) may', async () => {
  const denied = await stack.post(EPH('payments', 'ledger'), 'alice', { image: 'busybox:1.36', reason })
  assert.equal(denied.status, 403)
  assert.match(denied.body.permission, /in namespace payments/)
  // payments enforces PodSecurity baseline: the default `general` profile (SYS_PTRACE) is refused
  // there (test/debug/pod-security.test.ts), so carol uses `baseline`
  const ok = await stack.post(EPH('payments', 'ledger'), 'carol', { image: 'busybox:1.36', reason, profile: 'baseline' })
  assert.equal(ok.status, 201, JSON.stringify(ok.body))
  // the ledger pod runs as uid 1000, but `baseline` adds no capabilities: no kubectl non-root
  // warning (the warning itself is covered in test/debug/kubectl)
  assert.ok(!ok.body.warnings.some((w: Obj) => w.code === 'NON_ROOT_POD_CAPABILITIES'))
})

test('chatbot acting for alice creates as alice; the audit names the bot and who it acted for', async () => {
  const plain = await stack.post(EPH('demo', 'web'), 'chatbot', { image: 'busybox:1.36', reason })
  assert.equal(plain.status, 403)
  const r = await stack.post(EPH('demo', 'web'), 'chatbot', { image: 'busybox:1.36', reason }, { 'impersonate-user': 'alice', 'impersonate-group': 'dev' })
  assert.equal(r.status, 201)
  assert.equal(r.body.session.requestedBy, 'alice')
  const rec = recordsFor(r.headers.get('x-request-id'))[0]
  assert.equal(rec?.actor.user, 'chatbot')
  assert.equal(rec?.actor.onBehalfOf.user, 'alice')
})

test('copies: alice copies demo/web (labels dropped, attribution labels), carol copies payments/ledger; bob is refused', async () => {
  const r = await stack.post(COPY('demo', 'web'), 'alice', { image: 'busybox:1.36', reason })
  assert.equal(r.status, 201)
  const s = r.body.session
  assert.equal(s.kind, 'copy')
  assert.match(s.pod, /^web-debug-[bcdfghjklmnpqrstvwxz2456789]{5}$/)
  assert.equal(s.copyOf, 'web')
  const created = pod('demo', s.pod)
  assert.ok(created)
  assert.equal(created.metadata.labels['app.kubernetes.io/managed-by'], 'kdebug-gateway')
  assert.equal(created.metadata.labels['kdebug.io/session'], s.id)
  assert.equal(created.metadata.labels.app, undefined)
  assert.equal(created.metadata.annotations['kdebug.io/requested-by'], 'alice')
  assert.equal(created.spec.shareProcessNamespace, true)
  assert.ok(r.body.warnings.some((w: Obj) => w.code === 'LABELS_DROPPED'))
  assert.equal(r.body.attach.url, `/v1/namespaces/demo/pods/${s.pod}/attach?container=${s.container}`)

  const carol = await stack.post(COPY('payments', 'ledger'), 'carol', { image: 'busybox:1.36', reason, name: 'ledger-copy', profile: 'baseline' })
  assert.equal(carol.status, 201)
  assert.ok(pod('payments', 'ledger-copy'))

  const bob = await stack.post(COPY('demo', 'web'), 'bob', { image: 'busybox:1.36', reason })
  assert.equal(bob.status, 403)
  assert.match(bob.body.permission, /^create pods in namespace demo/)
})

test('node debug pods: carol gets one in kdebug on node-1; alice lacks get nodes; policy refuses node-2 for carol', async () => {
  const r = await stack.post(NODE('node-1'), 'carol', { image: 'busybox:1.36', reason, profile: 'sysadmin' })
  assert.equal(r.status, 201)
  const s = r.body.session
  assert.equal(s.kind, 'node')
  assert.equal(s.namespace, 'kdebug')
  assert.equal(s.node, 'node-1')
  assert.equal(s.container, 'debugger')
  assert.match(s.pod, /^node-debugger-node-1-[bcdfghjklmnpqrstvwxz2456789]{5}$/)
  const created = pod('kdebug', s.pod)
  assert.equal(created?.spec.hostPID, true)
  assert.equal(created?.spec.containers[0].securityContext.privileged, true)
  assert.equal(created?.metadata.labels['kdebug.io/kind'], 'node')

  const alice = await stack.post(NODE('node-1'), 'alice', { image: 'busybox:1.36', reason })
  assert.equal(alice.status, 403)
  assert.match(alice.body.permission, /^get nodes "node-1"/)

  const node2 = await stack.post(NODE('node-2'), 'carol', { image: 'busybox:1.36', reason })
  assert.equal(node2.status, 403)
  assert.equal(node2.body.type, 'https://kdebug.dev/problems/policy-denied')
  assert.equal(node2.body.rule, 'no-node-2')
  const recs = recordsFor(node2.headers.get('x-request-id'))
  assert.deepEqual(recs.map(x => x.phase), ['denied'])
  assert.equal(recs[0]?.decision.rule, 'no-node-2')

  const missing = await stack.post(NODE('node-9'), 'carol', { image: 'busybox:1.36', reason })
  assert.equal(missing.status, 404)
  assert.equal(missing.body.kubernetesReason, 'NotFound')
})

test('policy: image, capability, privileged, profile and reason are refused naming the rule and the field', async () => {
  const before = ephemeralNames('demo', 'web').length
  const cases: Array<[Obj, string]> = [
    [{ image: 'registry.example.com/tools/debug:1', reason }, '/body/image'],
    [{ image: 'busybox:1.36', reason, capabilities: { add: ['SYS_ADMIN'] } }, '/body/capabilities'],
    [{ image: 'busybox:1.36', reason, custom: { securityContext: { capabilities: { add: ['SYS_ADMIN'] } } } }, '/body/capabilities'],
    [{ image: 'busybox:1.36', reason, privileged: true }, '/body/privileged'],
    [{ image: 'busybox:1.36', reason, profile: 'sysadmin' }, '/body/profile'],
    [{ image: 'busybox:1.36' }, '/body/reason'],
    [{ image: 'busybox:1.36', reason, ttlSeconds: 7200 }, '/body/ttlSeconds']
  ]
  for (const [body, field] of cases) {
    const r = await stack.post(EPH('demo', 'web'), 'alice', body)
    assert.equal(r.status, 403, JSON.stringify(body))
    assert.equal(r.body.rule, 'developers')
    assert.equal(r.body.field, field, JSON.stringify(r.body))
  }
  assert.equal(ephemeralNames('demo', 'web').length, before)
})

test('400: unknown field, reserved env, forbidden custom field, tty without stdin — each names the field', async () => {
  const cases: Array<[Obj, string]> = [
    [{ image: 'busybox:1.36', reason, colour: 'red' }, '/body/colour'],
    [{ reason }, '/body/image'],
    [{ image: 'busybox:1.36', reason, env: [{ name: 'KDEBUG_SESSION', value: 'x' }] }, '/body/env/0/name'],
    [{ image: 'busybox:1.36', reason, custom: { image: 'evil:1' } }, '/body/custom'],
    [{ image: 'busybox:1.36', reason, stdin: false, tty: true }, '/body/tty'],
    [{ image: 'Not An Image', reason }, '/body/image'],
    [{ image: 'busybox:1.36', reason, wait: 301 }, '/body/wait'],
    [{ image: 'busybox:1.36', reason, replace: true }, '/body/replace']
  ]
  for (const [body, field] of cases) {
    const r = await stack.post(EPH('demo', 'web'), 'alice', body)
    assert.equal(r.status, 400, JSON.stringify(body))
    assert.ok(r.body.errors.some((e: Obj) => e.field.startsWith(field)), `${field}: ${JSON.stringify(r.body)}`)
  }
})

test('Kubernetes errors pass through: 404 pod, 422 duplicate name with causes, 409 existing copy name', async () => {
  const missing = await stack.post(EPH('demo', 'nope'), 'alice', { image: 'busybox:1.36', reason })
  assert.equal(missing.status, 404)
  assert.equal(missing.body.kubernetesReason, 'NotFound')

  const dup = await stack.post(EPH('demo', 'api'), 'alice', { image: 'busybox:1.36', reason, container: 'api' })
  assert.equal(dup.status, 422)
  assert.equal(dup.body.kubernetesReason, 'Invalid')
  assert.ok(dup.body.errors.some((e: Obj) => /^spec\.ephemeralContainers\[\d+\]\.name$/.test(e.field) && /Duplicate value/.test(e.message)), JSON.stringify(dup.body))
  const recs = recordsFor(dup.headers.get('x-request-id'))
  assert.deepEqual(recs.map(x => x.phase), ['request', 'outcome'])
  assert.equal(recs[1]?.outcome.status, 422)
  assert.equal(recs[1]?.outcome.kubernetesReason, 'Invalid')

  const exists = await stack.post(COPY('demo', 'web'), 'alice', { image: 'busybox:1.36', reason, name: 'api' })
  assert.equal(exists.status, 409)
  assert.equal(exists.body.kubernetesReason, 'AlreadyExists')
})

test('dryRun: returns the exact patch / pod and the server dry run, creates nothing', async () => {
  const before = ephemeralNames('demo', 'web')
  const r = await stack.post(EPH('demo', 'web') + '?dryRun=true', 'alice', { image: 'busybox:1.36', reason })
  assert.equal(r.status, 200)
  assert.equal(r.body.dryRun, true)
  assert.deepEqual(r.body.patch, { spec: { ephemeralContainers: [r.body.ephemeralContainer] } })
  assert.equal(r.body.serverDryRun.kind, 'Pod')
  assert.ok(r.body.serverDryRun.spec.ephemeralContainers.some((c: Obj) => c.name === r.body.ephemeralContainer.name))
  assert.deepEqual(ephemeralNames('demo', 'web'), before)

  const podsBefore = stack.sim.store.list('pods', 'demo').length
  const copy = await stack.post(COPY('demo', 'api') + '?dryRun=true', 'alice', { image: 'busybox:1.36', reason })
  assert.equal(copy.status, 200)
  assert.equal(copy.body.pod.metadata.name, copy.body.session.pod)
  assert.equal(copy.body.serverDryRun.metadata.name, copy.body.session.pod)
  assert.equal(stack.sim.store.list('pods', 'demo').length, podsBefore)
  assert.equal(pod('demo', copy.body.session.pod), undefined)
})

test('Idempotency-Key: a retry returns the first result and creates nothing; another body with the key → 422', async () => {
  const key = { 'idempotency-key': 'retry-test-1' }
  const body = { image: 'busybox:1.36', reason, container: 'idem-1' }
  const first = await stack.post(EPH('demo', 'api'), 'alice', body, key)
  assert.equal(first.status, 201)
  const second = await stack.post(EPH('demo', 'api'), 'alice', { reason, container: 'idem-1', image: 'busybox:1.36' }, key)
  assert.equal(second.status, 201)
  assert.equal(second.body.session.id, first.body.session.id)
  assert.equal(second.body.idempotentReplay, true)
  assert.equal(second.headers.get('idempotent-replayed'), 'true')
  assert.equal(ephemeralNames('demo', 'api').filter(n => n === 'idem-1').length, 1)
  const env = pod('demo', 'api')?.spec.ephemeralContainers.find((c: Obj) => c.name === 'idem-1').env.map((e: Obj) => e.name)
  assert.ok(env.includes('KDEBUG_IDEMPOTENCY_KEY'))
  assert.ok(!JSON.stringify(pod('demo', 'api')).includes('retry-test-1'), 'the raw key is not stored')

  const other = await stack.post(EPH('demo', 'api'), 'alice', { ...body, container: 'idem-2' }, key)
  assert.equal(other.status, 422)
  assert.equal(other.body.type, 'https://kdebug.dev/problems/idempotency-key-reused')
  assert.ok(!ephemeralNames('demo', 'api').includes('idem-2'))

  // two attempts at once (a client that retried too early) still make one container
  const burst = { 'idempotency-key': 'burst-1' }
  const both = await Promise.all([0, 1].map(async () => await stack.post(EPH('demo', 'api'), 'alice', { ...body, container: 'idem-3' }, burst)))
  assert.deepEqual(both.map(x => x.status), [201, 201])
  assert.equal(both[0]?.body.session.id, both[1]?.body.session.id)
  assert.equal(ephemeralNames('demo', 'api').filter(n => n === 'idem-3').length, 1)

  // copies: found across the cluster by label, so any replica would answer the same
  const ck = { 'idempotency-key': 'copy-retry-1' }
  const c1 = await stack.post(COPY('demo', 'api'), 'alice', { image: 'busybox:1.36', reason }, ck)
  const c2 = await stack.post(COPY('demo', 'api'), 'alice', { image: 'busybox:1.36', reason }, ck)
  assert.equal(c1.status, 201)
  assert.equal(c2.status, 201)
  assert.equal(c2.body.session.pod, c1.body.session.pod)
  assert.equal(stack.sim.store.list('pods', 'demo').filter((p: Obj) => p.metadata.labels?.['kdebug.io/session'] === c1.body.session.id).length, 1)
})

test('wait: until running; an image that cannot be pulled comes back with the kubelet message', async () => {
  const r = await stack.post(EPH('demo', 'web'), 'alice', { image: 'busybox:1.36', reason, wait: 10 })
  assert.equal(r.status, 201)
  assert.equal(r.body.session.state, 'running')
  assert.ok(r.body.session.status.startedAt)

  const bad = await stack.post(EPH('payments', 'ledger'), 'carol', { image: 'unreachable.invalid/x:1', reason, wait: 10, profile: 'baseline' })
  assert.equal(bad.status, 201)
  assert.equal(bad.body.session.state, 'image-pull-failed')
  assert.match(bad.body.session.status.reason, /ErrImagePull|ImagePullBackOff/)
  assert.match(bad.body.session.status.message, /unreachable\.invalid\/x:1/)

  const node = await stack.post(NODE('node-1'), 'carol', { image: 'busybox:1.36', reason, wait: 10 })
  assert.equal(node.status, 201)
  assert.equal(node.body.session.state, 'running')
})

test('GET ephemeral-containers lists every ephemeral container with state and who/why for ours', async () => {
  const res = await stack.request(EPH('demo', 'web'), { as: 'bob' })
  assert.equal(res.status, 200)
  const body = await res.json() as Obj
  assert.ok(body.items.length >= 2)
  const ours = body.items.filter((i: Obj) => i.session !== undefined)
  assert.ok(ours.every((i: Obj) => typeof i.requestedBy === 'string' && i.state))
  assert.ok(ours.some((i: Obj) => i.requestedBy === 'alice' && i.reason === reason))
  const denied = await stack.request(EPH('payments', 'ledger'), { as: 'bob' })
  assert.equal(denied.status, 403)
})

test('a failing API server: 503, nothing created, the outcome record says why', async () => {
  const before = ephemeralNames('demo', 'web')
  stack.sim.faults.set({ errorRate: 1, errorCodes: [503], pathPrefix: '/api/v1/namespaces/demo/pods/web/ephemeralcontainers' })
  try {
    const r = await stack.post(EPH('demo', 'web'), 'alice', { image: 'busybox:1.36', reason })
    assert.equal(r.status, 503)
    assert.ok(r.headers.get('retry-after'))
    const recs = recordsFor(r.headers.get('x-request-id'))
    assert.deepEqual(recs.map(x => x.phase), ['request', 'outcome'])
    assert.equal(recs[1]?.outcome.status, 503)
  } finally {
    stack.sim.faults.reset()
  }
  assert.deepEqual(ephemeralNames('demo', 'web'), before)
})

test('copy with replace: the copy is created, then the original is deleted', async () => {
  const r = await stack.post(COPY('demo', 'api'), 'alice', { image: 'busybox:1.36', reason, replace: true, name: 'api-replaced' })
  assert.equal(r.status, 201, JSON.stringify(r.body))
  assert.deepEqual(r.body.warnings.filter((w: Obj) => w.code === 'REPLACE_FAILED'), [])
  assert.ok(pod('demo', 'api-replaced'))
  const original = pod('demo', 'api')
  assert.ok(original === undefined || original.metadata.deletionTimestamp)
})

test('the debug routes are in the OpenAPI document', async () => {
  const res = await stack.request('/openapi.json')
  assert.equal(res.status, 200)
  const doc = await res.json() as Obj
  for (const p of ['/v1/namespaces/{namespace}/pods/{pod}/ephemeral-containers', '/v1/namespaces/{namespace}/pods/{pod}/copies', '/v1/nodes/{node}/debug-pods', '/v1/sessions', '/v1/sessions/{id}']) {
    assert.ok(doc.paths[p], p)
  }
  const post = doc.paths['/v1/namespaces/{namespace}/pods/{pod}/ephemeral-containers'].post
  assert.ok(post.responses['201'] && post.responses['202'] && post.responses['429'])
})
