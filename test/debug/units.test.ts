// Pure parts of the debug service: ids and hashes, container state, sessions
// read back from objects, policy input from built specs, SpecError → 400.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { canonicalJson, idempotencyKeyHash, newSessionId, requestHash, sessionCreatedAt } from '../../src/sessions/ids.ts'
import { containerView, isSettled } from '../../src/sessions/state.ts'
import { ephemeralSessions, isLive, podSession } from '../../src/sessions/found.ts'
import { policyInput } from '../../src/debug/policy-input.ts'
import { DebugService, specProblem } from '../../src/debug/service.ts'
import { SessionFinder } from '../../src/sessions/finder.ts'
import { SessionLedger, LEDGER_ANNOTATION, decodeEntries, leaseName } from '../../src/sessions/ledger.ts'
import { localLeaseClient } from '../../src/sessions/local-leases.ts'
import { compilePolicy, type CompiledPolicy } from '../../src/policy/policy.ts'
import { createMemoryAuditLog } from '../../src/audit/writer.ts'
import { testPolicy } from '../helpers/debug-stack.ts'
import { buildEphemeralContainer, buildNodeDebugPod } from '../../src/debug/kubectl/index.ts'
import { isLabelValue, readEnvAttribution, signEphemeralContainer, signPod } from '../../src/sessions/attribution.ts'
import type { Pod } from '../../src/kube/types.ts'
import { createSigner } from '../../src/security/signing.ts'
import type { LeaseClient } from '../../src/kube/lease-client.ts'
import { isProblemError } from '../../src/errors.ts'

const signer = createSigner({ keys: [Buffer.alloc(32, 7)] })

const target: Pod = {
  metadata: { name: 'web', namespace: 'demo', uid: 'u1', resourceVersion: '7' } as Pod['metadata'],
  spec: { nodeName: 'node-1', containers: [{ name: 'app', image: 'nginx' }] }
}

type DebugClientFake = ConstructorParameters<typeof DebugService>[0]['client']

/** A ledger in this process (as with sessions.userLeaseNamespace null). */
function unitLedger (o: { leases?: LeaseClient, clock?: () => number } = {}): SessionLedger {
  return new SessionLedger({ leases: o.leases ?? localLeaseClient(), namespace: 'kdebug', signer, graceMs: 60_000, acquireTimeoutMs: 1000, ...(o.clock ? { clock: o.clock } : {}) })
}

/** A DebugService over a fake client: the memory audit log, no SAR, the test policy unless given. */
function unitService (client: DebugClientFake, o: { ledger: SessionLedger, policy?: CompiledPolicy, clock?: () => number, delay?: (ms: number) => Promise<void> }): DebugService {
  return new DebugService({
    client,
    audit: createMemoryAuditLog({ replica: 'units' }),
    authorizer: { authorizeAll: async () => {} },
    policy: o.policy ?? compilePolicy(testPolicy()),
    finder: new SessionFinder({ client, verify: signer.verify, ...(o.clock ? { clock: o.clock } : {}) }),
    ledger: o.ledger,
    signer,
    nodeDebugNamespace: 'kdebug',
    defaultTtlSeconds: 900,
    impersonate: false,
    ...(o.clock ? { clock: o.clock } : {}),
    ...(o.delay ? { delay: o.delay } : {})
  })
}

test('session ids are label values, unique, and carry their creation time', () => {
  const t = Date.UTC(2026, 10, 27, 10, 0, 0)
  const a = newSessionId(t)
  const b = newSessionId(t)
  assert.notEqual(a, b)
  assert.ok(isLabelValue(a))
  assert.equal(a.length, 16)
  assert.equal(sessionCreatedAt(a)?.getTime(), t)
  assert.equal(sessionCreatedAt('not-ours'), undefined)
  assert.ok(newSessionId(t + 1, () => 0) > newSessionId(t, () => 0.99), 'ids sort by time')
})

