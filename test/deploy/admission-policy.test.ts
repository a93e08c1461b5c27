// The ValidatingAdmissionPolicy in deploy/validating-admission-policy.yaml,
// evaluated with a CEL interpreter the way the API server applies it
// (matchConstraints → matchConditions → lazily evaluated variables →
// validations, failurePolicy Fail on errors), against the pods and patches the
// gateway's own spec builders produce — so the policy provably lets the
// gateway's features through and stops what a compromised gateway would try.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { parse } from '@marcbachmann/cel-js'
import type { IValidatingAdmissionPolicy } from 'kubernetes-models/admissionregistration.k8s.io/v1'
import { buildEphemeralContainer, buildNodeDebugPod, buildPodCopy } from '../../src/debug/kubectl/index.ts'
import type { Pod } from '../../src/kube/types.ts'
import { parseManifests, readRepoFile, type KObject } from '../helpers/deploy.ts'

const manifests = parseManifests(readRepoFile('deploy/validating-admission-policy.yaml'))
const policy = manifests.find(o => o.kind === 'ValidatingAdmissionPolicy') as unknown as IValidatingAdmissionPolicy
const baseParams = manifests.find(o => o.kind === 'ConfigMap') as KObject & { data: Record<string, string> }

const GATEWAY_USER = 'system:serviceaccount:kdebug:kdebug-gateway'
const attribution = { sessionId: '01jdq3s7xkz9', requestedBy: 'carol', reason: 'INC-42 node disk', expiresAt: '2026-11-27T12:00:00Z' }

interface Request {
  operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT'
  namespace: string
  name?: string
  subResource?: string
  user?: string
  object?: unknown
  oldObject?: unknown
  params?: Record<string, string>
}

interface Verdict {
  /** false when matchConstraints or matchConditions exclude the request */
  applies: boolean
  allowed: boolean
  messages: string[]
}

type Compiled = (ctx: Record<string, unknown>) => unknown
const compiled = new Map<string, Compiled>()
function cel (expression: string): Compiled {
  let f = compiled.get(expression)
  if (f === undefined) {
    f = parse(expression) as Compiled
    compiled.set(expression, f)
  }
  return f
}

function matches (req: Request): boolean {
  const resource = req.subResource ? `pods/${req.subResource}` : 'pods'
  return (policy.spec?.matchConstraints?.resourceRules ?? []).some(r =>
    (r.apiGroups ?? []).includes('') && (r.resources ?? []).includes(resource) && (r.operations ?? []).includes(req.operation))
}

/** What the API server's admission would decide for the request (Deny action, failurePolicy Fail). */
function admit (req: Request): Verdict {
  if (!matches(req)) return { applies: false, allowed: true, messages: [] }
  const ctx: Record<string, unknown> = {
    request: {
      operation: req.operation,
      namespace: req.namespace,
      name: req.name ?? '',
      subResource: req.subResource ?? '',
      userInfo: { username: req.user ?? GATEWAY_USER, groups: ['system:serviceaccounts', 'system:authenticated'] }
    },
    object: req.object ?? null,
    oldObject: req.oldObject ?? null,
    params: { apiVersion: 'v1', kind: 'ConfigMap', metadata: baseParams.metadata, data: req.params ?? baseParams.data }
  }
  for (const m of policy.spec?.matchConditions ?? []) {
    if (cel(m.expression)(ctx) !== true) return { applies: false, allowed: true, messages: [] }
  }
  // The API server evaluates variables lazily, once, on first use.
  const variables: Record<string, unknown> = {}
  for (const v of policy.spec?.variables ?? []) {
    let cached: { value: unknown } | undefined
    Object.defineProperty(variables, v.name, { enumerable: true, get: () => (cached ??= { value: cel(v.expression)(ctx) }).value })
  }
  ctx.variables = variables
  const messages: string[] = []
  for (const v of policy.spec?.validations ?? []) {
    let ok: unknown
    try {
      ok = cel(v.expression)(ctx)
    } catch (err) {
      messages.push(`error: ${(err as Error).message.split('\n')[0]}`)
      continue
    }
    if (ok === true) continue
    messages.push(v.messageExpression ? String(cel(v.messageExpression)(ctx)) : (v.message ?? v.expression))
  }
  return { applies: true, allowed: messages.length === 0, messages }
}

function appPod (namespace: string, name = 'web'): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { app: name }, uid: 'u-1' },
    spec: { containers: [{ name: 'app', image: 'registry.example.com/shop/web:1.2.3' }], serviceAccountName: 'web' }
  }
}

