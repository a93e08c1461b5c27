// Creating debug containers and copies judged by what results, over real HTTP
// against the sim: the target pod's host access counts for an ephemeral
// container, a copy carries its source's, and every `custom` field class is
// judged at the rule's Pod Security level. Developers (baseline, no host
// access, no Secrets) are refused naming the rule and the field; sre allowed.
import { test, before, after, describe } from 'node:test'
import assert from 'node:assert/strict'
import { startDebugStack, testPolicy, type DebugStack } from '../helpers/debug-stack.ts'
import { createHostilePods, createRawPod, HOSTILE } from '../helpers/hostile-pods.ts'

let stack: DebugStack
before(async () => {
  const policy = testPolicy()
  const dev = policy.rules.find(r => r.name === 'developers')
  const sre = policy.rules.find(r => r.name === 'sre')
  if (!dev || !sre) throw new Error('default policy changed')
  sre.allow.maxSessionsPerUser = 100
  // dave: a developer held to `restricted` (what a contractor rule looks like).
  policy.rules.unshift({ name: 'restricted-devs', match: { users: ['dave'] }, allow: { ...structuredClone(dev.allow), podSecurity: 'restricted', profiles: ['restricted'], capabilities: [] } })
  stack = await startDebugStack({ policy })
  await createHostilePods(stack.sim)
  await createRawPod(stack.sim, 'demo', 'h-sysctl', { securityContext: { sysctls: [{ name: 'kernel.msgmax', value: '65536' }] }, containers: [{ name: 'app', image: 'nginx:1.27' }] })
})
after(async () => { await stack.close() })

type Obj = Record<string, any>
const EPH = (pod: string): string => `/v1/namespaces/demo/pods/${pod}/ephemeral-containers`
const COPY = (pod: string): string => `/v1/namespaces/demo/pods/${pod}/copies`
const reason = 'effective privilege test'

function assertDenied (r: { status: number, body: Obj }, rule: string, field: string): void {
  assert.equal(r.status, 403, JSON.stringify(r.body))
  assert.equal(r.body.code ?? r.body.type.split('/').pop(), r.body.code ?? 'policy-denied')
  assert.equal(r.body.rule, rule)
  assert.ok(r.body.errors.some((e: Obj) => e.field === field), `${field} not named: ${JSON.stringify(r.body.errors)}`)
  assert.match(r.body.detail, new RegExp(`rule "${rule}"`))
}

function ephemeralCount (pod: string): number {
  return ((stack.sim.store.get('pods', 'demo', pod) as Obj | undefined)?.spec.ephemeralContainers ?? []).length
}

describe('ephemeral containers join the target pod: its host access counts', () => {
  for (const [pod, { field }] of Object.entries(HOSTILE)) {
    test(`${pod}: developer + SYS_PTRACE → 403 naming ${field}, nothing added; sre → 201`, async () => {
      const r = await stack.post(EPH(pod), 'alice', { image: 'busybox:1.36', profile: 'general', target: 'app', reason })
      assertDenied(r, 'developers', field)
      assert.equal(ephemeralCount(pod), 0)
      const sre = await stack.post(EPH(pod), 'carol', { image: 'busybox:1.36', profile: 'general', target: 'app', reason })
      assert.equal(sre.status, 201, JSON.stringify(sre.body))
    })
  }
  test('pod-level unsafe sysctl applies to the debug container: developer 403', async () => {
    assertDenied(await stack.post(EPH('h-sysctl'), 'alice', { image: 'busybox:1.36', reason }), 'developers', 'securityContext.sysctls')
  })
})

describe('a copy carries everything its source had', () => {
  for (const [pod, { field: hostField, copyField }] of Object.entries(HOSTILE)) {
    const field = copyField ?? hostField
    test(`copy of ${pod}: developer → 403 naming ${field}; sre → 201`, async () => {
      assertDenied(await stack.post(COPY(pod), 'alice', { image: 'busybox:1.36', reason }), 'developers', field)
      const sre = await stack.post(COPY(pod), 'carol', { image: 'busybox:1.36', reason })
      assert.equal(sre.status, 201, JSON.stringify(sre.body))
    })
  }
  test('a setImage-only copy (no debug container) of a hostPID pod is still host access', async () => {
    assertDenied(await stack.post(COPY('h-pid'), 'alice', { setImage: { app: 'busybox:1.36' }, reason }), 'developers', 'hostNamespaces')
  })
})

