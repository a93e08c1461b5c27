// TestGenerateDebugContainer and TestGenerateEphemeralDebugPodCustomProfile from kubectl's
// debug_test.go, then our additions. kubectl's opts have Interactive/TTY false, so stdin: false.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { buildEphemeralContainer } from '../../../src/debug/kubectl/ephemeral.ts'
import type { EphemeralOptions } from '../../../src/debug/kubectl/options.ts'
import { SpecError } from '../../../src/debug/kubectl/spec-error.ts'
import type { EphemeralContainer, Pod } from '../../../src/kube/types.ts'
import { LEGACY_PROFILE_WARNING, NON_ROOT_POD_WARNING } from '../../../src/debug/kubectl/warnings.ts'
import { pod, suffixes } from '../../helpers/kubectl-fixtures.ts'

const base = { image: 'busybox', imagePullPolicy: 'IfNotPresent', stdin: false } as const
const made = { image: 'busybox', resources: {}, terminationMessagePolicy: 'File', imagePullPolicy: 'IfNotPresent' } as const

function build (opts: EphemeralOptions, p: Pod = pod({}), rand = suffixes('bbbbb', 'ccccc')): EphemeralContainer {
  return buildEphemeralContainer(p, opts, { rand }).container
}

describe('kubectl TestGenerateDebugContainer', () => {
  const cases: Array<{ name: string, opts: EphemeralOptions, pod?: Pod, expected: EphemeralContainer }> = [
    { name: 'minimum fields', opts: { ...base, container: 'debugger', profile: 'legacy' }, expected: { name: 'debugger', ...made } },
    {
      name: 'namespace targeting',
      opts: { ...base, container: 'debugger', target: 'myapp', profile: 'legacy' },
      expected: { name: 'debugger', ...made, targetContainerName: 'myapp' }
    },
    {
      name: 'debug args as container command',
      opts: { ...base, container: 'debugger', command: ['/bin/echo', 'one', 'two', 'three'], profile: 'legacy' },
      expected: { name: 'debugger', ...made, command: ['/bin/echo', 'one', 'two', 'three'] }
    },
    {
      name: 'debug args as container args',
      opts: { ...base, container: 'debugger', args: ['echo', 'one', 'two', 'three'], profile: 'legacy' },
      expected: { name: 'debugger', ...made, args: ['echo', 'one', 'two', 'three'] }
    },
    { name: 'random name generation', opts: { ...base, profile: 'legacy' }, expected: { name: 'debugger-bbbbb', ...made } },
    {
      name: 'random name collision',
      opts: { ...base, profile: 'legacy' },
      pod: pod({}, { containers: [{ name: 'debugger-bbbbb' }] }),
      expected: { name: 'debugger-ccccc', ...made }
    },
    {
      name: 'pod with init containers',
      opts: { ...base, profile: 'legacy' },
      pod: pod({}, { initContainers: [{ name: 'init-container-1' }, { name: 'init-container-2' }], containers: [{ name: 'debugger' }] }),
      expected: { name: 'debugger-bbbbb', ...made }
    },
    {
      name: 'pod with ephemeral containers',
      opts: { ...base, profile: 'legacy' },
      pod: pod({}, { containers: [{ name: 'debugger' }], ephemeralContainers: [{ name: 'ephemeral-container-1' }, { name: 'ephemeral-container-2' }] }),
      expected: { name: 'debugger-bbbbb', ...made }
    },
    {
      name: 'general profile',
      opts: { ...base, profile: 'general' },
      expected: { name: 'debugger-bbbbb', ...made, securityContext: { capabilities: { add: ['SYS_PTRACE'] } } }
    },
    { name: 'baseline profile', opts: { ...base, profile: 'baseline' }, expected: { name: 'debugger-bbbbb', ...made } },
    {
      name: 'restricted profile',
      opts: { ...base, profile: 'restricted' },
      expected: {
        name: 'debugger-bbbbb',
        ...made,
        securityContext: { runAsNonRoot: true, capabilities: { drop: ['ALL'] }, allowPrivilegeEscalation: false, seccompProfile: { type: 'RuntimeDefault' } }
      }
    },
    {
      name: 'netadmin profile',
      opts: { ...base, profile: 'netadmin' },
      expected: { name: 'debugger-bbbbb', ...made, securityContext: { capabilities: { add: ['NET_ADMIN', 'NET_RAW'] } } }
    },
    { name: 'sysadmin profile', opts: { ...base, profile: 'sysadmin' }, expected: { name: 'debugger-bbbbb', ...made, securityContext: { privileged: true } } }
  ]
  for (const tc of cases) {
    test(tc.name, () => { assert.deepEqual(build(tc.opts, tc.pod), tc.expected) })
  }
})

