// PodSecurity admission through the gateway: the demo world's payments namespace enforces
// `baseline` and kdebug `privileged` (like deploy/namespace.yaml), so the sim refuses what a
// real API server would refuse and the gateway passes the 403 through.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startDebugStack, type DebugStack } from '../helpers/debug-stack.ts'

type Obj = Record<string, any>
let stack: DebugStack
before(async () => { stack = await startDebugStack() })
after(async () => { await stack.close() })

const reason = 'pod security test'
const EPH = '/v1/namespaces/payments/pods/ledger/ephemeral-containers'
const ledgerEphemeral = (): string[] => ((stack.sim.store.get('pods', 'payments', 'ledger') as Obj).spec.ephemeralContainers ?? []).map((c: Obj) => c.name)
const recordsFor = (requestId: string | null): Obj[] => stack.audit().filter(r => r.requestId === requestId)

test('carol: the general profile (SYS_PTRACE) in payments is a 403 from PodSecurity; nothing is added; audited', async () => {
  const before = ledgerEphemeral()
  const r = await stack.post(EPH, 'carol', { image: 'busybox:1.36', reason, profile: 'general', container: 'dbg-ptrace' })
  assert.equal(r.status, 403, JSON.stringify(r.body))
  assert.equal(r.body.kubernetesReason, 'Forbidden')
  assert.match(r.body.detail, /violates PodSecurity "baseline:latest": non-default capabilities \(container "dbg-ptrace" must not include "SYS_PTRACE" in securityContext\.capabilities\.add\)/)
  assert.deepEqual(ledgerEphemeral(), before)
  const recs = recordsFor(r.headers.get('x-request-id'))
  assert.deepEqual(recs.map(x => x.phase), ['request', 'outcome'])
  assert.equal(recs[1]?.outcome.status, 403)
  assert.equal(recs[1]?.outcome.kubernetesReason, 'Forbidden')
  assert.match(String(recs[1]?.outcome.error), /^pods "ledger" is forbidden: violates PodSecurity "baseline:latest"/)
})

test('carol: the baseline profile in payments succeeds', async () => {
  const r = await stack.post(EPH, 'carol', { image: 'busybox:1.36', reason, profile: 'baseline', container: 'dbg-baseline' })
  assert.equal(r.status, 201, JSON.stringify(r.body))
  assert.equal(r.body.session.profile, 'baseline')
  assert.ok(ledgerEphemeral().includes('dbg-baseline'))
})

test('carol: a copy of ledger with the general profile is refused too (pod create is evaluated)', async () => {
  const r = await stack.post('/v1/namespaces/payments/pods/ledger/copies', 'carol', { image: 'busybox:1.36', reason, profile: 'general', name: 'ledger-ptrace' })
  assert.equal(r.status, 403, JSON.stringify(r.body))
  assert.equal(r.body.kubernetesReason, 'Forbidden')
  assert.match(r.body.detail, /pods "ledger-ptrace" is forbidden: violates PodSecurity "baseline:latest": non-default capabilities/)
  assert.equal(stack.sim.store.get('pods', 'payments', 'ledger-ptrace'), undefined)
})

test('a node debug pod (host namespaces, hostPath, sysadmin = privileged) is allowed in kdebug', async () => {
  const r = await stack.post('/v1/nodes/node-1/debug-pods', 'carol', { image: 'busybox:1.36', reason, profile: 'sysadmin' })
  assert.equal(r.status, 201, JSON.stringify(r.body))
  assert.equal(r.body.session.namespace, 'kdebug')
  const created = stack.sim.store.get('pods', 'kdebug', r.body.session.pod) as Obj
  assert.equal(created.spec.hostPID, true)
  assert.equal(created.spec.containers[0].securityContext.privileged, true)
  // kdebug warns at baseline: the API server's Warning header reaches the caller
  const warning = r.body.warnings.find((w: Obj) => w.code === 'KUBERNETES_WARNING')
  assert.ok(warning, JSON.stringify(r.body.warnings))
  assert.match(warning.message, /^would violate PodSecurity "baseline:latest": host namespaces/)
})
