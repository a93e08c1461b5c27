// Transcribed from kubectl's profiles_test.go (newest, KeepFlags{InitContainers: true}).
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { applyProfile, PROFILE_NAMES, type Journey } from '../../../src/debug/kubectl/profiles.ts'
import { SpecError } from '../../../src/debug/kubectl/spec-error.ts'
import type { Pod, SecurityContext } from '../../../src/kube/types.ts'
import { pod } from '../../helpers/kubectl-fixtures.ts'

const keep = { initContainers: true }
const probes = { livenessProbe: {}, readinessProbe: {}, startupProbe: {} }
const hostRoot = { volumes: [{ name: 'host-root', hostPath: { path: '/' } }] }
const hostMount = [{ mountPath: '/host', name: 'host-root' }]
const hostNs = { hostNetwork: true, hostPID: true, hostIPC: true }
const restrictedSc = {
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
  allowPrivilegeEscalation: false,
  seccompProfile: { type: 'RuntimeDefault' }
}

function ephemeralPod (sc?: SecurityContext): Pod {
  return pod({ name: 'pod' }, { ephemeralContainers: [{ name: 'dbg', image: 'dbgimage', ...(sc === undefined ? {} : { securityContext: sc }) }] })
}

/** The "debug by pod copy" input of profiles_test.go, with the dbg container's securityContext varying. */
function copyPod (dbgSc?: SecurityContext): Pod {
  return pod(
    { name: 'podcopy', labels: { app: 'podcopy' }, annotations: { test: 'test' } },
    {
      initContainers: [{ name: 'init-container' }],
      containers: [
        { name: 'app', image: 'appimage', ...probes },
        { name: 'dbg', image: 'dbgimage', ...(dbgSc === undefined ? {} : { securityContext: dbgSc }) }
      ]
    }
  )
}

function run (profile: string, input: Pod, journey: Journey): Pod {
  const before = structuredClone(input)
  const out = applyProfile(input, 'dbg', { profile, journey, keep })
  assert.deepEqual(input, before, 'applyProfile must not modify its input')
  return out
}

describe('legacy profile', () => {
  test('ephemeral: nothing', () => {
    assert.deepEqual(run('legacy', ephemeralPod(), 'ephemeral'), ephemeralPod())
  })
  test('copy: labels go (whatever keep says), annotations/probes/init containers stay', () => {
    const out = applyProfile(copyPod({ capabilities: { add: ['NET_ADMIN'] } }), 'dbg', { profile: 'legacy', journey: 'copy', keep: { labels: true } })
    assert.deepEqual(out, pod(
      { name: 'podcopy', annotations: { test: 'test' } },
      {
        initContainers: [{ name: 'init-container' }],
        containers: [
          { name: 'app', image: 'appimage', ...probes },
          { name: 'dbg', image: 'dbgimage', securityContext: { capabilities: { add: ['NET_ADMIN'] } } }
        ]
      }
    ))
  })
  test('node: host namespaces and /host, securityContext untouched', () => {
    const input = pod({ name: 'pod' }, { containers: [{ name: 'dbg', image: 'dbgimage', securityContext: { capabilities: { add: ['NET_ADMIN'] } } }] })
    assert.deepEqual(run('legacy', input, 'node'), pod({ name: 'pod' }, {
      ...hostNs,
      containers: [{ name: 'dbg', image: 'dbgimage', securityContext: { capabilities: { add: ['NET_ADMIN'] } }, volumeMounts: hostMount }],
      ...hostRoot
    }))
  })
})

describe('general profile', () => {
  test('ephemeral: SYS_PTRACE', () => {
    assert.deepEqual(run('general', ephemeralPod(), 'ephemeral'), ephemeralPod({ capabilities: { add: ['SYS_PTRACE'] } }))
  })
  test('copy: labels, annotations, probes go; SYS_PTRACE appended; shareProcessNamespace', () => {
    assert.deepEqual(run('general', copyPod({ capabilities: { add: ['NET_ADMIN'] } }), 'copy'), pod({ name: 'podcopy' }, {
      initContainers: [{ name: 'init-container' }],
      containers: [
        { name: 'app', image: 'appimage' },
        { name: 'dbg', image: 'dbgimage', securityContext: { capabilities: { add: ['NET_ADMIN', 'SYS_PTRACE'] } } }
      ],
      shareProcessNamespace: true
    }))
  })
  test('node: /host, securityContext cleared, host namespaces', () => {
    const input = pod({ name: 'pod' }, { containers: [{ name: 'dbg', image: 'dbgimage', securityContext: { privileged: true } }] })
    assert.deepEqual(run('general', input, 'node'), pod({ name: 'pod' }, {
      ...hostNs,
      containers: [{ name: 'dbg', image: 'dbgimage', volumeMounts: hostMount }],
      ...hostRoot
    }))
  })
})

