// Effective privilege, judged by the one policy path (compiled default policy):
// host access in the pod, the rule's Pod Security level over the judged
// containers, Secrets in the debug container, other people's sessions.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Value } from '@sinclair/typebox/value'
import { compilePolicy, type PolicyDecision, type PolicyRequest } from '../../src/policy/policy.ts'
import { PolicySchema } from '../../src/policy/config-schema.ts'
import { defaultPolicy } from '../../src/policy/default.ts'
import { effectiveViolations, type EffectiveRule } from '../../src/policy/effective.ts'
import { judgeStream } from '../../src/policy/stream-access.ts'
import type { Pod } from '../../src/kube/types.ts'

const policy = compilePolicy(defaultPolicy)
const alice = { user: 'alice', groups: ['dev'] }
const dave = { user: 'dave', groups: ['dev'] }
const carol = { user: 'carol', groups: ['sre'] }

type Obj = Record<string, any>
const dbg = (sc: Obj = {}, extra: Obj = {}): Obj => ({ name: 'debugger-x', image: 'busybox:1.36', securityContext: sc, ...extra })
function pod (spec: Obj = {}, dbgContainer: Obj = dbg({ capabilities: { add: ['SYS_PTRACE'] } })): Pod {
  return { metadata: { name: 'p', namespace: 'demo' }, spec: { containers: [{ name: 'app', image: 'nginx' }], ...spec, ephemeralContainers: [dbgContainer] } } as unknown as Pod
}
function ephemeral (p: Pod, extra: Partial<PolicyRequest> = {}): PolicyRequest {
  const debugContainer = p.spec.ephemeralContainers?.at(-1)
  return { action: 'ephemeral', namespace: 'demo', images: ['busybox:1.36'], capabilities: [], profile: 'general', reason: 'r', effective: { pod: p, containers: ['debugger-x'], debugContainer }, ...extra }
}
function deniedOn (d: PolicyDecision, field: string, re?: RegExp): void {
  assert.equal(d.allowed, false, `expected a denial on ${field}`)
  if (d.allowed) return
  const v = d.violations.find(x => x.field === field)
  assert.ok(v, `no violation on ${field}: ${JSON.stringify(d.violations)}`)
  assert.match(v.detail, /by rule "developers"/)
  if (re) assert.match(v.detail, re)
}

describe('host access in the resulting pod needs nodeDebug', () => {
  const cases: Array<[string, Obj, string, RegExp]> = [
    ['hostPID', { hostPID: true }, 'hostNamespaces', /hostPID=true/],
    ['hostNetwork', { hostNetwork: true }, 'hostNamespaces', /hostNetwork=true/],
    ['hostIPC', { hostIPC: true }, 'hostNamespaces', /hostIPC=true/],
    ['hostPath volume (not even mounted)', { volumes: [{ name: 'root', hostPath: { path: '/' } }] }, 'volumes.hostPath', /"root"/],
    ['hostPort on a sibling', { containers: [{ name: 'app', image: 'nginx', ports: [{ containerPort: 80, hostPort: 80 }] }] }, 'ports.hostPort', /app:80/],
    ['hostPort on an init container', { initContainers: [{ name: 'init', image: 'x', ports: [{ containerPort: 1, hostPort: 9 }] }] }, 'ports.hostPort', /init:9/],
    ['privileged sibling', { containers: [{ name: 'app', image: 'nginx' }, { name: 'agent', image: 'x', securityContext: { privileged: true } }] }, 'privilegedContainers', /"agent"/]
  ]
  for (const [name, spec, field, re] of cases) {
    test(`${name}: developer denied, sre allowed`, () => {
      deniedOn(policy.evaluate(alice, ephemeral(pod(spec))), field, re)
      assert.equal(policy.evaluate(carol, ephemeral(pod(spec))).allowed, true)
    })
  }
  test('a plain pod with the developer\'s SYS_PTRACE container is fine', () => {
    assert.deepEqual(policy.evaluate(alice, ephemeral(pod())).allowed, true)
  })
})