function nodePod (namespace: string): Pod {
  return buildNodeDebugPod('node-1', { image: 'docker.io/library/busybox:1.37', profile: 'sysadmin', namespace }, { attribution }).pod
}

function copyOf (original: Pod): Pod {
  const { pod } = buildPodCopy(original, { image: 'docker.io/library/busybox:1.37', container: 'debugger' }, { attribution })
  return { ...pod, metadata: { ...pod.metadata, namespace: original.metadata.namespace } }
}

/** The pod before and after PATCH pods/ephemeralcontainers adds `container`. */
function withEphemeral (before: Pod, container: unknown): { oldObject: Pod, object: Pod } {
  const object = structuredClone(before)
  object.spec.ephemeralContainers = [...(before.spec.ephemeralContainers ?? []), container as NonNullable<Pod['spec']['ephemeralContainers']>[number]]
  return { oldObject: before, object }
}

describe('admission policy: what the gateway does is allowed', () => {
  test('a node debug pod (sysadmin: host namespaces, hostPath /, privileged) in the node-debug namespace', () => {
    const pod = nodePod('kdebug')
    assert.equal(pod.spec.hostPID, true, 'the fixture really is a host-level pod')
    assert.deepEqual(admit({ operation: 'CREATE', namespace: 'kdebug', name: pod.metadata.name, object: pod }), { applies: true, allowed: true, messages: [] })
  })

  test('a pod copy in the original pod\'s namespace', () => {
    const pod = copyOf(appPod('shop'))
    assert.deepEqual(admit({ operation: 'CREATE', namespace: 'shop', name: pod.metadata.name, object: pod }), { applies: true, allowed: true, messages: [] })
  })

  test('an attributed ephemeral container, next to earlier ones that carry no attribution', () => {
    const target = appPod('shop')
    target.spec.ephemeralContainers = [{ name: 'debugger-kubectl', image: 'busybox' }]
    const { container } = buildEphemeralContainer(target, { image: 'docker.io/nicolaka/netshoot:v0.13', profile: 'netadmin' }, { attribution })
    const v = admit({ operation: 'UPDATE', namespace: 'shop', name: 'web', subResource: 'ephemeralcontainers', ...withEphemeral(target, container) })
    assert.deepEqual(v, { applies: true, allowed: true, messages: [] })
  })

  test('deleting its own pods (session delete, TTL reaper)', () => {
    for (const pod of [nodePod('kdebug'), copyOf(appPod('shop'))]) {
      const ns = pod.metadata.namespace ?? 'kdebug'
      assert.deepEqual(admit({ operation: 'DELETE', namespace: ns, name: pod.metadata.name, oldObject: pod }), { applies: true, allowed: true, messages: [] })
    }
  })

  test('attach, logs and other users\' requests are outside the policy', () => {
    assert.equal(admit({ operation: 'CONNECT', namespace: 'shop', name: 'web', subResource: 'attach' }).applies, false)
    const v = admit({ operation: 'CREATE', namespace: 'shop', name: 'x', user: 'system:serviceaccount:ci:deployer', object: appPod('shop', 'x') })
    assert.deepEqual(v, { applies: false, allowed: true, messages: [] })
  })
})

