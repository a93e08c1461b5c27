// `custom` is a typed corev1.Container (the fields kubectl debug --custom
// decodes): a wrong type anywhere is a 400 naming the field, never a 500
// from code that assumed the type, and deep nesting is bounded.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startDebugStack, type DebugStack } from '../helpers/debug-stack.ts'
import { CUSTOM_FORBIDDEN_MESSAGE, MAX_CUSTOM_DEPTH, normalizeCustom } from '../../src/debug/kubectl/custom.ts'
import { SpecError } from '../../src/debug/kubectl/spec-error.ts'
import { MAX_BODY_DEPTH } from '../../src/plugins/framework-errors.ts'

let stack: DebugStack
before(async () => { stack = await startDebugStack() })
after(async () => { await stack.close() })

const reason = 'custom schema'
const EPH = '/v1/namespaces/demo/pods/web/ephemeral-containers'
const COPY = '/v1/namespaces/demo/pods/web/copies'
const NODE = '/v1/nodes/node-1/debug-pods'

function nest (depth: number): unknown {
  let v: unknown = 1
  for (let i = 0; i < depth; i++) v = { a: v }
  return v
}

// [custom, field the 400 must name]
export const HOSTILE_CUSTOM: Array<[unknown, string]> = [
  [{ securityContext: { capabilities: { add: [{}] } } }, '/body/custom/securityContext/capabilities/add/0'],
  [{ securityContext: { capabilities: { add: [['SYS_ADMIN', 'NET_ADMIN']] } } }, '/body/custom/securityContext/capabilities/add/0'],
  [{ securityContext: { capabilities: 'ALL' } }, '/body/custom/securityContext/capabilities'],
  [{ securityContext: { capabilities: { add: { 0: 'SYS_ADMIN' } } } }, '/body/custom/securityContext/capabilities/add'],
  [{ securityContext: { runAsUser: 'root' } }, '/body/custom/securityContext/runAsUser'],
  [{ securityContext: { runAsUser: 1.5 } }, '/body/custom/securityContext/runAsUser'],
  [{ securityContext: { privileged: {} } }, '/body/custom/securityContext/privileged'],
  [{ securityContext: { seccompProfile: { type: 'Whatever' } } }, '/body/custom/securityContext/seccompProfile/type'],
  [{ securityContext: { seccompProfile: 'Unconfined' } }, '/body/custom/securityContext/seccompProfile'],
  [{ securityContext: { procMount: 5 } }, '/body/custom/securityContext/procMount'],
  [{ securityContext: { seLinuxOptions: { user: {} } } }, '/body/custom/securityContext/seLinuxOptions/user'],
  [{ securityContext: { hostPID: true } }, '/body/custom/securityContext/hostPID'],
  [{ ports: 'x' }, '/body/custom/ports'],
  [{ ports: [{ containerPort: 'http' }] }, '/body/custom/ports/0/containerPort'],
  [{ ports: [{ containerPort: 80, hostPort: 70000 }] }, '/body/custom/ports/0/hostPort'],
  [{ ports: [{ containerPort: 80, protocol: 'ICMP' }] }, '/body/custom/ports/0/protocol'],
  [{ ports: [{}] }, '/body/custom/ports/0/containerPort'],
  [{ env: [{ name: 'A', valueFrom: 3 }] }, '/body/custom/env/0/valueFrom'],
  [{ env: [{ name: 'A', valueFrom: { secretKeyRef: 5 } }] }, '/body/custom/env/0/valueFrom/secretKeyRef'],
  [{ env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 's' } } }] }, '/body/custom/env/0/valueFrom/secretKeyRef/key'],
  [{ env: [{ name: 'A', valueFrom: { nope: {} } }] }, '/body/custom/env/0/valueFrom/nope'],
  [{ env: [{ value: 'x' }] }, '/body/custom/env/0/name'],
  [{ env: [{ name: {} }] }, '/body/custom/env/0/name'],
  [{ env: { A: '1' } }, '/body/custom/env'],
  [{ envFrom: [{ secretRef: 'db' }] }, '/body/custom/envFrom/0/secretRef'],
  [{ volumeMounts: [{ name: 'x' }] }, '/body/custom/volumeMounts/0/mountPath'],
  [{ volumeMounts: [{ name: 'x', mountPath: '/x', mountPropagation: 'Sideways' }] }, '/body/custom/volumeMounts/0/mountPropagation'],
  [{ resources: { limits: { cpu: {} } } }, '/body/custom/resources/limits/cpu'],
  [{ resources: { limits: { cpu: 'lots' } } }, '/body/custom/resources/limits/cpu'],
  [{ resources: { limits: [] } }, '/body/custom/resources/limits'],
  [{ livenessProbe: { httpGet: { port: {} } } }, '/body/custom/livenessProbe/httpGet/port'],
  [{ livenessProbe: { exec: { command: [1, {}] } } }, '/body/custom/livenessProbe/exec/command/1'],
  [{ livenessProbe: { periodSeconds: 'often' } }, '/body/custom/livenessProbe/periodSeconds'],
  [{ readinessProbe: { tcpSocket: {} } }, '/body/custom/readinessProbe/tcpSocket/port'],
  [{ stdin: 'yes' }, '/body/custom/stdin'],
  [{ tty: [] }, '/body/custom/tty'],
  [{ args: { 0: 'sh' } }, '/body/custom/args'],
  [{ args: [{}] }, '/body/custom/args/0'],
  [{ workingDir: ['/', '/tmp'] }, '/body/custom/workingDir'],
  [{ imagePullPolicy: 'Sometimes' }, '/body/custom/imagePullPolicy'],
  [{ restartPolicy: 'Never' }, '/body/custom/restartPolicy'],
  [{ terminationMessagePolicy: 1 }, '/body/custom/terminationMessagePolicy'],
  [{ imagePulPolicy: 'Always' }, '/body/custom/imagePulPolicy'],
  [{ targetContainerName: 'app' }, '/body/custom/targetContainerName'],
  [{ securityContext: null }, '/body/custom/securityContext'],
  [{ securityContext: nest(20) }, '/body/custom/securityContext/a'],
  [{ securityContext: nest(200) }, '/body'],
  [nest(1000), '/body'],
  [[], '/body/custom'],
  ['custom', '/body/custom'],
  [7, '/body/custom']
]