describe('baseline profile', () => {
  test('ephemeral: securityContext cleared', () => {
    assert.deepEqual(run('baseline', ephemeralPod({ capabilities: { add: ['SYS_PTRACE'] } }), 'ephemeral'), ephemeralPod())
  })
  test('copy', () => {
    assert.deepEqual(run('baseline', copyPod(), 'copy'), pod({ name: 'podcopy' }, {
      shareProcessNamespace: true,
      initContainers: [{ name: 'init-container' }],
      containers: [{ name: 'app', image: 'appimage' }, { name: 'dbg', image: 'dbgimage' }]
    }))
  })
  test('node: nothing but the cleared securityContext', () => {
    const input = pod({ name: 'pod' }, { containers: [{ name: 'dbg', image: 'dbgimage' }] })
    assert.deepEqual(run('baseline', input, 'node'), input)
  })
})

describe('restricted profile', () => {
  test('ephemeral', () => {
    assert.deepEqual(run('restricted', ephemeralPod({ capabilities: { add: ['SYS_PTRACE'] } }), 'ephemeral'), ephemeralPod(restrictedSc))
  })
  test('copy', () => {
    assert.deepEqual(run('restricted', copyPod(), 'copy'), pod({ name: 'podcopy' }, {
      shareProcessNamespace: true,
      initContainers: [{ name: 'init-container' }],
      containers: [{ name: 'app', image: 'appimage' }, { name: 'dbg', image: 'dbgimage', securityContext: restrictedSc }]
    }))
  })
  test('node: securityContext rebuilt from scratch', () => {
    const input = pod({ name: 'pod' }, {
      containers: [{
        name: 'dbg',
        image: 'dbgimage',
        securityContext: { capabilities: { add: ['ALL'] }, allowPrivilegeEscalation: false, seccompProfile: { type: 'RuntimeDefault' } }
      }]
    })
    assert.deepEqual(run('restricted', input, 'node'), pod({ name: 'pod' }, { containers: [{ name: 'dbg', image: 'dbgimage', securityContext: restrictedSc }] }))
  })
})

describe('netadmin profile', () => {
  const netadmin = { capabilities: { add: ['NET_ADMIN', 'NET_RAW'] } }
  test('ephemeral', () => {
    assert.deepEqual(run('netadmin', ephemeralPod(), 'ephemeral'), ephemeralPod(netadmin))
  })
  test('copy', () => {
    assert.deepEqual(run('netadmin', copyPod(), 'copy'), pod({ name: 'podcopy' }, {
      shareProcessNamespace: true,
      initContainers: [{ name: 'init-container' }],
      containers: [{ name: 'app', image: 'appimage' }, { name: 'dbg', image: 'dbgimage', securityContext: netadmin }]
    }))
  })
  test('copy preserves an existing capability', () => {
    const input = pod({ name: 'podcopy' }, {
      containers: [{ name: 'app', image: 'appimage', ...probes }, { name: 'dbg', image: 'dbgimage', securityContext: { capabilities: { add: ['SYS_PTRACE'] } } }]
    })
    assert.deepEqual(run('netadmin', input, 'copy'), pod({ name: 'podcopy' }, {
      shareProcessNamespace: true,
      containers: [{ name: 'app', image: 'appimage' }, { name: 'dbg', image: 'dbgimage', securityContext: { capabilities: { add: ['SYS_PTRACE', 'NET_ADMIN', 'NET_RAW'] } } }]
    }))
  })
  test('node: host namespaces, no /host', () => {
    const input = pod({ name: 'pod' }, { containers: [{ name: 'dbg', image: 'dbgimage' }] })
    assert.deepEqual(run('netadmin', input, 'node'), pod({ name: 'pod' }, { ...hostNs, containers: [{ name: 'dbg', image: 'dbgimage', securityContext: netadmin }] }))
  })
  test('node preserves an existing capability', () => {
    const input = pod({ name: 'pod' }, { containers: [{ name: 'dbg', image: 'dbgimage', securityContext: { capabilities: { add: ['SYS_PTRACE'] } } }] })
    assert.deepEqual(run('netadmin', input, 'node'), pod({ name: 'pod' }, {
      ...hostNs,
      containers: [{ name: 'dbg', image: 'dbgimage', securityContext: { capabilities: { add: ['SYS_PTRACE', 'NET_ADMIN', 'NET_RAW'] } } }]
    }))
  })
})

describe('sysadmin profile', () => {
  test('ephemeral', () => {
    assert.deepEqual(run('sysadmin', ephemeralPod(), 'ephemeral'), ephemeralPod({ privileged: true }))
  })
  test('copy', () => {
    assert.deepEqual(run('sysadmin', copyPod(), 'copy'), pod({ name: 'podcopy' }, {
      initContainers: [{ name: 'init-container' }],
      containers: [{ name: 'app', image: 'appimage' }, { name: 'dbg', image: 'dbgimage', securityContext: { privileged: true } }],
      shareProcessNamespace: true
    }))
  })
  test('copy preserves an existing capability', () => {
    const input = pod({ name: 'podcopy' }, {
      containers: [{ name: 'app', image: 'appimage', ...probes }, { name: 'dbg', image: 'dbgimage', securityContext: { capabilities: { add: ['SYS_PTRACE'] } } }]
    })
    assert.deepEqual(run('sysadmin', input, 'copy'), pod({ name: 'podcopy' }, {
      containers: [{ name: 'app', image: 'appimage' }, { name: 'dbg', image: 'dbgimage', securityContext: { privileged: true, capabilities: { add: ['SYS_PTRACE'] } } }],
      shareProcessNamespace: true
    }))
  })
  test('node: privileged, host namespaces and /host', () => {
    const input = pod({ name: 'pod' }, { containers: [{ name: 'dbg', image: 'dbgimage', securityContext: { capabilities: { add: ['SYS_PTRACE'] } } }] })
    assert.deepEqual(run('sysadmin', input, 'node'), pod({ name: 'pod' }, {
      ...hostNs,
      ...hostRoot,
      containers: [{ name: 'dbg', image: 'dbgimage', securityContext: { privileged: true, capabilities: { add: ['SYS_PTRACE'] } }, volumeMounts: hostMount }]
    }))
  })
})

