import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { validatePodCreate, validateEphemeralContainersUpdate, prepareEphemeralContainersUpdate, isDNS1123Label } from '../../../src/sim/admission/pod-validation.ts'
import { defaultPod, defaultEphemeralContainers } from '../../../src/sim/admission/pod-defaults.ts'
import { StatusError } from '../../../src/sim/apimachinery/status.ts'
import type { KObject } from '../../../src/sim/apimachinery/types.ts'

function basePod (): KObject {
  return defaultPod({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'mypod', namespace: 'demo', uid: 'u1', resourceVersion: '5' },
    spec: {
      containers: [{ name: 'app', image: 'nginx:1.27' }],
      initContainers: [{ name: 'init', image: 'busybox:1.36' }],
      volumes: [{ name: 'data', emptyDir: {} }]
    }
  }, { random: () => 0 })
}

/** The pod after the PATCH: existing ephemeral containers plus `added`, defaulted like the server does. */
function withEphemeral (old: KObject, ...added: Array<Record<string, unknown>>): KObject {
  const incoming = structuredClone(old)
  const spec = incoming.spec as Record<string, unknown>
  spec.ephemeralContainers = [...((spec.ephemeralContainers as unknown[]) ?? []), ...added]
  return defaultEphemeralContainers(prepareEphemeralContainersUpdate(old, incoming))
}

function statusOf (fn: () => void): unknown {
  try {
    fn()
  } catch (err) {
    assert.ok(err instanceof StatusError, String(err))
    return err.status
  }
  assert.fail('expected a StatusError')
}

function invalid422 (causes: Array<{ reason: string, message: string, field?: string }>, message: string): unknown {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: 'Invalid',
    details: { name: 'mypod', kind: 'Pod', causes },
    code: 422
  }
}

const dbg = { name: 'debugger', image: 'busybox', targetContainerName: 'app', terminationMessagePolicy: 'File', stdin: true, tty: true, resources: {} }