describe('kubectl TestGenerateEphemeralDebugPodCustomProfile', () => {
  const input = pod({}, { serviceAccountName: 'test', nodeName: 'test-node' })
  const custom = { imagePullPolicy: 'Never', stdin: true, tty: false, securityContext: { capabilities: { drop: ['ALL'] }, runAsNonRoot: false } }
  const expectedBase = { name: 'debugger-bbbbb', image: 'busybox', resources: {}, imagePullPolicy: 'Never', terminationMessagePolicy: 'File', stdin: true }

  test('baseline profile', () => {
    assert.deepEqual(build({ ...base, profile: 'baseline', custom }, input), {
      ...expectedBase,
      securityContext: { runAsNonRoot: false, capabilities: { drop: ['ALL'] } }
    })
  })
  test('restricted profile (the custom runAsNonRoot: false wins, the rest of restricted stays)', () => {
    const expected = {
      ...expectedBase,
      securityContext: { allowPrivilegeEscalation: false, runAsNonRoot: false, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } }
    }
    assert.deepEqual(build({ ...base, profile: 'restricted', custom }, input), expected)
  })
  test('the patch carries only the new container', () => {
    const withExisting = pod({ name: 'p' }, { containers: [{ name: 'app' }], ephemeralContainers: [{ name: 'old', image: 'x' }] })
    const result = buildEphemeralContainer(withExisting, { ...base, profile: 'baseline', custom }, { rand: suffixes('bbbbb') })
    assert.deepEqual(result.patch, { spec: { ephemeralContainers: [result.container] } })
    assert.equal(result.container.name, 'debugger-bbbbb')
  })
})

describe('wire body', () => {
  test('matches what kubectl 1.32 sent (captured from kubectl 1.32)', () => {
    const { patch } = buildEphemeralContainer(pod({ name: 'p' }, { containers: [{ name: 'app' }] }), {
      image: 'busybox', target: 'app', container: 'NAME', stdin: false, profile: 'legacy'
    })
    assert.equal(JSON.stringify(sortKeys(patch)),
      '{"spec":{"ephemeralContainers":[{"image":"busybox","name":"NAME","resources":{},"targetContainerName":"app","terminationMessagePolicy":"File"}]}}')
  })

  test('defaults: general profile, stdin and tty on', () => {
    const { container } = buildEphemeralContainer(pod({}), { image: 'busybox' }, { rand: suffixes('bbbbb') })
    assert.deepEqual(container, {
      name: 'debugger-bbbbb',
      image: 'busybox',
      resources: {},
      terminationMessagePolicy: 'File',
      stdin: true,
      tty: true,
      securityContext: { capabilities: { add: ['SYS_PTRACE'] } }
    })
  })

  test('the input pod is not modified', () => {
    const input = pod({ name: 'p' }, { containers: [{ name: 'app' }] })
    const before = structuredClone(input)
    buildEphemeralContainer(input, { image: 'busybox', profile: 'sysadmin', capabilities: { add: ['NET_ADMIN'] } })
    assert.deepEqual(input, before)
  })
})