describe('keep flags (copy journey)', () => {
  test('each part is kept only when asked', () => {
    for (const profile of PROFILE_NAMES.filter(p => p !== 'legacy')) {
      const kept = applyProfile(copyPod(), 'dbg', {
        profile,
        journey: 'copy',
        keep: { labels: true, annotations: true, liveness: true, readiness: true, startup: true, initContainers: true }
      })
      assert.deepEqual(kept.metadata, { name: 'podcopy', labels: { app: 'podcopy' }, annotations: { test: 'test' } }, profile)
      assert.deepEqual(kept.spec.containers[0], { name: 'app', image: 'appimage', ...probes }, profile)
      assert.deepEqual(kept.spec.initContainers, [{ name: 'init-container' }], profile)

      const dropped = applyProfile(copyPod(), 'dbg', { profile, journey: 'copy', keep: { initContainers: false, readiness: true } })
      assert.deepEqual(dropped.metadata, { name: 'podcopy' }, profile)
      assert.deepEqual(dropped.spec.containers[0], { name: 'app', image: 'appimage', readinessProbe: {} }, profile)
      assert.equal(dropped.spec.initContainers, undefined, profile)
    }
  })

  test('defaults keep init containers only', () => {
    const out = applyProfile(copyPod(), 'dbg', { profile: 'general', journey: 'copy' })
    assert.deepEqual(out.spec.initContainers, [{ name: 'init-container' }])
    assert.equal(out.metadata.labels, undefined)
    assert.equal(out.metadata.annotations, undefined)
  })

  test('an explicit shareProcessNamespace false is not overridden', () => {
    const input = copyPod()
    input.spec.shareProcessNamespace = false
    for (const profile of PROFILE_NAMES) {
      assert.equal(applyProfile(input, 'dbg', { profile, journey: 'copy' }).spec.shareProcessNamespace, false, profile)
    }
  })

  test('existing volumes are kept when /host is added', () => {
    const input = pod({ name: 'p' }, { volumes: [{ name: 'data', emptyDir: {} }], containers: [{ name: 'dbg', volumeMounts: [{ name: 'data', mountPath: '/data' }] }] })
    const out = applyProfile(input, 'dbg', { profile: 'general', journey: 'node' })
    assert.deepEqual(out.spec.volumes, [{ name: 'data', emptyDir: {} }, { name: 'host-root', hostPath: { path: '/' } }])
    assert.deepEqual(out.spec.containers[0]?.volumeMounts, [{ name: 'data', mountPath: '/data' }, ...hostMount])
  })
})

test('unknown profile', () => {
  assert.throws(() => applyProfile(ephemeralPod(), 'dbg', { profile: 'auto', journey: 'ephemeral' }),
    (err: unknown) => err instanceof SpecError && err.field === 'profile' && err.message === 'unknown profile: auto')
})

test('ephemeral journey, every profile: only the named container changes (a regular one when it holds the name, as findContainer visits), the input never', () => {
  const sc = { capabilities: { add: ['CHOWN'] }, runAsUser: 1000 }
  for (const profile of PROFILE_NAMES) {
    for (const name of ['dbg', 'app']) {
      const input = copyPod(sc)
      input.spec.containers[0]!.securityContext = structuredClone(sc)
      input.spec.ephemeralContainers = [{ name: 'dbg', image: 'dbgimage', securityContext: structuredClone(sc) }]
      const before = structuredClone(input)
      const out = applyProfile(input, name, { profile, journey: 'ephemeral' })
      assert.deepEqual(input, before, `${profile}/${name}: input changed`)
      const changed = name === 'app' ? out.spec.containers[0] : out.spec.containers[1]
      const untouched = name === 'app' ? [out.spec.containers[1], out.spec.ephemeralContainers?.[0]] : [out.spec.containers[0], out.spec.ephemeralContainers?.[0]]
      for (const u of untouched) assert.ok(u === undefined || before.spec.containers.some(c => c.name === u.name && JSON.stringify(c) === JSON.stringify(u)) || JSON.stringify(u) === JSON.stringify(before.spec.ephemeralContainers?.[0]), `${profile}/${name}: ${u?.name} changed`)
      assert.ok(changed !== undefined)
    }
  }
})
