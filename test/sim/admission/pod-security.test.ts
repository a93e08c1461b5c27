// Pod Security Admission in the sim: each check's wording (policy/check_*.go), check order and
// restricted overrides, label parsing, and the HTTP behaviour (403 Status, Warning header, the
// ephemeralcontainers subresource, significant updates only).
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startSim } from '../../../src/sim/index.ts'
import type { Sim } from '../../../src/sim/index.ts'
import type { KObject } from '../../../src/sim/apimachinery/types.ts'
import { admitPod, evaluatePodSecurity, forbiddenDetail, forbiddenReason, isSignificantPodUpdate, policyFromLabels, violationMessage, warningHeader } from '../../../src/sim/admission/pod-security.ts'
import { ADMIN, api } from '../../helpers/sim-api.ts'

type Obj = Record<string, any>

function pod (spec: Obj, metadata: Obj = {}): KObject {
  return { metadata: { name: 'p', ...metadata }, spec: { containers: [{ name: 'c', image: 'busybox' }], ...spec } }
}
function withContainer (sc: Obj, extra: Obj = {}): KObject {
  return pod({ containers: [{ name: 'c', image: 'busybox', securityContext: sc }], ...extra })
}
const baselineDetail = (p: KObject): string => forbiddenDetail(evaluatePodSecurity('baseline', p))
const restrictedDetail = (p: KObject): string => forbiddenDetail(evaluatePodSecurity('restricted', p))

