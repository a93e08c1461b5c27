// TestGeneratePodCopyWithDebugContainer and TestGenerateCopyDebugPodCustomProfile from kubectl's
// debug_test.go, then our additions. kubectl's opts have Interactive/TTY false unless stated, so
// stdin: false; its shareProcessedChanged=false is shareProcesses left undefined.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { buildPodCopy, NO_TRAFFIC_READINESS_GATE } from '../../../src/debug/kubectl/copy.ts'
import type { CopyOptions } from '../../../src/debug/kubectl/options.ts'
import { SpecError } from '../../../src/debug/kubectl/spec-error.ts'
import type { Pod } from '../../../src/kube/types.ts'
import { pod, POD, suffixes } from '../../helpers/kubectl-fixtures.ts'

const base = { name: 'debugger', container: 'debugger', image: 'busybox', imagePullPolicy: 'IfNotPresent', stdin: false, profile: 'legacy' } as const
const added = { resources: {}, terminationMessagePolicy: 'File' } as const

function copy (opts: CopyOptions, havePod: Pod): Pod {
  return buildPodCopy(havePod, opts, { rand: suffixes('bbbbb', 'ccccc') }).pod
}

function want (metadata: Pod['metadata'], spec: Partial<Pod['spec']>): Pod {
  return { ...POD, ...pod(metadata, spec) }
}