describe('validateEphemeralContainersUpdate', () => {
  test('the container kubectl debug adds is accepted', () => {
    const old = basePod()
    validateEphemeralContainersUpdate(withEphemeral(old, dbg), old)
  })

  test('a second one next to an existing one is accepted (index counts the new list)', () => {
    const old = withEphemeral(basePod(), dbg)
    validateEphemeralContainersUpdate(withEphemeral(old, { ...dbg, name: 'debugger-2' }), old)
  })

  test('ports → exact 422 Status from NewInvalid', () => {
    const old = withEphemeral(basePod(), dbg)
    const s = statusOf(() => validateEphemeralContainersUpdate(withEphemeral(old, { ...dbg, name: 'd2', ports: [{ containerPort: 80, protocol: 'TCP' }] }), old))
    assert.deepEqual(s, invalid422(
      [{ reason: 'FieldValueForbidden', message: 'Forbidden: cannot be set for an Ephemeral Container', field: 'spec.ephemeralContainers[1].ports' }],
      'Pod "mypod" is invalid: spec.ephemeralContainers[1].ports: Forbidden: cannot be set for an Ephemeral Container'
    ))
  })

  for (const [field, value] of [
    ['ports', []],
    ['resources', { limits: { cpu: '1' } }],
    ['resizePolicy', [{ resourceName: 'cpu', restartPolicy: 'NotRequired' }]],
    ['restartPolicy', 'Always'],
    ['livenessProbe', { exec: { command: ['true'] } }],
    ['readinessProbe', { exec: { command: ['true'] } }],
    ['startupProbe', { exec: { command: ['true'] } }],
    ['lifecycle', { preStop: { exec: { command: ['true'] } } }]
  ] as const) {
    test(`forbidden field ${field}`, () => {
      const old = basePod()
      const s = statusOf(() => validateEphemeralContainersUpdate(withEphemeral(old, { ...dbg, [field]: value }), old)) as { details: { causes: unknown[] } }
      assert.deepEqual(s.details.causes, [{ reason: 'FieldValueForbidden', message: 'Forbidden: cannot be set for an Ephemeral Container', field: `spec.ephemeralContainers[0].${field}` }])
    })
  }

  test('allowed fields pass: empty resources, securityContext, env, volumeMounts of an existing volume', () => {
    const old = basePod()
    validateEphemeralContainersUpdate(withEphemeral(old, {
      ...dbg,
      resources: {},
      securityContext: { capabilities: { add: ['SYS_PTRACE'] } },
      env: [{ name: 'A', value: '1' }],
      volumeMounts: [{ name: 'data', mountPath: '/data' }],
      command: ['sh'],
      workingDir: '/'
    }), old)
  })

  test('subPath and subPathExpr on a mount are forbidden', () => {
    const old = basePod()
    const s = statusOf(() => validateEphemeralContainersUpdate(withEphemeral(old, { ...dbg, volumeMounts: [{ name: 'data', mountPath: '/data', subPath: 'x' }, { name: 'data', mountPath: '/d2', subPathExpr: 'y' }] }), old)) as { details: { causes: Array<{ field: string }> }, message: string }
    assert.deepEqual(s.details.causes.map(c => c.field), ['spec.ephemeralContainers[0].volumeMounts[0].subPath', 'spec.ephemeralContainers[0].volumeMounts[1].subPathExpr'])
    assert.equal(s.message, 'Pod "mypod" is invalid: [spec.ephemeralContainers[0].volumeMounts[0].subPath: Forbidden: cannot be set for an Ephemeral Container, spec.ephemeralContainers[0].volumeMounts[1].subPathExpr: Forbidden: cannot be set for an Ephemeral Container]')
  })

  test('mount of a missing volume → Not found', () => {
    const old = basePod()
    const s = statusOf(() => validateEphemeralContainersUpdate(withEphemeral(old, { ...dbg, volumeMounts: [{ name: 'host-root', mountPath: '/host' }] }), old)) as { details: { causes: unknown[] } }
    assert.deepEqual(s.details.causes, [{ reason: 'FieldValueNotFound', message: 'Not found: "host-root"', field: 'spec.ephemeralContainers[0].volumeMounts[0].name' }])
  })

  test('duplicate names across containers, init containers and ephemeral containers', () => {
    const old = withEphemeral(basePod(), dbg)
    for (const dup of ['app', 'init', 'debugger']) {
      const s = statusOf(() => validateEphemeralContainersUpdate(withEphemeral(old, { ...dbg, name: dup }), old)) as { details: { causes: unknown[] }, message: string }
      assert.deepEqual(s.details.causes, [{ reason: 'FieldValueDuplicate', message: `Duplicate value: "${dup}"`, field: 'spec.ephemeralContainers[1].name' }], dup)
      assert.equal(s.message, `Pod "mypod" is invalid: spec.ephemeralContainers[1].name: Duplicate value: "${dup}"`)
    }
  })

  test('target must be a regular or init container', () => {
    const old = withEphemeral(basePod(), dbg)
    for (const target of ['nope', 'debugger']) {
      const s = statusOf(() => validateEphemeralContainersUpdate(withEphemeral(old, { ...dbg, name: 'd2', targetContainerName: target }), old)) as { details: { causes: unknown[] } }
      assert.deepEqual(s.details.causes, [{ reason: 'FieldValueNotFound', message: `Not found: "${target}"`, field: 'spec.ephemeralContainers[1].targetContainerName' }])
    }
    validateEphemeralContainersUpdate(withEphemeral(old, { ...dbg, name: 'd3', targetContainerName: 'init' }), old)
  })

  test('bad name and missing image', () => {
    const old = basePod()
    const s = statusOf(() => validateEphemeralContainersUpdate(withEphemeral(old, { name: 'Bad_Name', terminationMessagePolicy: 'File' }), old)) as { details: { causes: unknown[] } }
    assert.deepEqual(s.details.causes, [
      {
        reason: 'FieldValueInvalid',
        field: 'spec.ephemeralContainers[0].name',
        message: 'Invalid value: "Bad_Name": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or \'-\', and must start and end with an alphanumeric character (e.g. \'my-name\',  or \'123-abc\', regex used for validation is \'[a-z0-9]([-a-z0-9]*[a-z0-9])?\')'
      },
      { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.ephemeralContainers[0].image' }
    ])
  })

  test('unsupported pull policy and termination message policy', () => {
    const old = basePod()
    const s = statusOf(() => validateEphemeralContainersUpdate(withEphemeral(old, { ...dbg, imagePullPolicy: 'Sometimes', terminationMessagePolicy: 'Whatever' }), old)) as { details: { causes: unknown[] } }
    assert.deepEqual(s.details.causes, [
      { reason: 'FieldValueNotSupported', message: 'Unsupported value: "Whatever": supported values: "File", "FallbackToLogsOnError"', field: 'spec.ephemeralContainers[0].terminationMessagePolicy' },
      { reason: 'FieldValueNotSupported', message: 'Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"', field: 'spec.ephemeralContainers[0].imagePullPolicy' }
    ])
  })

  test('removing an existing ephemeral container', () => {
    const old = withEphemeral(basePod(), dbg)
    const incoming = structuredClone(old)
    ;(incoming.spec as Record<string, unknown>).ephemeralContainers = []
    const s = statusOf(() => validateEphemeralContainersUpdate(prepareEphemeralContainersUpdate(old, incoming), old))
    assert.deepEqual(s, invalid422(
      [{ reason: 'FieldValueForbidden', message: 'Forbidden: existing ephemeral containers "debugger" may not be removed\n', field: 'spec.ephemeralContainers' }],
      'Pod "mypod" is invalid: spec.ephemeralContainers: Forbidden: existing ephemeral containers "debugger" may not be removed\n'
    ))
  })

  test('changing an existing ephemeral container (message has a newline and a diff)', () => {
    const old = withEphemeral(basePod(), dbg)
    const incoming = structuredClone(old)
    const ecs = (incoming.spec as { ephemeralContainers: Array<Record<string, unknown>> }).ephemeralContainers
    ecs[0] = { ...ecs[0], image: 'alpine' }
    const s = statusOf(() => validateEphemeralContainersUpdate(prepareEphemeralContainersUpdate(old, incoming), old)) as { details: { causes: Array<{ message: string, field: string }> } }
    const cause = s.details.causes[0]
    assert.equal(cause?.field, 'spec.ephemeralContainers')
    assert.match(cause?.message ?? '', /^Forbidden: existing ephemeral containers "debugger" may not be changed\n/)
    assert.match(cause?.message ?? '', /- \t\tImage: "busybox",\n\+ \t\tImage: "alpine",/)
  })

  test('order of existing ephemeral containers does not matter; unchanged zero values do not count as a change', () => {
    const old = withEphemeral(withEphemeral(basePod(), dbg), { ...dbg, name: 'd2' })
    const incoming = structuredClone(old)
    const spec = incoming.spec as { ephemeralContainers: Array<Record<string, unknown>> }
    spec.ephemeralContainers.reverse()
    spec.ephemeralContainers[0] = { ...spec.ephemeralContainers[0], stdinOnce: false, command: [] }
    validateEphemeralContainersUpdate(prepareEphemeralContainersUpdate(old, incoming), old)
  })

  test('static pods are refused with an empty field path', () => {
    const raw = basePod()
    raw.metadata.annotations = { 'kubernetes.io/config.mirror': 'abc' }
    ;(raw.spec as Record<string, unknown>).nodeName = 'node-1'
    const s = statusOf(() => validateEphemeralContainersUpdate(withEphemeral(raw, dbg), raw))
    assert.deepEqual(s, invalid422(
      [{ reason: 'FieldValueForbidden', message: 'Forbidden: static pods do not support ephemeral containers' }],
      'Pod "mypod" is invalid: : Forbidden: static pods do not support ephemeral containers'
    ))
  })
})

describe('prepareEphemeralContainersUpdate', () => {
  test('keeps only spec.ephemeralContainers (and identity/resourceVersion) from the request', () => {
    const old = basePod()
    const incoming = structuredClone(old)
    incoming.metadata.labels = { sneaky: 'yes' }
    incoming.metadata.resourceVersion = '9'
    const spec = incoming.spec as Record<string, unknown>
    spec.containers = [{ name: 'evil', image: 'x' }]
    spec.ephemeralContainers = [dbg]
    const out = prepareEphemeralContainersUpdate(old, incoming)
    assert.equal(out.metadata.labels, undefined)
    assert.equal(out.metadata.resourceVersion, '9')
    assert.deepEqual((out.spec as Record<string, unknown>).containers, (old.spec as Record<string, unknown>).containers)
    assert.deepEqual((out.spec as Record<string, unknown>).ephemeralContainers, [dbg])
  })
})

describe('validatePodCreate', () => {
  test('a defaulted pod is valid', () => {
    validatePodCreate(basePod())
  })

  test('ephemeral containers cannot be set on create', () => {
    const p = basePod()
    ;(p.spec as Record<string, unknown>).ephemeralContainers = [dbg]
    const s = statusOf(() => validatePodCreate(p)) as { details: { causes: unknown[] }, message: string }
    assert.deepEqual(s.details.causes.at(-1), { reason: 'FieldValueForbidden', message: 'Forbidden: cannot be set on create', field: 'spec.ephemeralContainers' })
  })

  test('only the create-time ban when the ephemeral container is otherwise valid', () => {
    const p = basePod()
    ;(p.spec as Record<string, unknown>).ephemeralContainers = [{ ...dbg, imagePullPolicy: 'Always', terminationMessagePath: '/dev/termination-log' }]
    assert.deepEqual(statusOf(() => validatePodCreate(p)), invalid422(
      [{ reason: 'FieldValueForbidden', message: 'Forbidden: cannot be set on create', field: 'spec.ephemeralContainers' }],
      'Pod "mypod" is invalid: spec.ephemeralContainers: Forbidden: cannot be set on create'
    ))
  })

  test('name required; containers required', () => {
    const p = basePod()
    delete p.metadata.name
    ;(p.spec as Record<string, unknown>).containers = []
    const s = statusOf(() => validatePodCreate(p)) as { details: { causes: unknown[], name: string }, message: string }
    assert.deepEqual(s.details.causes, [
      { reason: 'FieldValueRequired', message: 'Required value: name or generateName is required', field: 'metadata.name' },
      { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.containers' }
    ])
    assert.equal(s.message, 'Pod "" is invalid: [metadata.name: Required value: name or generateName is required, spec.containers: Required value]')
  })

  test('invalid metadata.name (subdomain rules)', () => {
    const p = basePod()
    p.metadata.name = 'My_Pod'
    const s = statusOf(() => validatePodCreate(p)) as { details: { causes: Array<{ message: string }> } }
    assert.equal(s.details.causes[0]?.message, 'Invalid value: "My_Pod": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \'-\' or \'.\', and must start and end with an alphanumeric character (e.g. \'example.com\', regex used for validation is \'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\')')
  })

  test('duplicate container names between containers and init containers', () => {
    const p = basePod()
    ;((p.spec as { initContainers: Array<Record<string, unknown>> }).initContainers[0] as Record<string, unknown>).name = 'app'
    const s = statusOf(() => validatePodCreate(p)) as { details: { causes: unknown[] } }
    assert.deepEqual(s.details.causes, [{ reason: 'FieldValueDuplicate', message: 'Duplicate value: "app"', field: 'spec.initContainers[0].name' }])
  })

  test('unsupported restartPolicy and dnsPolicy, hostPath without path, unknown volume mount', () => {
    const p = basePod()
    const spec = p.spec as Record<string, unknown>
    spec.restartPolicy = 'Sometimes'
    spec.dnsPolicy = 'Maybe'
    spec.volumes = [...(spec.volumes as unknown[]), { name: 'host-root', hostPath: { path: '', type: '' } }]
    ;((spec.containers as Array<Record<string, unknown>>)[0] as Record<string, unknown>).volumeMounts = [{ name: 'host-root', mountPath: '/host' }]
    const s = statusOf(() => validatePodCreate(p)) as { details: { causes: unknown[] } }
    assert.deepEqual(s.details.causes, [
      { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.volumes[2].hostPath.path' },
      { reason: 'FieldValueNotFound', message: 'Not found: "host-root"', field: 'spec.containers[0].volumeMounts[0].name' },
      { reason: 'FieldValueNotSupported', message: 'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"', field: 'spec.restartPolicy' },
      { reason: 'FieldValueNotSupported', message: 'Unsupported value: "Maybe": supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"', field: 'spec.dnsPolicy' }
    ])
  })

  test('restartPolicy on a regular container is forbidden', () => {
    const p = basePod()
    ;((p.spec as { containers: Array<Record<string, unknown>> }).containers[0] as Record<string, unknown>).restartPolicy = 'Always'
    const s = statusOf(() => validatePodCreate(p)) as { details: { causes: unknown[] } }
    assert.deepEqual(s.details.causes, [{ reason: 'FieldValueForbidden', message: 'Forbidden: may not be set for non-init containers', field: 'spec.containers[0].restartPolicy' }])
  })

  test('node debug pod shape is valid', () => {
    const p = defaultPod({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'node-debugger-node-1-abcde', namespace: 'demo', labels: { 'app.kubernetes.io/managed-by': 'kubectl-debug' } },
      spec: {
        nodeName: 'node-1',
        restartPolicy: 'Never',
        hostNetwork: true,
        hostPID: true,
        tolerations: [{ operator: 'Exists' }],
        volumes: [{ name: 'host-root', hostPath: { path: '/' } }],
        containers: [{ name: 'debugger', image: 'busybox', stdin: true, tty: true, terminationMessagePolicy: 'File', volumeMounts: [{ name: 'host-root', mountPath: '/host' }] }]
      }
    })
    validatePodCreate(p)
  })

  test('bad label value', () => {
    const p = basePod()
    p.metadata.labels = { app: 'bad value!' }
    const s = statusOf(() => validatePodCreate(p)) as { details: { causes: Array<{ field: string, message: string }> } }
    assert.equal(s.details.causes[0]?.field, 'metadata.labels')
    assert.match(s.details.causes[0]?.message ?? '', /^Invalid value: "bad value!": a valid label must be an empty string/)
  })
})

test('isDNS1123Label: dots get their own message', () => {
  assert.deepEqual(isDNS1123Label('a.b'), ['must not contain dots'])
  assert.deepEqual(isDNS1123Label('ok-name'), [])
})

test('end to end: kubectl debug PATCH body → prepare → default → validate (second debug container)', async () => {
  const { applyPatch } = await import('../../../src/sim/registry/patch.ts')
  const { podPatchMeta } = await import('../../../src/sim/registry/patch-meta.ts')
  const old = withEphemeral(basePod(), dbg)
  const body = JSON.stringify({
    spec: {
      '$setElementOrder/ephemeralContainers': [{ name: 'debugger' }, { name: 'debugger-x2k4z' }],
      ephemeralContainers: [{ image: 'busybox', name: 'debugger-x2k4z', resources: {}, targetContainerName: 'app', terminationMessagePolicy: 'File' }]
    }
  })
  const next = defaultEphemeralContainers(prepareEphemeralContainersUpdate(old, applyPatch(old, 'application/strategic-merge-patch+json', body, podPatchMeta)))
  validateEphemeralContainersUpdate(next, old)
  const ecs = (next.spec as { ephemeralContainers: Array<Record<string, unknown>> }).ephemeralContainers
  assert.deepEqual(ecs.map(c => c.name), ['debugger', 'debugger-x2k4z'])
  assert.equal(ecs[1]?.imagePullPolicy, 'Always')
  // the same body with ports is refused at index 1
  const bad = body.replace('"resources":{}', '"ports":[{"containerPort":80}]')
  const patched = defaultEphemeralContainers(prepareEphemeralContainersUpdate(old, applyPatch(old, 'application/strategic-merge-patch+json', bad, podPatchMeta)))
  const s = statusOf(() => validateEphemeralContainersUpdate(patched, old)) as { details: { causes: Array<{ field: string }> } }
  assert.deepEqual(s.details.causes.map(c => c.field), ['spec.ephemeralContainers[1].ports'])
})