describe('admission policy: what a compromised gateway might try is denied', () => {
  test('a pod without the gateway\'s labels', () => {
    const v = admit({ operation: 'CREATE', namespace: 'shop', name: 'miner', object: appPod('shop', 'miner') })
    assert.equal(v.allowed, false)
    assert.match(v.messages.join(' '), /managed-by=kdebug-gateway/)
  })

  test('a pod with managed-by but no session, or an unknown kind', () => {
    const noSession = copyOf(appPod('shop'))
    delete noSession.metadata.labels?.['kdebug.io/session']
    assert.equal(admit({ operation: 'CREATE', namespace: 'shop', name: 'a', object: noSession }).allowed, false)
    const odd = copyOf(appPod('shop'))
    odd.metadata.labels = { ...odd.metadata.labels, 'kdebug.io/kind': 'daemon' }
    assert.equal(admit({ operation: 'CREATE', namespace: 'shop', name: 'a', object: odd }).allowed, false)
  })

  test('a node-level pod outside the node-debug namespaces, even fully labelled', () => {
    const v = admit({ operation: 'CREATE', namespace: 'shop', name: 'n', object: nodePod('shop') })
    assert.equal(v.allowed, false)
    assert.deepEqual(v.messages, ['the kdebug gateway may create pods with host namespaces or hostPath volumes only in kdebug, not in shop'])
    const hostPathOnly = copyOf(appPod('shop'))
    hostPathOnly.spec.volumes = [{ name: 'root', hostPath: { path: '/' } }]
    assert.equal(admit({ operation: 'CREATE', namespace: 'shop', name: 'h', object: hostPathOnly }).allowed, false)
  })

  test('any pod in a protected namespace (copies keep the original\'s service account)', () => {
    const v = admit({ operation: 'CREATE', namespace: 'kube-system', name: 'c', object: copyOf(appPod('kube-system')) })
    assert.equal(v.allowed, false)
    assert.deepEqual(v.messages, ['the kdebug gateway may not create pods in namespace kube-system'])
  })

  test('an ephemeral container without attribution', () => {
    const target = appPod('shop')
    const { container } = buildEphemeralContainer(target, { image: 'docker.io/library/busybox:1.37' })
    const v = admit({ operation: 'UPDATE', namespace: 'shop', name: 'web', subResource: 'ephemeralcontainers', ...withEphemeral(target, container) })
    assert.equal(v.allowed, false)
    const empty = { ...container, env: [{ name: 'KDEBUG_SESSION', value: '' }] }
    assert.equal(admit({ operation: 'UPDATE', namespace: 'shop', name: 'web', subResource: 'ephemeralcontainers', ...withEphemeral(target, empty) }).allowed, false)
  })

  test('deleting a pod that is not its own, unless allowDeleteUnmanaged (copy replace) is on', () => {
    const app = appPod('shop')
    const v = admit({ operation: 'DELETE', namespace: 'shop', name: 'web', oldObject: app })
    assert.equal(v.allowed, false)
    assert.deepEqual(v.messages, ['the kdebug gateway may only delete its own debug pods, not shop/web'])
    assert.equal(admit({ operation: 'DELETE', namespace: 'shop', name: 'web', oldObject: app, params: { ...baseParams.data, allowDeleteUnmanaged: 'true' } }).allowed, true)
  })
})

describe('admission policy parameters', () => {
  test('the base allows every namespace except the protected ones', () => {
    assert.equal(baseParams.data.podNamespaces, '*')
    for (const ns of ['kube-system', 'kube-public', 'kube-node-lease']) {
      assert.equal(admit({ operation: 'CREATE', namespace: ns, name: 'c', object: copyOf(appPod(ns)) }).allowed, false, ns)
    }
  })

  test('a namespace list (as in the example overlay) confines copies; node pods stay in the node-debug namespaces', () => {
    const params = { ...baseParams.data, podNamespaces: 'shop, payments', nodeDebugNamespaces: 'kdebug-nodes' }
    assert.equal(admit({ operation: 'CREATE', namespace: 'payments', name: 'c', object: copyOf(appPod('payments')), params }).allowed, true)
    assert.equal(admit({ operation: 'CREATE', namespace: 'search', name: 'c', object: copyOf(appPod('search')), params }).allowed, false)
    assert.equal(admit({ operation: 'CREATE', namespace: 'kdebug-nodes', name: 'n', object: nodePod('kdebug-nodes'), params }).allowed, true)
    assert.equal(admit({ operation: 'CREATE', namespace: 'kdebug', name: 'n', object: nodePod('kdebug'), params }).allowed, false)
  })

  test('a missing parameter key fails closed', () => {
    const { podNamespaces: _drop, ...rest } = baseParams.data
    const v = admit({ operation: 'CREATE', namespace: 'shop', name: 'c', object: copyOf(appPod('shop')), params: rest })
    assert.equal(v.allowed, false)
    assert.match(v.messages.join(' '), /^error: /)
  })

  test('the example overlay\'s parameters parse as the policy expects', () => {
    const patch = parseManifests(readRepoFile('deploy-overlays/example/admission-params-patch.yaml'))[0] as KObject & { data: Record<string, string> }
    const params = { ...baseParams.data, ...patch.data }
    const node = nodePod('kdebug-nodes')
    assert.equal(admit({ operation: 'CREATE', namespace: 'kdebug-nodes', name: node.metadata.name, object: node, params }).allowed, true)
    assert.equal(admit({ operation: 'CREATE', namespace: 'shop', name: 'c', object: copyOf(appPod('shop')), params }).allowed, true)
  })
})
