// Cases transcribed from kubectl pkg/cmd/debug/debug_test.go (custom profile tests).
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { applyCustomContainerSpec } from '../../../src/debug/kubectl/custom-marshal.ts'
import { containerPatchMeta } from '../../../src/lib/strategic-merge.ts'

// debug_test.go: TestGenerateNodeDebugPodCustomProfile / TestGenerateCopyDebugPodCustomProfile.
// `container` is what the profile produced (as kubectl's json.Marshal of the Go struct would show it).
describe('applyCustomContainerSpec (kubectl debug --custom)', () => {
  const restrictedSC = { runAsNonRoot: true, capabilities: { drop: ['ALL'] }, allowPrivilegeEscalation: false, seccompProfile: { type: 'RuntimeDefault' } }

  test('baseline profile: custom sets pull policy, stdin, caps and runAsNonRoot false; tty false is ignored', () => {
    const container = { name: 'debugger', image: 'busybox', imagePullPolicy: 'IfNotPresent', terminationMessagePolicy: 'File', resources: {} }
    const custom = { imagePullPolicy: 'Never', stdin: true, tty: false, securityContext: { capabilities: { drop: ['ALL'] }, runAsNonRoot: false } }
    assert.deepEqual(applyCustomContainerSpec(container, custom), {
      name: 'debugger',
      image: 'busybox',
      imagePullPolicy: 'Never',
      terminationMessagePolicy: 'File',
      resources: {},
      stdin: true,
      securityContext: { runAsNonRoot: false, capabilities: { drop: ['ALL'] } }
    })
  })

  test('restricted profile: custom without securityContext keeps the restricted one', () => {
    const container = { name: 'debugger', image: 'busybox', imagePullPolicy: 'IfNotPresent', terminationMessagePolicy: 'File', resources: {}, securityContext: restrictedSC }
    const out = applyCustomContainerSpec(container, { imagePullPolicy: 'Never', stdin: true, tty: false })
    assert.deepEqual(out, { ...container, imagePullPolicy: 'Never', stdin: true })
  })

  test('restricted profile (copy): runAsNonRoot false overrides, other restricted fields stay', () => {
    const container = { name: 'debugger-1', image: 'busybox', imagePullPolicy: 'IfNotPresent', terminationMessagePolicy: 'File', resources: {}, securityContext: restrictedSC }
    const out = applyCustomContainerSpec(container, { imagePullPolicy: 'Never', stdin: true, securityContext: { capabilities: { drop: ['ALL'] }, runAsNonRoot: false } })
    assert.deepEqual(out.securityContext, { ...restrictedSC, runAsNonRoot: false })
  })

  test('netadmin profile: env is added, capabilities kept', () => {
    const container = { name: 'debugger', image: 'busybox', imagePullPolicy: 'IfNotPresent', terminationMessagePolicy: 'File', resources: {}, securityContext: { capabilities: { add: ['NET_ADMIN', 'NET_RAW'] } } }
    const out = applyCustomContainerSpec(container, { env: [{ name: 'TEST_KEY', value: 'TEST_VALUE' }] })
    assert.deepEqual(out, { ...container, env: [{ name: 'TEST_KEY', value: 'TEST_VALUE' }] })
  })

  test('sysadmin profile: the /host mount becomes read-only (volumeMounts merge by mountPath)', () => {
    const container = {
      name: 'debugger',
      image: 'busybox',
      imagePullPolicy: 'IfNotPresent',
      terminationMessagePolicy: 'File',
      resources: {},
      volumeMounts: [{ name: 'host-root', mountPath: '/host' }],
      securityContext: { privileged: true }
    }
    const out = applyCustomContainerSpec(container, {
      env: [{ name: 'TEST_KEY', value: 'TEST_VALUE' }],
      volumeMounts: [{ name: 'host-root', readOnly: true, mountPath: '/host' }]
    })
    assert.deepEqual(out.volumeMounts, [{ name: 'host-root', mountPath: '/host', readOnly: true }])
    assert.deepEqual((out as Record<string, unknown>).env, [{ name: 'TEST_KEY', value: 'TEST_VALUE' }])
    assert.deepEqual(out.securityContext, { privileged: true })
  })

  test('capabilities.add is replaced (no strategy), name forced, unknown fields and stdin:false dropped', () => {
    const container = { name: 'debugger', image: 'busybox', stdin: true, securityContext: { capabilities: { add: ['SYS_PTRACE'] } } }
    const out = applyCustomContainerSpec(container, {
      name: 'other', stdin: false, targetContainerName: 'x', securityContext: { capabilities: { add: ['NET_ADMIN'] }, privileged: false }
    })
    assert.deepEqual(out, {
      name: 'debugger',
      image: 'busybox',
      stdin: true,
      resources: {},
      securityContext: { capabilities: { add: ['NET_ADMIN'] }, privileged: false }
    })
  })

  test('empty resource maps are dropped, zero ports kept as containerPort has no omitempty', () => {
    const out = applyCustomContainerSpec({ name: 'd' }, { resources: { limits: {} }, ports: [{ containerPort: 0, name: '' }] })
    assert.deepEqual(out, { name: 'd', resources: {}, ports: [{ containerPort: 0 }] })
  })

  test('containerPatchMeta keys', () => {
    assert.equal(containerPatchMeta.fields?.volumeMounts?.mergeKey, 'mountPath')
    assert.equal(containerPatchMeta.fields?.ports?.mergeKey, 'containerPort')
  })
})