describe('kubectl TestGeneratePodCopyWithDebugContainer', () => {
  const target = (spec: Partial<Pod['spec']>, metadata: Pod['metadata'] = { name: 'target' }): Pod => pod(metadata, spec)
  const cases: Array<{ name: string, opts: CopyOptions, have: Pod, want: Pod }> = [
    {
      name: 'basic',
      opts: base,
      have: target({ containers: [{ name: 'debugger' }], nodeName: 'node-1' }),
      want: want({ name: 'debugger' }, { containers: [{ name: 'debugger', image: 'busybox', imagePullPolicy: 'IfNotPresent' }] })
    },
    {
      name: 'same node',
      opts: { ...base, sameNode: true },
      have: target({ containers: [{ name: 'debugger' }], nodeName: 'node-1' }, { name: 'target', labels: { app: 'business' } }),
      want: want({ name: 'debugger' }, { containers: [{ name: 'debugger', image: 'busybox', imagePullPolicy: 'IfNotPresent' }], nodeName: 'node-1' })
    },
    {
      name: 'metadata stripping',
      opts: base,
      have: target({ containers: [{ name: 'debugger' }] }, {
        name: 'target', labels: { app: 'business' }, annotations: { test: 'test' }, resourceVersion: '1', creationTimestamp: '2026-11-27T10:00:00Z', uid: 'u-1', ownerReferences: [{ kind: 'ReplicaSet' }]
      }),
      want: want({ name: 'debugger', annotations: { test: 'test' } }, { containers: [{ name: 'debugger', image: 'busybox', imagePullPolicy: 'IfNotPresent' }] })
    },
    {
      name: 'add a debug container',
      opts: base,
      have: target({ containers: [{ name: 'business' }] }),
      want: want({ name: 'debugger' }, { containers: [{ name: 'business' }, { name: 'debugger', image: 'busybox', imagePullPolicy: 'IfNotPresent', ...added }] })
    },
    {
      name: 'customize envs',
      opts: { ...base, env: [{ name: 'TEST', value: 'test' }] },
      have: target({ containers: [{ name: 'business' }] }),
      want: want({ name: 'debugger' }, {
        containers: [{ name: 'business' }, { name: 'debugger', image: 'busybox', imagePullPolicy: 'IfNotPresent', ...added, env: [{ name: 'TEST', value: 'test' }] }]
      })
    },
    {
      name: 'debug args as container command',
      opts: { ...base, command: ['/bin/echo', 'one', 'two', 'three'] },
      have: target({ containers: [{ name: 'business' }] }),
      want: want({ name: 'debugger' }, {
        containers: [{ name: 'business' }, { name: 'debugger', image: 'busybox', command: ['/bin/echo', 'one', 'two', 'three'], imagePullPolicy: 'IfNotPresent', ...added }]
      })
    },
    {
      name: 'debug args as container args',
      opts: { ...base, args: ['one', 'two', 'three'] },
      have: target({ containers: [{ name: 'business' }] }),
      want: want({ name: 'debugger' }, {
        containers: [{ name: 'business' }, { name: 'debugger', image: 'busybox', args: ['one', 'two', 'three'], imagePullPolicy: 'IfNotPresent', ...added }]
      })
    },
    {
      name: 'modify existing command to debug args',
      opts: { name: 'debugger', container: 'debugger', command: ['sleep', '1d'], imagePullPolicy: 'IfNotPresent', stdin: false, profile: 'legacy' },
      have: target({ containers: [{ name: 'debugger', command: ['echo'], image: 'app', args: ['one', 'two', 'three'], terminationMessagePolicy: 'File' }] }),
      want: want({ name: 'debugger' }, { containers: [{ name: 'debugger', image: 'app', command: ['sleep', '1d'], imagePullPolicy: 'IfNotPresent', terminationMessagePolicy: 'File' }] })
    },
    {
      name: 'random name',
      opts: { ...base, container: undefined },
      have: target({ containers: [{ name: 'business' }] }),
      want: want({ name: 'debugger' }, { containers: [{ name: 'business' }, { name: 'debugger-bbbbb', image: 'busybox', imagePullPolicy: 'IfNotPresent', ...added }] })
    },
    {
      name: 'random name collision',
      opts: { ...base, container: undefined },
      have: target({ containers: [{ name: 'debugger-bbbbb' }] }),
      want: want({ name: 'debugger' }, { containers: [{ name: 'debugger-bbbbb' }, { name: 'debugger-ccccc', image: 'busybox', imagePullPolicy: 'IfNotPresent', ...added }] })
    },
    {
      name: 'pod with probes',
      opts: { ...base, keep: { liveness: true, readiness: true, startup: true } },
      have: target({ containers: [{ name: 'business', livenessProbe: {}, readinessProbe: {}, startupProbe: {} }] }),
      want: want({ name: 'debugger' }, {
        containers: [{ name: 'business', livenessProbe: {}, readinessProbe: {}, startupProbe: {} }, { name: 'debugger', image: 'busybox', imagePullPolicy: 'IfNotPresent', ...added }]
      })
    },
    {
      name: 'pod with init containers',
      opts: { ...base, container: undefined, keep: { initContainers: true } },
      have: target({ initContainers: [{ name: 'init-container-1' }, { name: 'init-container-2' }], containers: [{ name: 'debugger-bbbbb' }] }),
      want: want({ name: 'debugger' }, {
        initContainers: [{ name: 'init-container-1' }, { name: 'init-container-2' }],
        containers: [{ name: 'debugger-bbbbb' }, { name: 'debugger-ccccc', image: 'busybox', imagePullPolicy: 'IfNotPresent', ...added }]
      })
    },
    {
      name: 'pod with ephemeral containers',
      opts: { ...base, container: undefined },
      have: target({ containers: [{ name: 'debugger-bbbbb' }], ephemeralContainers: [{ name: 'ephemeral-container-1' }, { name: 'ephemeral-container-2' }] }),
      want: want({ name: 'debugger' }, { containers: [{ name: 'debugger-bbbbb' }, { name: 'debugger-ccccc', image: 'busybox', imagePullPolicy: 'IfNotPresent', ...added }] })
    },
    {
      name: 'shared process namespace',
      opts: { ...base, shareProcesses: true },
      have: target({ containers: [{ name: 'debugger', imagePullPolicy: 'Always', terminationMessagePolicy: 'File' }], nodeName: 'node-1' }),
      want: want({ name: 'debugger' }, {
        containers: [{ name: 'debugger', image: 'busybox', imagePullPolicy: 'IfNotPresent', terminationMessagePolicy: 'File' }],
        shareProcessNamespace: true
      })
    },
    {
      name: 'Change image for a named container',
      opts: { name: 'myapp-copy', container: 'app', image: 'busybox', stdin: false, profile: 'legacy' },
      have: pod({ name: 'myapp' }, { containers: [{ name: 'app', image: 'appimage' }, { name: 'sidecar', image: 'sidecarimage' }] }),
      want: want({ name: 'myapp-copy' }, { containers: [{ name: 'app', image: 'busybox' }, { name: 'sidecar', image: 'sidecarimage' }] })
    },
    {
      name: 'Change image for a named container with set-image',
      opts: { name: 'myapp-copy', container: 'app', setImage: { app: 'busybox' }, stdin: false, profile: 'legacy' },
      have: pod({ name: 'myapp' }, { containers: [{ name: 'app', image: 'appimage' }, { name: 'sidecar', image: 'sidecarimage' }] }),
      want: want({ name: 'myapp-copy' }, { containers: [{ name: 'app', image: 'busybox' }, { name: 'sidecar', image: 'sidecarimage' }] })
    },
    {
      name: 'Change image for all containers with set-image',
      opts: { name: 'myapp-copy', setImage: { '*': 'busybox' }, stdin: false, profile: 'legacy' },
      have: pod({ name: 'myapp' }, { containers: [{ name: 'app', image: 'appimage' }, { name: 'sidecar', image: 'sidecarimage' }] }),
      want: want({ name: 'myapp-copy' }, { containers: [{ name: 'app', image: 'busybox' }, { name: 'sidecar', image: 'busybox' }] })
    },
    {
      name: 'Change image for multiple containers with set-image',
      opts: { name: 'myapp-copy', setImage: { '*': 'busybox', app: 'app-debugger' }, stdin: false, profile: 'legacy' },
      have: pod({ name: 'myapp' }, { containers: [{ name: 'app', image: 'appimage' }, { name: 'sidecar', image: 'sidecarimage' }] }),
      want: want({ name: 'myapp-copy' }, { containers: [{ name: 'app', image: 'app-debugger' }, { name: 'sidecar', image: 'busybox' }] })
    },
    {
      name: 'Add interactive debug container minimal args',
      opts: { name: 'my-debugger', image: 'busybox', stdin: true, tty: true, profile: 'legacy' },
      have: pod({ name: 'mypod' }, { containers: [{ name: 'app', image: 'appimage' }, { name: 'sidecar', image: 'sidecarimage' }] }),
      want: want({ name: 'my-debugger' }, {
        containers: [{ name: 'app', image: 'appimage' }, { name: 'sidecar', image: 'sidecarimage' }, { name: 'debugger-bbbbb', image: 'busybox', stdin: true, tty: true, ...added }]
      })
    },
    {
      name: 'Pod copy: add container and also mutate images',
      opts: { name: 'my-debugger', image: 'debian', stdin: true, tty: true, setImage: { app: 'app:debug', sidecar: 'sidecar:debug' }, profile: 'legacy' },
      have: pod({ name: 'mypod' }, { containers: [{ name: 'app', image: 'appimage' }, { name: 'sidecar', image: 'sidecarimage' }] }),
      want: want({ name: 'my-debugger' }, {
        containers: [{ name: 'app', image: 'app:debug' }, { name: 'sidecar', image: 'sidecar:debug' }, { name: 'debugger-bbbbb', image: 'debian', stdin: true, tty: true, ...added }]
      })
    },
    {
      name: 'general profile',
      opts: { ...base, profile: 'general' },
      have: target({ containers: [{ name: 'debugger' }], nodeName: 'node-1' }),
      want: want({ name: 'debugger' }, {
        containers: [{ name: 'debugger', image: 'busybox', imagePullPolicy: 'IfNotPresent', securityContext: { capabilities: { add: ['SYS_PTRACE'] } } }],
        shareProcessNamespace: true
      })
    },
    {
      name: 'baseline profile',
      opts: { ...base, profile: 'baseline' },
      have: target({ containers: [{ name: 'debugger' }], nodeName: 'node-1' }),
      want: want({ name: 'debugger' }, { containers: [{ name: 'debugger', image: 'busybox', imagePullPolicy: 'IfNotPresent' }], shareProcessNamespace: true })
    },
    {
      name: 'baseline profile not share process when user explicitly disables it',
      opts: { ...base, profile: 'baseline', shareProcesses: false },
      have: target({ containers: [{ name: 'debugger' }], nodeName: 'node-1' }),
      want: want({ name: 'debugger' }, { containers: [{ name: 'debugger', image: 'busybox', imagePullPolicy: 'IfNotPresent' }], shareProcessNamespace: false })
    },
    {
      name: 'restricted profile',
      opts: { ...base, profile: 'restricted' },
      have: target({ containers: [{ name: 'debugger' }], nodeName: 'node-1' }),
      want: want({ name: 'debugger' }, {
        containers: [{
          name: 'debugger',
          image: 'busybox',
          imagePullPolicy: 'IfNotPresent',
          securityContext: { runAsNonRoot: true, capabilities: { drop: ['ALL'] }, allowPrivilegeEscalation: false, seccompProfile: { type: 'RuntimeDefault' } }
        }],
        shareProcessNamespace: true
      })
    },
    {
      name: 'netadmin profile',
      opts: { ...base, profile: 'netadmin' },
      have: target({ containers: [{ name: 'debugger' }], nodeName: 'node-1' }),
      want: want({ name: 'debugger' }, {
        containers: [{ name: 'debugger', image: 'busybox', imagePullPolicy: 'IfNotPresent', securityContext: { capabilities: { add: ['NET_ADMIN', 'NET_RAW'] } } }],
        shareProcessNamespace: true
      })
    }
  ]
  for (const tc of cases) {
    test(tc.name, () => {
      const before = structuredClone(tc.have)
      assert.deepEqual(copy(tc.opts, tc.have), tc.want)
      assert.deepEqual(tc.have, before, 'the original is not modified')
    })
  }
})