describe('every field `custom` can set is judged', () => {
  const cases: Array<[string, Obj, string]> = [
    ['seccomp Unconfined', { securityContext: { seccompProfile: { type: 'Unconfined' } } }, 'securityContext.seccompProfile'],
    ['AppArmor Unconfined', { securityContext: { appArmorProfile: { type: 'Unconfined' } } }, 'securityContext.appArmorProfile'],
    ['SELinux spc_t', { securityContext: { seLinuxOptions: { type: 'spc_t' } } }, 'securityContext.seLinuxOptions'],
    ['SELinux user/role', { securityContext: { seLinuxOptions: { type: 'spc_t', user: 'system_u', role: 'system_r' } } }, 'securityContext.seLinuxOptions'],
    ['procMount Unmasked', { securityContext: { procMount: 'Unmasked' } }, 'securityContext.procMount'],
    ['unlisted capability via custom', { securityContext: { capabilities: { add: ['SYS_MODULE'] } } }, '/body/capabilities'],
    ['privileged via custom', { securityContext: { privileged: true } }, '/body/privileged'],
    ['hostPort', { ports: [{ containerPort: 22, hostPort: 2222 }] }, 'ports.hostPort'],
    ['env valueFrom secretKeyRef', { env: [{ name: 'PW', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } }] }, 'env.valueFrom'],
    ['env valueFrom configMapKeyRef', { env: [{ name: 'C', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'k' } } }] }, 'env.valueFrom'],
    ['envFrom secretRef', { envFrom: [{ secretRef: { name: 'db' } }] }, 'envFrom']
  ]
  for (const [name, custom, field] of cases) {
    test(`${name}: developer → 403 naming ${field}`, async () => {
      const before = ephemeralCount('web')
      assertDenied(await stack.post(EPH('web'), 'alice', { image: 'busybox:1.36', reason, custom }), 'developers', field)
      assert.equal(ephemeralCount('web'), before)
    })
  }
  test('a mount of the pod\'s service account token volume: developer → 403 naming volumeMounts', async () => {
    const web = stack.sim.store.get('pods', 'demo', 'web') as Obj
    const token = (web.spec.volumes as Obj[]).find(v => v.projected !== undefined)
    assert.ok(token, 'the sim adds kube-api-access')
    assertDenied(await stack.post(EPH('web'), 'alice', { image: 'busybox:1.36', reason, custom: { volumeMounts: [{ name: token.name, mountPath: '/t' }] } }), 'developers', 'volumeMounts')
  })
  test('restricted rule: allowPrivilegeEscalation true, runAsUser 0, runAsNonRoot false → 403 naming each; the hardened container passes', async () => {
    const hardened = { securityContext: { runAsNonRoot: true, runAsUser: 1000 } }
    const ok = await stack.post(EPH('web'), 'dave', { image: 'busybox:1.36', profile: 'restricted', reason, custom: hardened })
    assert.equal(ok.status, 201, JSON.stringify(ok.body))
    for (const [sc, field] of [
      [{ allowPrivilegeEscalation: true, runAsNonRoot: true, runAsUser: 1000 }, 'securityContext.allowPrivilegeEscalation'],
      [{ runAsNonRoot: true, runAsUser: 0 }, 'securityContext.runAsUser'],
      [{ runAsNonRoot: false }, 'securityContext.runAsNonRoot']
    ] as const) {
      assertDenied(await stack.post(EPH('web'), 'dave', { image: 'busybox:1.36', profile: 'restricted', reason, custom: { securityContext: sc } }), 'restricted-devs', field)
    }
  })
  test('sre (podSecurity privileged, secretEnv) may: seccomp Unconfined, procMount, secret env', async () => {
    for (const custom of [
      { securityContext: { seccompProfile: { type: 'Unconfined' } } },
      { securityContext: { procMount: 'Unmasked' } },
      { env: [{ name: 'PW', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } }] }
    ]) {
      const r = await stack.post(EPH('web'), 'carol', { image: 'busybox:1.36', reason, custom })
      assert.equal(r.status, 201, JSON.stringify(r.body))
    }
  })
})

test('the denial is one audited decision naming the rule', async () => {
  const r = await stack.post(EPH('h-pid'), 'alice', { image: 'busybox:1.36', reason })
  assert.equal(r.status, 403)
  const recs = stack.audit().filter(x => x.requestId === r.headers.get('x-request-id'))
  assert.deepEqual(recs.map(x => x.phase), ['denied'])
  assert.equal(recs[0]?.decision?.rule, 'developers')
})