/** A pod that passes restricted; tests change one thing at a time. */
function compliant (): KObject {
  return pod({
    securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [{ name: 'c', image: 'busybox', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
    volumes: [{ name: 'cfg', configMap: { name: 'x' } }, { name: 'tmp', emptyDir: {} }]
  })
}

describe('baseline checks', () => {
  test('privileged allows anything; a plain pod passes baseline', () => {
    const bad = pod({ hostPID: true, containers: [{ name: 'c', image: 'x', securityContext: { privileged: true } }] })
    assert.deepEqual(evaluatePodSecurity('privileged', bad), { allowed: true, reasons: [], details: [] })
    assert.equal(evaluatePodSecurity('baseline', pod({})).allowed, true)
  })

  test('a node debug pod: host namespaces, hostPath, privileged — in registry order', () => {
    const p = pod({
      hostNetwork: true,
      hostPID: true,
      hostIPC: true,
      containers: [{ name: 'debugger', image: 'busybox', securityContext: { privileged: true } }],
      volumes: [{ name: 'host-root', hostPath: { path: '/' } }]
    })
    const r = evaluatePodSecurity('baseline', p)
    assert.equal(r.allowed, false)
    assert.deepEqual(r.reasons, ['host namespaces', 'hostPath volumes', 'privileged'])
    assert.equal(forbiddenDetail(r), 'host namespaces (hostNetwork=true, hostPID=true, hostIPC=true), hostPath volumes (volume "host-root"), privileged (container "debugger" must not set securityContext.privileged=true)')
    assert.equal(forbiddenReason(r), 'host namespaces, hostPath volumes, privileged')
    assert.equal(violationMessage({ level: 'baseline', version: 'latest' }, r), `violates PodSecurity "baseline:latest": ${forbiddenDetail(r)}`)
  })

  test('capabilities: only the default set may be added (not SYS_PTRACE, NET_ADMIN, SYS_ADMIN, NET_RAW)', () => {
    const defaults = ['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']
    assert.equal(evaluatePodSecurity('baseline', withContainer({ capabilities: { add: defaults, drop: ['ALL'] } })).allowed, true)
    for (const cap of ['SYS_PTRACE', 'NET_ADMIN', 'SYS_ADMIN', 'NET_RAW']) {
      assert.equal(baselineDetail(withContainer({ capabilities: { add: [cap] } })), `non-default capabilities (container "c" must not include "${cap}" in securityContext.capabilities.add)`)
    }
    const two = pod({
      containers: [
        { name: 'a', image: 'x', securityContext: { capabilities: { add: ['SYS_PTRACE', 'CHOWN'] } } },
        { name: 'b', image: 'x', securityContext: { capabilities: { add: ['NET_ADMIN', 'SYS_PTRACE'] } } }
      ]
    })
    assert.equal(baselineDetail(two), 'non-default capabilities (containers "a", "b" must not include "NET_ADMIN", "SYS_PTRACE" in securityContext.capabilities.add)')
  })

  test('init, regular and ephemeral containers are all visited, in that order', () => {
    const p = pod({
      initContainers: [{ name: 'init', image: 'x', securityContext: { privileged: true } }],
      containers: [{ name: 'main', image: 'x', securityContext: { privileged: true } }],
      ephemeralContainers: [{ name: 'debugger-abcde', image: 'x', securityContext: { privileged: true } }]
    })
    assert.equal(baselineDetail(p), 'privileged (containers "init", "main", "debugger-abcde" must not set securityContext.privileged=true)')
  })

  test('hostPorts, procMount, sysctls, seLinuxOptions, windows hostProcess', () => {
    assert.equal(baselineDetail(pod({ containers: [{ name: 'web', image: 'x', ports: [{ containerPort: 80, hostPort: 8080 }, { containerPort: 81 }] }] })), 'hostPort (container "web" uses hostPort 8080)')
    assert.equal(baselineDetail(pod({ containers: [{ name: 'a', image: 'x', ports: [{ hostPort: 9090 }] }, { name: 'b', image: 'x', ports: [{ hostPort: 8080 }] }] })), 'hostPort (containers "a", "b" use hostPorts 8080, 9090)')
    assert.equal(baselineDetail(withContainer({ procMount: 'Unmasked' })), 'procMount (container "c" must not set securityContext.procMount to "Unmasked")')
    assert.equal(evaluatePodSecurity('baseline', withContainer({ procMount: 'Default' })).allowed, true)
    const sysctls = pod({ securityContext: { sysctls: [{ name: 'net.ipv4.tcp_syncookies', value: '1' }, { name: 'kernel.msgmax', value: '1' }, { name: 'net.ipv4.tcp_rmem', value: '1' }, { name: 'vm.swappiness', value: '1' }] } })
    assert.equal(baselineDetail(sysctls), 'forbidden sysctls (kernel.msgmax, vm.swappiness)')
    // tcp_rmem joined the safe set in policy v1.32
    assert.equal(forbiddenDetail(evaluatePodSecurity({ level: 'baseline', version: 'v1.31' }, sysctls)), 'forbidden sysctls (kernel.msgmax, net.ipv4.tcp_rmem, vm.swappiness)')
    assert.equal(baselineDetail(pod({ securityContext: { seLinuxOptions: { type: 'spc_t', user: 'root' } } })), 'seLinuxOptions (pod set forbidden securityContext.seLinuxOptions: type "spc_t"; user may not be set)')
    assert.equal(evaluatePodSecurity('baseline', withContainer({ seLinuxOptions: { type: 'container_engine_t' } })).allowed, true)
    assert.equal(baselineDetail(withContainer({ windowsOptions: { hostProcess: true } })), 'hostProcess (container "c" must not set securityContext.windowsOptions.hostProcess=true)')
  })

  test('seccomp and AppArmor: Unconfined is refused, unset is fine at baseline', () => {
    assert.equal(baselineDetail(pod({ securityContext: { seccompProfile: { type: 'Unconfined' } } })), 'seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")')
    assert.equal(baselineDetail(withContainer({ appArmorProfile: { type: 'Unconfined' } })), 'forbidden AppArmor profile (container "c" must not set AppArmor profile type to "Unconfined")')
    const annotated = pod({}, { annotations: { 'container.apparmor.security.beta.kubernetes.io/c': 'unconfined', 'container.apparmor.security.beta.kubernetes.io/d': 'localhost/x' } })
    assert.equal(baselineDetail(annotated), 'forbidden AppArmor profile (annotation must not set AppArmor profile type to "container.apparmor.security.beta.kubernetes.io/c="unconfined"")')
    assert.equal(evaluatePodSecurity('baseline', pod({ securityContext: { seccompProfile: { type: 'RuntimeDefault' }, appArmorProfile: { type: 'Localhost', localhostProfile: 'p' } } })).allowed, true)
  })
})

describe('restricted checks', () => {
  test('a plain pod: the four classic violations, worded like a real API server', () => {
    assert.equal(restrictedDetail(pod({ containers: [{ name: 'nginx', image: 'nginx' }] })),
      'allowPrivilegeEscalation != false (container "nginx" must set securityContext.allowPrivilegeEscalation=false), ' +
      'unrestricted capabilities (container "nginx" must set securityContext.capabilities.drop=["ALL"]), ' +
      'runAsNonRoot != true (pod or container "nginx" must set securityContext.runAsNonRoot=true), ' +
      'seccompProfile (pod or container "nginx" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")')
  })

  test('a compliant pod passes; NET_BIND_SERVICE may be added', () => {
    assert.equal(evaluatePodSecurity('restricted', compliant()).allowed, true)
    const p = compliant()
    ;(p.spec as Obj).containers[0].securityContext.capabilities.add = ['NET_BIND_SERVICE']
    assert.equal(evaluatePodSecurity('restricted', p).allowed, true)
  })

  test('restricted capabilities replace the baseline check (one reason, both details)', () => {
    const p = compliant()
    ;(p.spec as Obj).containers[0].securityContext.capabilities = { add: ['SYS_PTRACE'] }
    const r = evaluatePodSecurity('restricted', p)
    assert.deepEqual(r.reasons, ['unrestricted capabilities'])
    assert.equal(forbiddenDetail(r), 'unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]; container "c" must not include "SYS_PTRACE" in securityContext.capabilities.add)')
  })

  test('volumes: restricted volume types replace hostPath volumes', () => {
    const p = compliant()
    ;(p.spec as Obj).volumes.push({ name: 'host-root', hostPath: { path: '/' } }, { name: 'share', nfs: { server: 's', path: '/' } })
    const r = evaluatePodSecurity('restricted', p)
    assert.deepEqual(r.reasons, ['restricted volume types'])
    assert.equal(forbiddenDetail(r), 'restricted volume types (volumes "host-root", "share" use restricted volume types "hostPath", "nfs")')
  })

  test('runAsNonRoot=false, runAsUser=0, container seccomp override, baseline checks come first', () => {
    const p = compliant()
    const spec = p.spec as Obj
    spec.hostPID = true
    spec.securityContext.runAsUser = 0
    spec.containers[0].securityContext.runAsNonRoot = false
    spec.containers[0].securityContext.seccompProfile = { type: 'Unconfined' }
    assert.equal(restrictedDetail(p),
      'host namespaces (hostPID=true), ' +
      'runAsNonRoot != true (container "c" must not set securityContext.runAsNonRoot=false), ' +
      'runAsUser=0 (pod must not set runAsUser=0), ' +
      'seccompProfile (container "c" must not set securityContext.seccompProfile.type to "Unconfined")')
  })

  test('versions: runAsUser only from v1.23; Windows pods skip seccomp/capabilities/escalation from v1.25', () => {
    const root = compliant()
    ;(root.spec as Obj).securityContext.runAsUser = 0
    assert.equal(evaluatePodSecurity({ level: 'restricted', version: 'v1.22' }, root).allowed, true)
    assert.equal(evaluatePodSecurity({ level: 'restricted', version: 'v1.23' }, root).allowed, false)
    const win = pod({ os: { name: 'windows' }, securityContext: { runAsNonRoot: true } })
    assert.equal(evaluatePodSecurity('restricted', win).allowed, true)
    assert.deepEqual(evaluatePodSecurity({ level: 'restricted', version: 'v1.24' }, win).reasons, ['allowPrivilegeEscalation != false', 'unrestricted capabilities', 'seccompProfile'])
  })
})

describe('policy labels and decisions', () => {
  test('labels over the privileged default; bad enforce means restricted, bad warn fails open', () => {
    assert.deepEqual(policyFromLabels(undefined).policy.enforce, { level: 'privileged', version: 'latest' })
    const ok = policyFromLabels({ 'pod-security.kubernetes.io/enforce': 'baseline', 'pod-security.kubernetes.io/warn': 'restricted', 'pod-security.kubernetes.io/warn-version': 'v1.30' })
    assert.deepEqual(ok, { policy: { enforce: { level: 'baseline', version: 'latest' }, audit: { level: 'privileged', version: 'latest' }, warn: { level: 'restricted', version: 'v1.30' } }, errors: [] })
    const bad = policyFromLabels({ 'pod-security.kubernetes.io/enforce': 'strict', 'pod-security.kubernetes.io/warn': 'loud', 'pod-security.kubernetes.io/enforce-version': '1.30' })
    assert.equal(bad.policy.enforce.level, 'restricted')
    assert.equal(bad.policy.enforce.version, 'latest')
    assert.equal(bad.policy.warn.level, 'privileged')
    assert.equal(bad.errors.length, 3)
  })

  test('enforce denies without warnings; warn warns when allowed; ignored subresources are never evaluated', () => {
    const p = pod({ hostPID: true })
    const labels = { 'pod-security.kubernetes.io/enforce': 'baseline', 'pod-security.kubernetes.io/warn': 'restricted' }
    const denied = admitPod({ namespaceLabels: labels, pod: p })
    assert.equal(denied.error?.status.code, 403)
    assert.deepEqual(denied.warnings, [])
    const warned = admitPod({ namespaceLabels: { 'pod-security.kubernetes.io/warn': 'baseline', 'pod-security.kubernetes.io/audit': 'baseline' }, pod: p })
    assert.equal(warned.error, undefined)
    assert.deepEqual(warned.warnings, ['would violate PodSecurity "baseline:latest": host namespaces (hostPID=true)'])
    assert.equal(warned.auditViolation, 'would violate PodSecurity "baseline:latest": host namespaces (hostPID=true)')
    assert.deepEqual(admitPod({ namespaceLabels: labels, pod: p, subresource: 'status' }), { warnings: [] })
    assert.equal(warningHeader('a "b" \\c'), '299 - "a \\"b\\" \\\\c"')
  })

  test('updates are evaluated only when significant (images, added containers or ephemeral containers)', () => {
    const old = pod({ hostPID: true })
    const relabelled = structuredClone(old)
    relabelled.metadata.labels = { x: 'y' }
    assert.equal(isSignificantPodUpdate(relabelled, old), false)
    const image = structuredClone(old)
    ;(image.spec as Obj).containers[0].image = 'busybox:2'
    assert.equal(isSignificantPodUpdate(image, old), true)
    const eph = structuredClone(old)
    ;(eph.spec as Obj).ephemeralContainers = [{ name: 'd', image: 'busybox' }]
    assert.equal(isSignificantPodUpdate(eph, old), true)
    assert.equal(isSignificantPodUpdate(structuredClone(eph), eph), false)
    const labels = { 'pod-security.kubernetes.io/enforce': 'baseline' }
    assert.deepEqual(admitPod({ namespaceLabels: labels, pod: relabelled, oldPod: old }), { warnings: [] })
    assert.equal(admitPod({ namespaceLabels: labels, pod: image, oldPod: old }).error?.status.code, 403)
  })
})

describe('over HTTP (demo world: payments enforces baseline, kdebug privileged with baseline warn)', () => {
  let sim: Sim
  before(async () => { sim = await startSim({ startDelayMs: 5 }) })
  after(async () => { await sim.close() })

  const newPod = (name: string, spec: Obj): Obj => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'busybox' }], ...spec } })

  test('create in payments: 403 Forbidden Status with the PodSecurity message; nothing stored (dry run too)', async () => {
    const body = newPod('bad', { hostPID: true, volumes: [{ name: 'host-root', hostPath: { path: '/' } }] })
    const r = await api(sim, ADMIN, 'POST', '/api/v1/namespaces/payments/pods', { body })
    assert.equal(r.status, 403)
    assert.deepEqual(r.json, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'pods "bad" is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostPID=true), hostPath volumes (volume "host-root")',
      reason: 'Forbidden',
      details: { name: 'bad', kind: 'pods' },
      code: 403
    })
    assert.equal(sim.store.get('pods', 'payments', 'bad'), undefined)
    const dry = await api(sim, ADMIN, 'POST', '/api/v1/namespaces/payments/pods?dryRun=All', { body })
    assert.equal(dry.status, 403)
    const gen = await api(sim, ADMIN, 'POST', '/api/v1/namespaces/payments/pods', { body: { ...newPod('', { hostIPC: true }), metadata: { generateName: 'gen-' } } })
    assert.equal(gen.status, 403)
    assert.match(gen.json.message, /^pods "gen-[a-z0-9]{5}" is forbidden: violates PodSecurity "baseline:latest": host namespaces \(hostIPC=true\)$/)
  })

  test('validation (422) comes before PodSecurity (403)', async () => {
    const r = await api(sim, ADMIN, 'POST', '/api/v1/namespaces/payments/pods', { body: newPod('Bad_Name', { hostPID: true }) })
    assert.equal(r.status, 422)
  })

  test('kdebug (privileged, warn baseline): allowed with a Warning header; demo (no labels): no header', async () => {
    const r = await api(sim, ADMIN, 'POST', '/api/v1/namespaces/kdebug/pods', { body: newPod('node-dbg', { hostPID: true, hostNetwork: true, containers: [{ name: 'debugger', image: 'busybox', securityContext: { privileged: true } }] }) })
    assert.equal(r.status, 201)
    assert.equal(r.headers.get('warning'), '299 - "would violate PodSecurity \\"baseline:latest\\": host namespaces (hostNetwork=true, hostPID=true), privileged (container \\"debugger\\" must not set securityContext.privileged=true)"')
    const plain = await api(sim, ADMIN, 'POST', '/api/v1/namespaces/demo/pods', { body: newPod('host-pid', { hostPID: true }) })
    assert.equal(plain.status, 201)
    assert.equal(plain.headers.get('warning'), null)
  })

  test('ephemeralcontainers subresource: SYS_PTRACE refused in payments, a baseline container added', async () => {
    const path = '/api/v1/namespaces/payments/pods/ledger/ephemeralcontainers'
    const patch = (c: Obj): Promise<Obj> => api(sim, 'carol-token', 'PATCH', path, { body: { spec: { ephemeralContainers: [c] } }, contentType: 'application/strategic-merge-patch+json' })
    const denied = await patch({ name: 'debugger-ptrace', image: 'busybox', stdin: true, tty: true, securityContext: { capabilities: { add: ['SYS_PTRACE'] } } })
    assert.equal(denied.status, 403)
    assert.equal(denied.json.reason, 'Forbidden')
    assert.equal(denied.json.message, 'pods "ledger" is forbidden: violates PodSecurity "baseline:latest": non-default capabilities (container "debugger-ptrace" must not include "SYS_PTRACE" in securityContext.capabilities.add)')
    assert.deepEqual(denied.json.details, { name: 'ledger', kind: 'pods' })
    assert.equal(((sim.store.get('pods', 'payments', 'ledger') as Obj).spec.ephemeralContainers ?? []).length, 0)
    const forbiddenField = await patch({ name: 'debugger-ports', image: 'busybox', ports: [{ containerPort: 80 }], securityContext: { capabilities: { add: ['SYS_PTRACE'] } } })
    assert.equal(forbiddenField.status, 422, 'validation first')
    const ok = await patch({ name: 'debugger-ok', image: 'busybox', stdin: true, tty: true })
    assert.equal(ok.status, 200, ok.text)
    assert.deepEqual((sim.store.get('pods', 'payments', 'ledger') as Obj).spec.ephemeralContainers.map((c: Obj) => c.name), ['debugger-ok'])
  })

  test('pod updates: an existing violating pod may be relabelled, not given a new image', async () => {
    sim.seed([{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'legacy', namespace: 'payments' }, spec: { hostNetwork: true, containers: [{ name: 'c', image: 'busybox:1' }] } }])
    const path = '/api/v1/namespaces/payments/pods/legacy'
    const merge = 'application/merge-patch+json'
    const relabel = await api(sim, ADMIN, 'PATCH', path, { body: { metadata: { labels: { tier: 'old' } } }, contentType: merge })
    assert.equal(relabel.status, 200, relabel.text)
    const image = await api(sim, ADMIN, 'PATCH', path, { body: { spec: { containers: [{ name: 'c', image: 'busybox:2' }] } }, contentType: 'application/strategic-merge-patch+json' })
    assert.equal(image.status, 403)
    assert.equal(image.json.message, 'pods "legacy" is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostNetwork=true)')
  })

  test('namespaces: bad labels are a 422; a stricter enforce level warns about existing pods', async () => {
    const bad = await api(sim, ADMIN, 'POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bad-psa', labels: { 'pod-security.kubernetes.io/enforce': 'strict', 'pod-security.kubernetes.io/warn-version': '1.30' } } } })
    assert.equal(bad.status, 422)
    assert.equal(bad.json.message, 'Namespace "bad-psa" is invalid: [metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted, metadata.labels[pod-security.kubernetes.io/warn-version]: Invalid value: "1.30": must be "latest" or "v1.x"]')
    const made = await api(sim, ADMIN, 'POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'psa' } } })
    assert.equal(made.status, 201, made.text)
    sim.seed(['a', 'b', 'c'].map(name => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'psa' }, spec: { hostPID: name !== 'c', containers: [{ name: 'c', image: 'busybox' }] } })))
    const merge = 'application/merge-patch+json'
    const raise = await api(sim, ADMIN, 'PATCH', '/api/v1/namespaces/psa', { body: { metadata: { labels: { 'pod-security.kubernetes.io/enforce': 'baseline' } } }, contentType: merge })
    assert.equal(raise.status, 200, raise.text)
    assert.equal(raise.headers.get('warning'), [
      '299 - "existing pods in namespace \\"psa\\" violate the new PodSecurity enforce level \\"baseline:latest\\""',
      '299 - "a (and 1 other pod): host namespaces"'
    ].join(', '))
    const relax = await api(sim, ADMIN, 'PATCH', '/api/v1/namespaces/psa', { body: { metadata: { labels: { 'pod-security.kubernetes.io/enforce': 'privileged' } } }, contentType: merge })
    assert.equal(relax.status, 200)
    assert.equal(relax.headers.get('warning'), null)
  })
})