describe('kubectl TestGenerateCopyDebugPodCustomProfile', () => {
  const have = pod({}, { serviceAccountName: 'test', nodeName: 'test-node' })
  const custom = { imagePullPolicy: 'Never', stdin: true, tty: false, securityContext: { capabilities: { drop: ['ALL'] }, runAsNonRoot: false } }
  const opts = { sameNode: true, image: 'busybox', imagePullPolicy: 'IfNotPresent', stdin: false, custom } as const
  const container = { name: 'debugger-bbbbb', image: 'busybox', resources: {}, imagePullPolicy: 'Never', terminationMessagePolicy: 'File', stdin: true }

  test('baseline profile', () => {
    const result = buildPodCopy(have, { ...opts, name: 'c', profile: 'baseline' }, { rand: suffixes('bbbbb') })
    assert.equal(result.container, 'debugger-bbbbb')
    assert.deepEqual(result.pod, want({ name: 'c' }, {
      serviceAccountName: 'test',
      nodeName: 'test-node',
      containers: [{ ...container, securityContext: { runAsNonRoot: false, capabilities: { drop: ['ALL'] } } }],
      shareProcessNamespace: true
    }))
  })
  test('restricted profile', () => {
    const result = buildPodCopy(have, { ...opts, name: 'c', profile: 'restricted' }, { rand: suffixes('bbbbb') })
    assert.deepEqual(result.pod, want({ name: 'c' }, {
      serviceAccountName: 'test',
      nodeName: 'test-node',
      containers: [{
        ...container,
        securityContext: { allowPrivilegeEscalation: false, runAsNonRoot: false, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } }
      }],
      shareProcessNamespace: true
    }))
  })
  test('custom on an existing container merges onto it', () => {
    const result = buildPodCopy(pod({ name: 'p' }, { containers: [{ name: 'app', image: 'app:1', env: [{ name: 'A', value: '1' }] }] }), {
      name: 'c', container: 'app', stdin: false, profile: 'baseline', command: ['sh'], custom: { env: [{ name: 'A', value: '2' }], workingDir: '/tmp' }
    })
    // resources: {} comes with the custom spec, as Go marshals corev1.Container
    assert.deepEqual(result.pod.spec.containers, [{ name: 'app', image: 'app:1', command: ['sh'], env: [{ name: 'A', value: '2' }], workingDir: '/tmp', resources: {} }])
  })
})