describe('the debug container is capped at the rule\'s Pod Security level', () => {
  const cases: Array<[string, Obj, Obj, string]> = [
    ['seccomp Unconfined', { seccompProfile: { type: 'Unconfined' } }, {}, 'securityContext.seccompProfile'],
    ['AppArmor Unconfined', { appArmorProfile: { type: 'Unconfined' } }, {}, 'securityContext.appArmorProfile'],
    ['SELinux type spc_t', { seLinuxOptions: { type: 'spc_t' } }, {}, 'securityContext.seLinuxOptions'],
    ['SELinux user', { seLinuxOptions: { type: 'spc_t', user: 'system_u' } }, {}, 'securityContext.seLinuxOptions'],
    ['procMount Unmasked', { procMount: 'Unmasked' }, {}, 'securityContext.procMount'],
    ['capability not listed (SYS_ADMIN)', { capabilities: { add: ['SYS_ADMIN'] } }, {}, 'securityContext.capabilities'],
    ['CAP_-prefixed unlisted capability', { capabilities: { add: ['CAP_SYS_MODULE'] } }, {}, 'securityContext.capabilities'],
    ['privileged', { privileged: true }, {}, 'securityContext.privileged'],
    ['windows hostProcess', { windowsOptions: { hostProcess: true } }, {}, 'securityContext.windowsOptions.hostProcess'],
    ['hostPort on the debug container', {}, { ports: [{ containerPort: 22, hostPort: 2222 }] }, 'ports.hostPort']
  ]
  for (const [name, sc, extra, field] of cases) {
    test(`${name}: developer (baseline) denied naming ${field}; sre (privileged level) allowed`, () => {
      const p = pod({}, dbg(sc, extra))
      deniedOn(policy.evaluate(alice, ephemeral(p)), field)
      assert.equal(policy.evaluate(carol, ephemeral(p)).allowed, true)
    })
  }
  const podLevel: Array<[string, Obj, string]> = [
    ['pod seccomp Unconfined', { securityContext: { seccompProfile: { type: 'Unconfined' } } }, 'securityContext.seccompProfile'],
    ['pod SELinux user', { securityContext: { seLinuxOptions: { user: 'root', type: 'spc_t' } } }, 'securityContext.seLinuxOptions'],
    ['unsafe sysctl', { securityContext: { sysctls: [{ name: 'kernel.msgmax', value: '1' }] } }, 'securityContext.sysctls'],
    ['AppArmor annotation', {}, 'securityContext.appArmorProfile']
  ]
  for (const [name, spec, field] of podLevel) {
    test(`pod-level ${name} applies to the debug container: developer denied`, () => {
      const p = pod(spec)
      if (name === 'AppArmor annotation') (p.metadata as Obj).annotations = { 'container.apparmor.security.beta.kubernetes.io/debugger-x': 'unconfined' }
      deniedOn(policy.evaluate(alice, ephemeral(p)), field)
    })
  }
  test('the listed capabilities are an exception on top of baseline (any case, with CAP_)', () => {
    for (const add of [['SYS_PTRACE'], ['NET_ADMIN', 'net_raw'], ['CAP_SYS_PTRACE']]) {
      assert.equal(policy.evaluate(alice, ephemeral(pod({}, dbg({ capabilities: { add } })))).allowed, true, add.join())
    }
  })
  test('baseline permits allowPrivilegeEscalation and runAsUser 0; a restricted rule refuses both, naming the field', () => {
    const restricted = compilePolicy(Value.Default(PolicySchema, { rules: [{ name: 'developers', match: { groups: ['dev'] }, allow: { images: ['busybox:*'], podSecurity: 'restricted', profiles: ['restricted'] } }] }) as never)
    const hardened = { allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } }
    const r = (sc: Obj): PolicyRequest => ephemeral(pod({}, dbg(sc)), { profile: 'restricted' })
    assert.equal(restricted.evaluate(alice, r(hardened)).allowed, true)
    deniedOn(restricted.evaluate(alice, r({ ...hardened, allowPrivilegeEscalation: true })), 'securityContext.allowPrivilegeEscalation')
    deniedOn(restricted.evaluate(alice, r({ ...hardened, runAsUser: 0 })), 'securityContext.runAsUser')
    deniedOn(restricted.evaluate(alice, r({ ...hardened, runAsNonRoot: false })), 'securityContext.runAsNonRoot')
    deniedOn(restricted.evaluate(alice, r({ ...hardened, capabilities: { add: ['NET_RAW'] } })), 'securityContext.capabilities')
    assert.equal(policy.evaluate(alice, ephemeral(pod({}, dbg({ allowPrivilegeEscalation: true, runAsUser: 0 })))).allowed, true)
  })
})