test('idempotency hashes: per user, key order does not matter, any change does', () => {
  assert.notEqual(idempotencyKeyHash('alice', 'k'), idempotencyKeyHash('bob', 'k'))
  assert.equal(canonicalJson({ b: 1, a: [{ y: 2, x: 1 }] }), '{"a":[{"x":1,"y":2}],"b":1}')
  const h = requestHash('ephemeral', 'demo/web', { image: 'a', reason: 'r' })
  assert.equal(h, requestHash('ephemeral', 'demo/web', { reason: 'r', image: 'a' }))
  assert.notEqual(h, requestHash('ephemeral', 'demo/api', { image: 'a', reason: 'r' }))
  assert.notEqual(h, requestHash('ephemeral', 'demo/web', { image: 'b', reason: 'r' }))
})

function withStatus (state: unknown, deleting = false): Pod {
  const p = structuredClone(target)
  if (deleting) (p.metadata as Record<string, unknown>).deletionTimestamp = '2026-01-01T00:00:00Z'
  p.status = { ephemeralContainerStatuses: [{ name: 'dbg', state }] }
  return p
}

test('container state: running, terminated, pull failures and start failures settle a wait; creating does not', () => {
  assert.deepEqual(containerView(target, 'dbg'), { state: 'pending' })
  assert.equal(containerView(withStatus({ running: { startedAt: 'x' } }), 'dbg').state, 'running')
  const t = containerView(withStatus({ terminated: { exitCode: 2, reason: 'Error' } }), 'dbg')
  assert.deepEqual(t, { state: 'terminated', status: { exitCode: 2, reason: 'Error' } })
  const pull = containerView(withStatus({ waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "x"' } }), 'dbg')
  assert.equal(pull.state, 'image-pull-failed')
  assert.equal(pull.status?.message, 'Back-off pulling image "x"')
  const creating = containerView(withStatus({ waiting: { reason: 'ContainerCreating' } }), 'dbg')
  assert.equal(creating.state, 'waiting')
  assert.equal(isSettled(creating), false)
  assert.equal(isSettled(pull), true)
  assert.equal(isSettled(containerView(withStatus({ waiting: { reason: 'CreateContainerConfigError' } }), 'dbg')), true)
  assert.equal(containerView(withStatus({ running: {} }, true), 'dbg').state, 'deleting')
})

test('sessions read back from an ephemeral container and a node pod; expiry and liveness', () => {
  const now = Date.UTC(2026, 10, 27, 10, 0, 0)
  const attribution = { sessionId: newSessionId(now), requestedBy: 'alice', reason: 'why', expiresAt: new Date(now + 60_000).toISOString(), idempotencyKey: 'k', requestHash: 'h' }
  const built = buildEphemeralContainer(target, { image: 'busybox:1.36', container: 'dbg' }, { attribution })
  const container = signEphemeralContainer({ namespace: 'demo', pod: 'web' }, built.container, signer.sign)
  const pod = structuredClone(target)
  pod.spec.ephemeralContainers = [{ name: 'plain', image: 'x' }, container]
  pod.status = { ephemeralContainerStatuses: [{ name: 'dbg', state: { running: {} } }] }
  const [found, ...rest] = ephemeralSessions(pod, now, signer.verify)
  assert.equal(rest.length, 0, 'containers without attribution are not sessions')
  assert.equal(found?.session.id, attribution.sessionId)
  assert.equal(found?.session.state, 'running')
  assert.equal(found?.session.createdAt, new Date(now).toISOString())
  assert.equal(found?.idempotencyKey, 'k')
  assert.equal(found?.podUid, 'u1')
  assert.equal(isLive(found!.session), true)
  assert.equal(found?.verified, true)
  const expired = ephemeralSessions(pod, now + 61_000, signer.verify)[0]
  assert.equal(expired?.session.state, 'expired')
  assert.equal(isLive(expired!.session), false)

  const node = signPod(buildNodeDebugPod('node-1', { image: 'busybox:1.36', namespace: 'kdebug' }, { attribution: { ...attribution, sessionId: 'n1' } }).pod, signer.sign)
  const s = podSession(node, now, signer.verify)
  assert.equal(s?.verified, true)
  assert.equal(s?.session.kind, 'node')
  assert.equal(s?.session.container, 'debugger')
  assert.equal(s?.session.node, 'node-1')
  assert.equal(s?.session.reason, 'why')
  assert.equal(podSession(target, now, signer.verify), undefined)
})

test('a claim filter skips other sessions before their signature is checked; the wanted ones are found as without it', () => {
  const now = Date.UTC(2026, 10, 27, 10, 0, 0)
  const pod = structuredClone(target)
  pod.spec.ephemeralContainers = ['alice', 'bob', 'alice'].map((user, i) => {
    const attribution = { sessionId: `s${i}`, requestedBy: user, expiresAt: new Date(now + 60_000).toISOString() }
    const built = buildEphemeralContainer(target, { image: 'busybox:1.36', container: `dbg${i}` }, { attribution })
    return signEphemeralContainer({ namespace: 'demo', pod: 'web' }, built.container, signer.sign)
  })
  const checked: Array<string | undefined> = []
  const verify = (fields: Readonly<Record<string, string | undefined>>, sig: string | undefined): boolean => { checked.push(fields.requestedBy); return signer.verify(fields, sig) }
  const alices = ephemeralSessions(pod, now, verify, a => a.requestedBy === 'alice')
  assert.deepEqual(checked, ['alice', 'alice'], 'bob\'s signature is never checked')
  assert.deepEqual(alices, ephemeralSessions(pod, now, signer.verify).filter(s => s.session.requestedBy === 'alice'))
  assert.deepEqual(alices.map(s => [s.session.id, s.verified]), [['s0', true], ['s2', true]])
  const node = signPod(buildNodeDebugPod('node-1', { image: 'busybox:1.36', namespace: 'kdebug' }, { attribution: { sessionId: 'n1', requestedBy: 'bob' } }).pod, signer.sign)
  assert.equal(podSession(node, now, signer.verify, a => a.requestedBy === 'alice'), undefined)
  assert.equal(podSession(node, now, signer.verify, a => a.requestedBy === 'bob')?.verified, true)
})

test('policy input comes from the built container: profile and custom capabilities count; the resulting pod is judged', () => {
  const { container } = buildEphemeralContainer(target, { image: 'busybox:1.36', profile: 'netadmin', target: 'app', custom: { securityContext: { capabilities: { add: ['SYS_ADMIN'] } } } })
  const p = policyInput({ action: 'ephemeral', namespace: 'demo', container, original: target, profile: 'netadmin', defaultTtlSeconds: 3600 })
  assert.deepEqual(p.capabilities, ['SYS_ADMIN'])
  assert.deepEqual(p.images, ['busybox:1.36'])
  // The target pod with the container added; the container and the one it targets are judged.
  assert.deepEqual(p.effective?.containers, [container.name, 'app'])
  const pod = p.effective?.pod as typeof target
  assert.equal(pod.spec.ephemeralContainers?.at(-1)?.name, container.name)
  assert.equal(pod.spec.containers.length, target.spec.containers.length)
  const node = buildNodeDebugPod('node-1', { image: 'busybox:1.36', profile: 'general' })
  const n = policyInput({ action: 'node', namespace: 'kdebug', node: 'node-1', container: node.pod.spec.containers[0], pod: node.pod, profile: 'general', defaultTtlSeconds: 3600 })
  assert.equal((n.effective?.pod as typeof node.pod).spec.hostPID, true)
  assert.deepEqual(n.effective?.containers, node.pod.spec.containers.map(c => c.name))
  assert.equal(n.node, 'node-1')
})

test('SpecError fields become body pointers', () => {
  const p = specProblem({ field: 'custom.env[0].name', message: 'bad' })
  assert.equal(p.status, 400)
  assert.deepEqual(p.extras.errors, [{ field: '/body/custom/env/0/name', message: 'bad' }])
  assert.equal(specProblem({ field: 'setImage.app', message: 'x' }).extras.errors?.[0]?.field, '/body/setImage/app')
})

test('Warning headers are parsed as the API server writes them', async () => {
  const { parseWarningHeaders } = await import('../../src/kube/debug-client.ts')
  assert.deepEqual(parseWarningHeaders(['299 - "would violate PodSecurity \\"baseline:latest\\": privileged"', 'garbage', '299 - "second"']), [
    'would violate PodSecurity "baseline:latest": privileged',
    'second'
  ])
  assert.deepEqual(parseWarningHeaders(undefined), [])
})

test('Warning lines are read one by one from the raw headers, whatever their case', async () => {
  const { warningHeaders } = await import('../../src/kube/debug-client.ts')
  assert.deepEqual(warningHeaders({ rawHeaders: ['Content-Type', 'application/json', 'Warning', '299 - "a, b"', 'warning', '299 - "c"', 'X-Warning', 'no'] }), ['299 - "a, b"', '299 - "c"'])
  assert.deepEqual(warningHeaders({ rawHeaders: [] }), [])
})

test('one build: policy judges the very container that is sent, signed and with its expiry', async () => {
  const now = Date.parse('2026-11-27T10:00:00Z')
  const sent: Array<Record<string, any>> = []
  const client = {
    getPod: async () => structuredClone(target),
    addEphemeralContainer: async (_ns: string, _name: string, patch: Record<string, any>) => {
      sent.push(patch)
      return { ...structuredClone(target), spec: { ...structuredClone(target.spec), ephemeralContainers: patch.spec.ephemeralContainers } }
    },
    listPods: async () => ({ items: [], resourceVersion: '1' })
  } as unknown as DebugClientFake
  const compiled = compilePolicy(testPolicy())
  const judged: Array<Record<string, any>> = []
  const policy = { ...compiled, evaluate: (s: Parameters<typeof compiled.evaluate>[0], r: Parameters<typeof compiled.evaluate>[1]) => { judged.push(r); return compiled.evaluate(s, r) } }
  const service = unitService(client, { ledger: unitLedger({ clock: () => now }), policy, clock: () => now })
  const caller = { identity: { user: 'alice', groups: ['dev', 'system:authenticated'], method: 'static' as const }, requestId: 'r1' }
  const r = await service.createEphemeral(caller, { namespace: 'demo', pod: 'web' }, { image: 'busybox:1.36', reason: 'units', ttlSeconds: 600 })
  assert.equal(r.status, 201)
  assert.equal(sent.length, 1)
  assert.equal(judged.length, 1)
  const container = sent[0]?.spec.ephemeralContainers[0]
  // The judged container is the sent one: signed, with the granted expiry (10 min) in its env and its timeout.
  assert.deepEqual(judged[0]?.effective.debugContainer, container)
  assert.equal(readEnvAttribution(container)?.expiresAt, new Date(now + 600_000).toISOString())
  assert.ok(container.env.some((e: { name: string }) => e.name === 'KDEBUG_SIGNATURE'))
  assert.deepEqual(container.command.slice(0, 4), ['timeout', '-s', 'KILL', '600'])
})

test('the session is reserved in the user\'s ledger while the target pod is read; the cluster is listed only to build the ledger; a policy denial releases it', async () => {
  const events: string[] = []
  const local = localLeaseClient()
  const leases: LeaseClient = {
    get: async (ns, name) => { events.push('lease get'); return await local.get(ns, name) },
    create: async (l) => { events.push('lease create'); return await local.create(l) },
    update: async (l) => { events.push('lease update'); return await local.update(l) },
    delete: async () => { throw new Error('not expected') }
  }
  let readPod!: () => void
  const client = {
    getPod: async () => {
      events.push('get pod')
      await new Promise<void>(resolve => { readPod = resolve })
      events.push('pod read')
      return structuredClone(target)
    },
    addEphemeralContainer: async (_ns: string, _name: string, patch: Record<string, any>) => {
      events.push('patch')
      return { ...structuredClone(target), spec: { ...structuredClone(target.spec), ephemeralContainers: patch.spec.ephemeralContainers } }
    },
    listPods: async () => { events.push('list'); return { items: [], resourceVersion: '1' } }
  } as unknown as DebugClientFake
  const ledger = unitLedger({ leases })
  const service = unitService(client, { ledger })
  const caller = { identity: { user: 'alice', groups: ['dev', 'system:authenticated'], method: 'static' as const }, requestId: 'r1' }
  const turns = async (n: number): Promise<void> => { for (let i = 0; i < n; i++) await new Promise(resolve => setImmediate(resolve)) }
  const entries = async (): Promise<string[]> => (decodeEntries((await local.get('kdebug', leaseName('alice'))).metadata.annotations?.[LEDGER_ANNOTATION] ?? '') ?? []).map(e => e.id)

  const first = service.createEphemeral(caller, { namespace: 'demo', pod: 'web' }, { image: 'busybox:1.36', reason: 'units' })
  await turns(10)
  assert.deepEqual(events, ['get pod', 'lease get', 'list', 'lease create'], 'no ledger yet: it is built from the cluster and the session reserved while the pod is still being read')
  readPod()
  const created = await first
  assert.equal(created.status, 201)
  assert.deepEqual(events.slice(4), ['pod read', 'patch'])
  assert.deepEqual(await entries(), [created.body.session.id])

  events.length = 0
  const second = service.createEphemeral(caller, { namespace: 'demo', pod: 'web' }, { image: 'busybox:1.36', reason: 'units' })
  await turns(10)
  readPod()
  assert.equal((await second).status, 201)
  assert.deepEqual(events, ['get pod', 'lease update', 'pod read', 'patch'], 'with a ledger: one update (with the resourceVersion it knows), no read of the lease, no LIST')
  assert.equal((await entries()).length, 2)

  events.length = 0
  const denied = service.createEphemeral(caller, { namespace: 'demo', pod: 'web' }, { image: 'evil.example/tool:1', reason: 'units' })
  await turns(10)
  readPod()
  await assert.rejects(denied, (err: unknown) => isProblemError(err) && err.status === 403)
  await ledger.idle()
  assert.deepEqual(events, ['get pod', 'lease update', 'pod read', 'lease update'], 'a policy denial creates nothing and takes its reservation back')
  assert.equal((await entries()).length, 2)
})

test('the same Idempotency-Key reserved by a create in flight elsewhere: looked for a bounded number of times, then a 409; nothing sent, nothing left reserved', async () => {
  const events: string[] = []
  const client = {
    getPod: async () => { events.push('get pod'); return structuredClone(target) },
    addEphemeralContainer: async () => { throw new Error('not expected') },
    listPods: async () => ({ items: [], resourceVersion: '1' })
  } as unknown as DebugClientFake
  const leases = localLeaseClient()
  const ledger = unitLedger({ leases })
  // Another replica's create with this key reserved its session a moment ago and has not landed.
  const key = idempotencyKeyHash('alice', 'retry-1')
  const other = await ledger.reserve({ user: 'alice', session: { id: 'elsewhere', expiresAtMs: Date.now() + 600_000, key }, limit: 3, inCluster: async () => [] })
  assert.equal(other.kind, 'reserved')
  const waits: number[] = []
  const service = unitService(client, { ledger, delay: async (ms) => { waits.push(ms) } })
  const caller = { identity: { user: 'alice', groups: ['dev', 'system:authenticated'], method: 'static' as const }, requestId: 'r1' }
  await assert.rejects(service.createEphemeral(caller, { namespace: 'demo', pod: 'web' }, { image: 'busybox:1.36', reason: 'units' }, { idempotencyKey: 'retry-1' }),
    (err: unknown) => isProblemError(err) && err.status === 409 && err.extras.retryAfter === 1)
  assert.equal(waits.length, 16)
  assert.equal(events.length, 17, 'the target is read again after every wait, to find the other create\'s session')
  await ledger.idle()
  const lease = await leases.get('kdebug', leaseName('alice'))
  assert.deepEqual(decodeEntries(lease.metadata.annotations?.[LEDGER_ANNOTATION] ?? '')?.map(e => e.id), ['elsewhere'], 'the refused request reserved nothing')
})