describe('validation', () => {
  const have = pod({ name: 'p' }, { containers: [{ name: 'app', image: 'app:1' }], initContainers: [{ name: 'init' }] })
  const cases: Array<[string, CopyOptions, string, RegExp]> = [
    ['nothing to do', {}, 'image', /you must specify image, setImage or command\/args/],
    ['args without container or image', { args: ['x'] }, 'image', /existing container or a new image/],
    ['args with a new container name but no image', { container: 'new', command: ['sh'] }, 'image', /you must specify image when creating a new container/],
    ['bad setImage', { setImage: { '*': 'SUPERGOODIMAGE#1!!!!' } }, 'setImage.*', /^invalid image name "SUPERGOODIMAGE#1!!!!" for container "\*": invalid reference format$/],
    ['target', { image: 'busybox', target: 'app' } as CopyOptions, 'target', /Use shareProcesses instead/],
    ['custom on a setImage-only copy', { setImage: { app: 'busybox' }, custom: { workingDir: '/' } }, 'custom', /needs a debug container/],
    ['capabilities on a setImage-only copy', { setImage: { app: 'busybox' }, capabilities: { add: ['NET_ADMIN'] } }, 'capabilities', /need a debug container/],
    ['custom on an init container (kubectl looks among regular containers only)', { container: 'init', image: 'busybox', custom: { workingDir: '/' } }, 'custom', /unable to find the init container/],
    ['additions on an init container the profile dropped', { container: 'init', image: 'busybox', keep: { initContainers: false }, privileged: true }, 'container', /not in the copy/]
  ]
  for (const [name, opts, field, message] of cases) {
    test(name, () => {
      assert.throws(() => buildPodCopy(have, opts), (err: unknown) => {
        assert.ok(err instanceof SpecError, String(err))
        assert.equal(err.field, field)
        assert.match(err.message, message)
        return true
      })
    })
  }

  test('setImage only: no debug container, nothing to attach to', () => {
    const result = buildPodCopy(have, { setImage: { app: 'busybox' } }, { rand: suffixes('bbbbb') })
    assert.equal(result.container, undefined)
    assert.equal(result.pod.metadata.name, 'p-debug-bbbbb')
  })

  test('setImage applies to regular containers only; unknown names are a warning', () => {
    const result = buildPodCopy(have, { setImage: { '*': 'busybox', init: 'x', nope: 'y' } })
    assert.deepEqual(result.pod.spec.containers, [{ name: 'app', image: 'busybox' }])
    assert.deepEqual(result.pod.spec.initContainers, [{ name: 'init' }])
    assert.deepEqual(result.warnings.map(w => w.code), ['SET_IMAGE_UNMATCHED', 'SET_IMAGE_UNMATCHED'])
  })

  test('an existing init container can be changed in place (kubectl looks in init containers too)', () => {
    const result = buildPodCopy(have, { name: 'c', container: 'init', image: 'busybox', stdin: false, profile: 'baseline' })
    assert.equal(result.container, 'init')
    assert.deepEqual(result.pod.spec.initContainers, [{ name: 'init', image: 'busybox' }])
  })
})