describe('validation (400 naming the field)', () => {
  const cases: Array<[string, EphemeralOptions, string, RegExp]> = [
    ['no image', { image: '' }, 'image', /image is required/],
    ['bad image', { image: 'image:label@deadbeef' }, 'image', /^invalid image name "image:label@deadbeef": invalid reference format$/],
    ['bad pull policy', { image: 'busybox', imagePullPolicy: 'Sometimes' as 'Never' }, 'imagePullPolicy', /^invalid image pull policy: Sometimes$/],
    ['tty without stdin', { image: 'busybox', stdin: false, tty: true }, 'tty', /stdin is required/],
    ['unknown profile', { image: 'busybox', profile: 'auto' }, 'profile', /^unknown profile: auto$/],
    ['custom image', { image: 'busybox', custom: { image: 'evil' } }, 'custom.image', /^name, command, image, lifecycle and volume devices are not modifiable via custom profile$/],
    ['KDEBUG_ env', { image: 'busybox', env: [{ name: 'KDEBUG_SESSION', value: 'fake' }] }, 'env[0].name', /reserved/],
    ['KDEBUG_ env in custom', { image: 'busybox', custom: { env: [{ name: 'A', value: '1' }, { name: 'KDEBUG_REQUESTED_BY', value: 'x' }] } }, 'custom.env[1].name', /reserved/],
    ['bad capability', { image: 'busybox', capabilities: { add: ['NET ADMIN'] } }, 'capabilities.add[0]', /invalid capability/],
    ['negative uid', { image: 'busybox', runAsUser: -1 }, 'runAsUser', /between 0 and 2147483647/]
  ]
  for (const [name, opts, field, message] of cases) {
    test(name, () => {
      assert.throws(() => buildEphemeralContainer(pod({}), opts), (err: unknown) => {
        assert.ok(err instanceof SpecError)
        assert.equal(err.field, field)
        assert.match(err.message, message)
        return true
      })
    })
  }

  test('stdin: false alone switches tty off too', () => {
    const { container } = buildEphemeralContainer(pod({}), { image: 'busybox', container: 'd', stdin: false, profile: 'baseline' })
    assert.equal(container.stdin, undefined)
    assert.equal(container.tty, undefined)
  })
})

describe('our additions', () => {
  test('capabilities: add appended without duplicates (names normalized), drop replaced', () => {
    const { container } = buildEphemeralContainer(pod({}), {
      image: 'busybox', container: 'd', profile: 'netadmin', capabilities: { add: ['net_raw', 'CAP_SYS_ADMIN', 'SYS_ADMIN'], drop: ['cap_mknod'] }
    })
    assert.deepEqual(container.securityContext, { capabilities: { add: ['NET_ADMIN', 'NET_RAW', 'SYS_ADMIN'], drop: ['MKNOD'] } })
  })

  test('capabilities after restricted: drop ALL stays unless drop is given', () => {
    const { container } = buildEphemeralContainer(pod({}), { image: 'busybox', container: 'd', profile: 'restricted', capabilities: { add: ['NET_BIND_SERVICE'] } })
    assert.deepEqual(container.securityContext?.capabilities, { drop: ['ALL'], add: ['NET_BIND_SERVICE'] })
  })

  test('additions run after custom', () => {
    const { container } = buildEphemeralContainer(pod({}), {
      image: 'busybox', container: 'd', profile: 'baseline', custom: { securityContext: { privileged: true, runAsUser: 1000 } }, privileged: false, runAsUser: 2000
    })
    assert.deepEqual(container.securityContext, { privileged: false, runAsUser: 2000 })
  })

  test('privileged false switches sysadmin off', () => {
    const { container } = buildEphemeralContainer(pod({}), { image: 'busybox', container: 'd', profile: 'sysadmin', privileged: false })
    assert.deepEqual(container.securityContext, { privileged: false })
  })

  test('runAsUser 0 also sets runAsNonRoot false (restricted would block a root uid at start)', () => {
    const { container } = buildEphemeralContainer(pod({}), { image: 'busybox', container: 'd', profile: 'restricted', runAsUser: 0 })
    assert.deepEqual(container.securityContext, {
      runAsNonRoot: false, capabilities: { drop: ['ALL'] }, allowPrivilegeEscalation: false, seccompProfile: { type: 'RuntimeDefault' }, runAsUser: 0
    })
    const nonZero = buildEphemeralContainer(pod({}), { image: 'busybox', container: 'd', profile: 'restricted', runAsUser: 1000 }).container
    assert.equal(nonZero.securityContext?.runAsNonRoot, true)
    assert.equal(nonZero.securityContext?.runAsUser, 1000)
  })

  test('attribution env comes last and cannot be spoofed through custom or env', () => {
    const attribution = { sessionId: 's-123', requestedBy: 'alice', reason: 'strace the app', ticket: 'INC-1', expiresAt: '2026-11-27T12:00:00Z' }
    const { container } = buildEphemeralContainer(pod({}), {
      image: 'busybox', container: 'd', profile: 'baseline', env: [{ name: 'FOO', value: 'bar' }], custom: { env: [{ name: 'BAZ', value: 'q' }] }
    }, { attribution })
    // strategic merge puts the patch's new entries first, as apimachinery does
    assert.deepEqual(container.env, [
      { name: 'BAZ', value: 'q' },
      { name: 'FOO', value: 'bar' },
      { name: 'KDEBUG_SESSION', value: 's-123' },
      { name: 'KDEBUG_REQUESTED_BY', value: 'alice' },
      { name: 'KDEBUG_REASON', value: 'strace the app' },
      { name: 'KDEBUG_TICKET', value: 'INC-1' },
      { name: 'KDEBUG_EXPIRES_AT', value: '2026-11-27T12:00:00Z' }
    ])
  })

  test('idempotency key and request hash go into env too', () => {
    const { container } = buildEphemeralContainer(pod({}), { image: 'busybox', container: 'd' }, {
      attribution: { sessionId: 's', requestedBy: 'bob', idempotencyKey: 'k-1', requestHash: 'abc' }
    })
    assert.deepEqual(container.env, [
      { name: 'KDEBUG_SESSION', value: 's' },
      { name: 'KDEBUG_REQUESTED_BY', value: 'bob' },
      { name: 'KDEBUG_IDEMPOTENCY_KEY', value: 'k-1' },
      { name: 'KDEBUG_REQUEST_HASH', value: 'abc' }
    ])
  })
})

