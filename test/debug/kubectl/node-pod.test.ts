// TestGenerateNodeDebugPod and TestGenerateNodeDebugPodCustomProfile from kubectl's debug_test.go
// (kubectl's opts have Interactive false, so stdin: false), then our additions.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { buildNodeDebugPod } from '../../../src/debug/kubectl/node-pod.ts'
import type { NodePodOptions } from '../../../src/debug/kubectl/options.ts'
import { SpecError } from '../../../src/debug/kubectl/spec-error.ts'
import type { Container, Pod } from '../../../src/kube/types.ts'
import { POD, suffixes } from '../../helpers/kubectl-fixtures.ts'

const node = { metadata: { name: 'node-XXX' } }
const base = { image: 'busybox', imagePullPolicy: 'IfNotPresent', stdin: false } as const
const made = { image: 'busybox', resources: {}, terminationMessagePolicy: 'File', imagePullPolicy: 'IfNotPresent' } as const
const hostMount = { volumeMounts: [{ mountPath: '/host', name: 'host-root' }] }
const hostRoot = { volumes: [{ name: 'host-root', hostPath: { path: '/' } }] }
const hostNs = { hostNetwork: true, hostPID: true, hostIPC: true }
const restrictedSc = { runAsNonRoot: true, capabilities: { drop: ['ALL'] }, allowPrivilegeEscalation: false, seccompProfile: { type: 'RuntimeDefault' } }

function expected (container: Container, spec: Partial<Pod['spec']> = {}): Pod {
  return {
    ...POD,
    // kubectl labels its node pods managed-by: kubectl-debug; ours say kdebug-gateway
    metadata: { name: 'node-debugger-node-XXX-bbbbb', labels: { 'app.kubernetes.io/managed-by': 'kdebug-gateway' } },
    spec: { containers: [container], nodeName: 'node-XXX', restartPolicy: 'Never', tolerations: [{ operator: 'Exists' }], ...spec }
  }
}

function build (opts: NodePodOptions): Pod {
  return buildNodeDebugPod(node, opts, { rand: suffixes('bbbbb') }).pod
}

describe('kubectl TestGenerateNodeDebugPod', () => {
  test('minimum options', () => {
    assert.deepEqual(build({ ...base, profile: 'legacy' }), expected({ name: 'debugger', ...made, ...hostMount }, { ...hostNs, ...hostRoot }))
  })
  test('debug args as container command', () => {
    assert.deepEqual(build({ ...base, container: 'custom-debugger', command: ['/bin/echo', 'one', 'two', 'three'], profile: 'legacy' }),
      expected({ name: 'custom-debugger', ...made, command: ['/bin/echo', 'one', 'two', 'three'], ...hostMount }, { ...hostNs, ...hostRoot }))
  })
  test('debug args as container args', () => {
    assert.deepEqual(build({ ...base, container: 'custom-debugger', args: ['echo', 'one', 'two', 'three'], profile: 'legacy' }),
      expected({ name: 'custom-debugger', ...made, args: ['echo', 'one', 'two', 'three'], ...hostMount }, { ...hostNs, ...hostRoot }))
  })
  test('general profile', () => {
    assert.deepEqual(build({ ...base, profile: 'general' }), expected({ name: 'debugger', ...made, ...hostMount }, { ...hostNs, ...hostRoot }))
  })
  test('baseline profile', () => {
    assert.deepEqual(build({ ...base, profile: 'baseline' }), expected({ name: 'debugger', ...made }))
  })
  test('restricted profile', () => {
    assert.deepEqual(build({ ...base, profile: 'restricted' }), expected({ name: 'debugger', ...made, securityContext: restrictedSc }))
  })
  test('netadmin profile', () => {
    assert.deepEqual(build({ ...base, profile: 'netadmin' }),
      expected({ name: 'debugger', ...made, securityContext: { capabilities: { add: ['NET_ADMIN', 'NET_RAW'] } } }, hostNs))
  })
  test('sysadmin profile', () => {
    assert.deepEqual(build({ ...base, profile: 'sysadmin' }),
      expected({ name: 'debugger', ...made, securityContext: { privileged: true }, ...hostMount }, { ...hostNs, ...hostRoot }))
  })
})