describe('our additions', () => {
  const labelled = pod(
    { name: 'web-1', namespace: 'shop', labels: { app: 'web', 'pod-template-hash': 'abc' }, annotations: { note: 'x' } },
    { containers: [{ name: 'web', image: 'web:1', readinessProbe: {} }], nodeName: 'n1' }
  )

  test('defaults: general profile, name <pod>-debug-xxxxx, stdin/tty, namespace kept', () => {
    const result = buildPodCopy(labelled, { image: 'busybox' }, { rand: suffixes('bbbbb', 'ccccc') })
    assert.equal(result.container, 'debugger-ccccc')
    assert.deepEqual(result.pod, want({ name: 'web-1-debug-bbbbb', namespace: 'shop' }, {
      containers: [
        { name: 'web', image: 'web:1' },
        { name: 'debugger-ccccc', image: 'busybox', ...added, stdin: true, tty: true, securityContext: { capabilities: { add: ['SYS_PTRACE'] } } }
      ],
      shareProcessNamespace: true
    }))
    assert.deepEqual(result.warnings.map(w => w.code), ['LABELS_DROPPED'])
    assert.match(result.warnings[0]?.message ?? '', /NetworkPolicies/)
  })

  test('kept labels: a readiness gate keeps Services away, and a warning about controllers', () => {
    const result = buildPodCopy(labelled, { name: 'c', image: 'busybox', keep: { labels: true } })
    assert.deepEqual(result.pod.metadata.labels, { app: 'web', 'pod-template-hash': 'abc' })
    assert.deepEqual(result.pod.spec.readinessGates, [{ conditionType: NO_TRAFFIC_READINESS_GATE }])
    assert.deepEqual(result.warnings.map(w => w.code), ['LABELS_KEPT'])
    assert.match(result.warnings[0]?.message ?? '', /adopt/)
  })

  test('setImage-only copies keep labels (kubectl skips the profile), so they get the gate too', () => {
    const result = buildPodCopy(labelled, { name: 'c', setImage: { web: 'web:debug' } })
    assert.deepEqual(result.pod.spec.readinessGates, [{ conditionType: NO_TRAFFIC_READINESS_GATE }])
  })

  test('no labels on the original: neither gate nor warning', () => {
    const result = buildPodCopy(pod({ name: 'p' }, { containers: [{ name: 'a' }] }), { name: 'c', image: 'busybox', keep: { labels: true } })
    assert.equal(result.pod.spec.readinessGates, undefined)
    assert.deepEqual(result.warnings, [])
  })

  test('attribution: labels and annotations, inherited kdebug.io/* replaced', () => {
    const original = pod(
      { name: 'web-1', labels: { app: 'web', 'kdebug.io/session': 'old', 'app.kubernetes.io/managed-by': 'Helm' }, annotations: { 'kdebug.io/reason': 'old', note: 'x' } },
      { containers: [{ name: 'web', image: 'web:1' }] }
    )
    const result = buildPodCopy(original, { name: 'c', image: 'busybox', container: 'dbg', keep: { labels: true, annotations: true } }, {
      attribution: { sessionId: 's-1', requestedBy: 'system:serviceaccount:ci:bot', reason: 'why', ticket: 'T-1', expiresAt: '2026-11-27T12:00:00Z', idempotencyKey: 'key', requestHash: 'h' }
    })
    assert.deepEqual(result.pod.metadata.labels, {
      app: 'web', 'app.kubernetes.io/managed-by': 'kdebug-gateway', 'kdebug.io/session': 's-1', 'kdebug.io/kind': 'copy', 'kdebug.io/copy-of': 'web-1'
    })
    assert.deepEqual(result.pod.metadata.annotations, {
      note: 'x',
      'kdebug.io/requested-by': 'system:serviceaccount:ci:bot',
      'kdebug.io/reason': 'why',
      'kdebug.io/ticket': 'T-1',
      'kdebug.io/expires-at': '2026-11-27T12:00:00Z',
      'kdebug.io/idempotency-key': 'key',
      'kdebug.io/request-hash': 'h',
      'kdebug.io/container': 'dbg',
      'kdebug.io/copy-of': 'web-1'
    })
    // env attribution is for ephemeral containers only
    assert.equal(result.pod.spec.containers[1]?.env, undefined)
  })

  test('a copy-of name too long for a label value stays in the annotation only', () => {
    const long = 'a'.repeat(70)
    const result = buildPodCopy(pod({ name: long }, { containers: [{ name: 'a' }] }), { name: 'c', image: 'busybox' }, { attribution: { sessionId: 's', requestedBy: 'u' } })
    assert.equal(result.pod.metadata.labels?.['kdebug.io/copy-of'], undefined)
    assert.equal(result.pod.metadata.annotations?.['kdebug.io/copy-of'], long)
  })

  test('capabilities, privileged and runAsUser land on the debug container after profile and custom', () => {
    const result = buildPodCopy(labelled, {
      name: 'c',
      image: 'busybox',
      container: 'dbg',
      profile: 'general',
      custom: { securityContext: { readOnlyRootFilesystem: true } },
      capabilities: { add: ['SYS_PTRACE', 'NET_ADMIN'] },
      privileged: true,
      runAsUser: 0
    })
    assert.deepEqual(result.pod.spec.containers[1]?.securityContext, {
      capabilities: { add: ['SYS_PTRACE', 'NET_ADMIN'] }, readOnlyRootFilesystem: true, privileged: true, runAsUser: 0, runAsNonRoot: false
    })
  })

  test('non-root pod: kubectl\'s displayWarning on the copy', () => {
    const nonRoot = pod({ name: 'p' }, { securityContext: { runAsUser: 1000 }, containers: [{ name: 'a' }] })
    const result = buildPodCopy(nonRoot, { name: 'c', image: 'busybox', profile: 'netadmin' })
    assert.deepEqual(result.warnings.map(w => w.code), ['NON_ROOT_POD_CAPABILITIES'])
  })

  test('command replaces command and clears args; args alone keep the command', () => {
    const have = pod({ name: 'p' }, { containers: [{ name: 'a', command: ['app'], args: ['--x'] }] })
    assert.deepEqual(buildPodCopy(have, { name: 'c', container: 'a', command: ['sh'], stdin: false, profile: 'baseline' }).pod.spec.containers, [{ name: 'a', command: ['sh'] }])
    assert.deepEqual(buildPodCopy(have, { name: 'c', container: 'a', args: ['--y'], stdin: false, profile: 'baseline' }).pod.spec.containers, [{ name: 'a', command: ['app'], args: ['--y'] }])
    assert.deepEqual(buildPodCopy(have, { name: 'c', container: 'a', command: ['sh'], args: ['-c', 'x'], stdin: false, profile: 'baseline' }).pod.spec.containers, [{ name: 'a', command: ['sh'], args: ['-c', 'x'] }])
  })

  test('stdin and tty are always set on a changed container (false removes them, as Go\'s omitempty)', () => {
    const have = pod({ name: 'p' }, { containers: [{ name: 'a', stdin: true, tty: true }] })
    assert.deepEqual(buildPodCopy(have, { name: 'c', container: 'a', image: 'x', stdin: false, profile: 'baseline' }).pod.spec.containers, [{ name: 'a', image: 'x' }])
  })
})