describe('Secrets in the debug container need secretEnv', () => {
  const secretPod = (extra: Obj): Pod => pod({ volumes: [{ name: 'creds', secret: { secretName: 's' } }, { name: 'tok', projected: { sources: [] } }, { name: 'cache', emptyDir: {} }] }, dbg({}, extra))
  const cases: Array<[string, Obj, string]> = [
    ['env valueFrom secretKeyRef', { env: [{ name: 'PW', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] }, 'env.valueFrom'],
    ['env valueFrom configMapKeyRef', { env: [{ name: 'C', valueFrom: { configMapKeyRef: { name: 'c', key: 'k' } } }] }, 'env.valueFrom'],
    ['envFrom secretRef', { envFrom: [{ secretRef: { name: 's' } }] }, 'envFrom'],
    ['envFrom configMapRef', { envFrom: [{ configMapRef: { name: 'c' } }] }, 'envFrom'],
    ['mount of a secret volume', { volumeMounts: [{ name: 'creds', mountPath: '/s' }] }, 'volumeMounts'],
    ['mount of a projected token volume', { volumeMounts: [{ name: 'tok', mountPath: '/t' }] }, 'volumeMounts']
  ]
  for (const [name, extra, field] of cases) {
    test(`${name}: developer denied naming ${field}, sre allowed`, () => {
      deniedOn(policy.evaluate(alice, ephemeral(secretPod(extra))), field)
      assert.equal(policy.evaluate(carol, ephemeral(secretPod(extra))).allowed, true)
    })
  }
  test('fieldRef env and an emptyDir mount are no secrets', () => {
    const p = secretPod({ env: [{ name: 'N', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }], volumeMounts: [{ name: 'cache', mountPath: '/c' }] })
    assert.equal(policy.evaluate(alice, ephemeral(p)).allowed, true)
  })
  test('the app containers\' own secret env is not the requester\'s doing (only the debug container is checked)', () => {
    const p = pod({ containers: [{ name: 'app', image: 'nginx', envFrom: [{ secretRef: { name: 's' } }] }] })
    assert.equal(policy.evaluate(alice, ephemeral(p)).allowed, true)
  })
})

describe('attach and logs: the container judged in its pod, sessions for their requester', () => {
  const base = (spec: Obj): Pod => ({ metadata: { name: 'p', namespace: 'demo' }, spec: { containers: [{ name: 'app', image: 'nginx' }], ...spec } }) as unknown as Pod
  const judge = (subject: typeof alice, p: Pod, container?: string): unknown => judgeStream({ policy, subject, action: 'attach', namespace: 'demo', pod: p, now: Date.parse('2026-01-01T00:00:00Z'), verify: () => false, ...(container ? { container } : {}) })
  const status = (fn: () => unknown): number => { try { fn(); return 200 } catch (err) { return (err as { status: number }).status } }
  test('privileged container, host namespaces, unlisted capability: 403 for developers, fine for sre', () => {
    const hostile = [
      base({ containers: [{ name: 'app', image: 'nginx', securityContext: { privileged: true } }] }),
      base({ hostPID: true }),
      base({ hostNetwork: true }),
      base({ containers: [{ name: 'app', image: 'nginx', securityContext: { capabilities: { add: ['SYS_ADMIN'] } } }] }),
      base({ volumes: [{ name: 'h', hostPath: { path: '/' } }] })
    ]
    for (const p of hostile) {
      assert.equal(status(() => judge(alice, p, 'app')), 403, JSON.stringify(p.spec))
      assert.equal(status(() => judge(carol, p, 'app')), 200)
    }
    assert.equal(status(() => judge(alice, base({}), 'app')), 200)
  })
  test('no container name: every regular container is judged; an unknown container is a 404', () => {
    const p = base({ containers: [{ name: 'app', image: 'nginx' }, { name: 'root', image: 'x', securityContext: { privileged: true } }] })
    assert.equal(status(() => judge(alice, p)), 403)
    assert.equal(status(() => judge(alice, p, 'nope')), 404)
  })
  test('ephemeral and init containers are found by name; a privileged one makes the whole pod host access', () => {
    const plain = base({ initContainers: [{ name: 'init', image: 'x' }], ephemeralContainers: [{ name: 'dbg', image: 'busybox', securityContext: { capabilities: { add: ['SYS_PTRACE'] } } }] })
    assert.equal(status(() => judge(alice, plain, 'init')), 200)
    assert.equal(status(() => judge(alice, plain, 'dbg')), 200)
    const p = base({ initContainers: [{ name: 'init', image: 'x' }], ephemeralContainers: [{ name: 'dbg', image: 'busybox', securityContext: { privileged: true } }] })
    assert.equal(status(() => judge(alice, p, 'dbg')), 403)
    assert.equal(status(() => judge(alice, p, 'init')), 403, 'a privileged sibling is node access')
  })
  test('developers rule: attachOthers false; sre: true', () => {
    const r = (s: typeof alice, owner: string): PolicyDecision => policy.evaluate(s, { action: 'attach', namespace: 'demo', sessionOwner: owner })
    deniedOn(r(dave, 'alice'), 'session', /"alice"/)
    assert.equal(r(alice, 'alice').allowed, true)
    assert.equal(r(carol, 'alice').allowed, true)
  })
})

describe('effectiveViolations directly', () => {
  const rule: EffectiveRule = { name: 'r', podSecurity: 'baseline', capabilities: new Set(), privileged: false, nodeDebug: false, secretEnv: false }
  test('a pod that is not an object judges as empty (no crash)', () => {
    assert.deepEqual(effectiveViolations(rule, { pod: null, containers: [] }), [])
    assert.deepEqual(effectiveViolations(rule, { pod: { spec: { containers: 'x', volumes: 7 } }, containers: ['x'] }), [])
  })
  test('with a target, the targeted container counts too (its capabilities are reachable)', () => {
    const p = { spec: { containers: [{ name: 'app', securityContext: { capabilities: { add: ['SYS_ADMIN'] } } }], ephemeralContainers: [{ name: 'd' }] } }
    assert.deepEqual(effectiveViolations(rule, { pod: p, containers: ['d'] }), [])
    assert.equal(effectiveViolations(rule, { pod: p, containers: ['d', 'app'] })[0]?.field, 'securityContext.capabilities')
  })
})