test(`hostile custom values → 400 naming the field on all three creates (${HOSTILE_CUSTOM.length} × 3), nothing created`, async () => {
  const pods = stack.sim.store.list('pods').length
  const ephemeral = (stack.sim.store.get('pods', 'demo', 'web') as any).spec.ephemeralContainers?.length ?? 0
  for (const [custom, field] of HOSTILE_CUSTOM) {
    for (const path of [EPH, COPY, NODE]) {
      for (const as of ['alice', 'carol']) {
        const r = await stack.post(path, as, { image: 'busybox:1.36', reason, custom })
        const what = `${as} ${path} ${JSON.stringify(custom).slice(0, 120)}`
        if (as === 'alice' && path === NODE && r.status === 403) continue // developers may not debug nodes: refused before the body matters is fine too
        assert.equal(r.status, 400, `${what}: ${r.status} ${JSON.stringify(r.body)}`)
        assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/)
        assert.ok(r.body.errors.some((e: { field: string }) => e.field === field || e.field.startsWith(field + '/')), `${what}: wants ${field}, got ${JSON.stringify(r.body.errors)}`)
      }
    }
  }
  assert.equal(stack.sim.store.list('pods').length, pods)
  assert.equal((stack.sim.store.get('pods', 'demo', 'web') as any).spec.ephemeralContainers?.length ?? 0, ephemeral)
})

test('a body nested 10,000 levels deep (in custom or anywhere) is a 400, not a stack overflow', async () => {
  for (const [open, close] of [['{"a":', '}'], ['[', ']']] as const) {
    const deep = open.repeat(10_000) + '1' + close.repeat(10_000)
    for (const body of [`{"image":"busybox:1.36","reason":"x","custom":{"securityContext":${deep}}}`, deep]) {
      const res = await stack.request(EPH, { as: 'carol', method: 'POST', body })
      const text = await res.text()
      assert.equal(res.status, 400, text.slice(0, 300))
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/)
      assert.ok(res.headers.get('x-request-id'))
    }
  }
})

test('kubectl\'s forbidden fields keep kubectl\'s message', async () => {
  for (const custom of [{ image: 'evil:1' }, { name: 'x' }, { command: ['sh'] }, { lifecycle: { postStart: { exec: { command: ['x'] } } } }, { volumeDevices: [{ name: 'd', devicePath: '/dev/x' }] }]) {
    const r = await stack.post(EPH, 'carol', { image: 'busybox:1.36', reason, custom })
    assert.equal(r.status, 400, JSON.stringify(custom))
    assert.equal(r.body.errors[0].message, CUSTOM_FORBIDDEN_MESSAGE)
  }
})

test('a full, valid custom passes the schema (dry run)', async () => {
  const custom = {
    args: ['-c', 'sleep 1'],
    workingDir: '/tmp',
    env: [{ name: 'A', value: '1' }, { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
    envFrom: [{ configMapRef: { name: 'cfg', optional: true }, prefix: 'C_' }],
    volumeMounts: [],
    resources: {},
    readinessProbe: { httpGet: { port: 'http', path: '/healthz', httpHeaders: [{ name: 'X', value: 'y' }] }, periodSeconds: 5 },
    securityContext: { runAsNonRoot: true, runAsUser: 1000, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } },
    imagePullPolicy: 'IfNotPresent',
    terminationMessagePolicy: 'File',
    stdin: true
  }
  const r = await stack.post(`${COPY}?dryRun=true`, 'carol', { image: 'busybox:1.36', reason, custom })
  assert.equal(r.status, 200, JSON.stringify(r.body))
})

test('normalizeCustom checks Kubernetes types and depth for every caller, not just HTTP', () => {
  const fails = (custom: unknown, field: string, message: RegExp): void => {
    assert.throws(() => normalizeCustom(custom), (err: unknown) => err instanceof SpecError && err.field === field && message.test(err.message), `→ ${field}`)
  }
  fails({ securityContext: { capabilities: { add: [1] } } }, 'custom.securityContext.capabilities.add[0]', /string/i)
  fails({ ports: [{ containerPort: 80, hostPort: 'x' }] }, 'custom.ports[0].hostPort', /integer/i)
  fails({ env: [{ name: 'A', valueFrom: { secretKeyRef: 5 } }] }, 'custom.env[0].valueFrom.secretKeyRef', /object/i)
  fails(nest(MAX_CUSTOM_DEPTH + 1), 'custom', /nested/)
  fails({ securityContext: nest(100_000) }, 'custom', /nested/)
  assert.ok(MAX_CUSTOM_DEPTH < MAX_BODY_DEPTH)
  // nulls still drop like Go's decoder for programmatic callers
  assert.deepEqual(normalizeCustom({ securityContext: { runAsUser: null, privileged: true } }), { securityContext: { privileged: true } })
})