describe('kubectl TestGenerateNodeDebugPodCustomProfile', () => {
  const custom = { imagePullPolicy: 'Never', stdin: true, tty: false }
  test('baseline profile', () => {
    assert.deepEqual(build({ ...base, profile: 'baseline', custom: { ...custom, securityContext: { capabilities: { drop: ['ALL'] }, runAsNonRoot: false } } }),
      expected({ name: 'debugger', ...made, imagePullPolicy: 'Never', stdin: true, securityContext: { runAsNonRoot: false, capabilities: { drop: ['ALL'] } } }))
  })
  test('restricted profile', () => {
    assert.deepEqual(build({ ...base, profile: 'restricted', custom }),
      expected({ name: 'debugger', ...made, imagePullPolicy: 'Never', stdin: true, securityContext: restrictedSc }))
  })
  test('netadmin profile', () => {
    assert.deepEqual(build({ ...base, profile: 'netadmin', custom: { env: [{ name: 'TEST_KEY', value: 'TEST_VALUE' }] } }),
      expected({ name: 'debugger', ...made, env: [{ name: 'TEST_KEY', value: 'TEST_VALUE' }], securityContext: { capabilities: { add: ['NET_ADMIN', 'NET_RAW'] } } }, hostNs))
  })
  test('sysadmin profile: a custom mount with the same mountPath replaces the profile\'s (read-only /host)', () => {
    assert.deepEqual(build({
      ...base,
      profile: 'sysadmin',
      custom: { env: [{ name: 'TEST_KEY', value: 'TEST_VALUE' }], volumeMounts: [{ name: 'host-root', readOnly: true, mountPath: '/host' }] }
    }), expected({
      name: 'debugger',
      ...made,
      env: [{ name: 'TEST_KEY', value: 'TEST_VALUE' }],
      volumeMounts: [{ name: 'host-root', readOnly: true, mountPath: '/host' }],
      securityContext: { privileged: true }
    }, { ...hostNs, ...hostRoot }))
  })
})

describe('ours', () => {
  test('defaults: general, stdin and tty, namespace when given', () => {
    const result = buildNodeDebugPod('n1', { image: 'busybox', namespace: 'kdebug' }, { rand: suffixes('ccccc') })
    assert.equal(result.container, 'debugger')
    assert.deepEqual(result.pod.metadata, { name: 'node-debugger-n1-ccccc', namespace: 'kdebug', labels: { 'app.kubernetes.io/managed-by': 'kdebug-gateway' } })
    assert.deepEqual(result.pod.spec.containers[0], {
      name: 'debugger', image: 'busybox', resources: {}, terminationMessagePolicy: 'File', stdin: true, tty: true, volumeMounts: [{ mountPath: '/host', name: 'host-root' }]
    })
    assert.deepEqual(result.warnings, [])
  })

  test('attribution labels and annotations', () => {
    const { pod } = buildNodeDebugPod(node, { image: 'busybox', profile: 'baseline' }, {
      rand: suffixes('bbbbb'), attribution: { sessionId: 's-9', requestedBy: 'carol', reason: 'disk full', expiresAt: '2026-11-27T12:00:00Z' }
    })
    assert.deepEqual(pod.metadata.labels, { 'app.kubernetes.io/managed-by': 'kdebug-gateway', 'kdebug.io/session': 's-9', 'kdebug.io/kind': 'node' })
    assert.deepEqual(pod.metadata.annotations, {
      'kdebug.io/requested-by': 'carol', 'kdebug.io/reason': 'disk full', 'kdebug.io/expires-at': '2026-11-27T12:00:00Z', 'kdebug.io/container': 'debugger'
    })
  })

  test('a session id that is not a label value is a programming error', () => {
    assert.throws(() => buildNodeDebugPod(node, { image: 'busybox' }, { attribution: { sessionId: 'has space', requestedBy: 'x' } }), /not a valid label value/)
  })

  test('additions after custom; legacy warning', () => {
    const result = buildNodeDebugPod(node, { image: 'busybox', profile: 'legacy', custom: { securityContext: { runAsUser: 1000 } }, capabilities: { add: ['SYS_ADMIN'] } })
    assert.deepEqual(result.pod.spec.containers[0]?.securityContext, { runAsUser: 1000, capabilities: { add: ['SYS_ADMIN'] } })
    assert.deepEqual(result.warnings.map(w => w.code), ['LEGACY_PROFILE', 'NON_ROOT_CONTAINER_CAPABILITIES'])
  })

  test('image is required', () => {
    assert.throws(() => buildNodeDebugPod(node, { image: '' }), (err: unknown) => err instanceof SpecError && err.field === 'image')
  })
})