describe('warnings', () => {
  const codes = (w: Array<{ code: string }>): string[] => w.map(x => x.code)

  test('legacy profile: kubectl\'s newest deprecation text', () => {
    const { warnings } = buildEphemeralContainer(pod({}), { image: 'busybox', profile: 'legacy' })
    assert.deepEqual(warnings, [{ code: 'LEGACY_PROFILE', message: LEGACY_PROFILE_WARNING }])
  })

  test('target: the runtime support note', () => {
    const { warnings } = buildEphemeralContainer(pod({}), { image: 'busybox', target: 'app', profile: 'baseline' })
    assert.deepEqual(warnings, [{
      code: 'TARGET_RUNTIME_SUPPORT',
      message: 'Targeting container "app". If you don\'t see processes from this container it may be because the container runtime doesn\'t support this feature.'
    }])
  })

  test('non-root pod with added capabilities: displayWarning', () => {
    const nonRoot = pod({}, { securityContext: { runAsUser: 1000 } })
    const { warnings } = buildEphemeralContainer(nonRoot, { image: 'busybox', profile: 'general' })
    assert.deepEqual(warnings, [{ code: 'NON_ROOT_POD_CAPABILITIES', message: NON_ROOT_POD_WARNING }])
    assert.deepEqual(buildEphemeralContainer(nonRoot, { image: 'busybox', profile: 'sysadmin' }).warnings.map(w => w.code), ['NON_ROOT_POD_CAPABILITIES'])
    // no added privileges, a root pod, or runAsUser 0 on the container: no warning
    assert.deepEqual(buildEphemeralContainer(nonRoot, { image: 'busybox', profile: 'baseline' }).warnings, [])
    assert.deepEqual(buildEphemeralContainer(pod({}, { securityContext: { runAsUser: 0 } }), { image: 'busybox' }).warnings, [])
    assert.deepEqual(buildEphemeralContainer(nonRoot, { image: 'busybox', runAsUser: 0 }).warnings, [])
  })

  test('non-root container uid with added capabilities (ours)', () => {
    const { warnings } = buildEphemeralContainer(pod({}), { image: 'busybox', runAsUser: 1000 })
    assert.deepEqual(codes(warnings), ['NON_ROOT_CONTAINER_CAPABILITIES'])
  })
})

function sortKeys (value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (typeof value !== 'object' || value === null) return value
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => a < b ? -1 : 1).map(([k, v]) => [k, sortKeys(v)]))
}
