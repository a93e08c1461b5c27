import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { applyCustom, CUSTOM_FORBIDDEN_MESSAGE, normalizeCustom } from '../../../src/debug/kubectl/custom.ts'
import { SpecError } from '../../../src/debug/kubectl/spec-error.ts'

function fails (custom: unknown, field: string, message: RegExp | string): void {
  assert.throws(() => normalizeCustom(custom), (err: unknown) => {
    assert.ok(err instanceof SpecError, String(err))
    assert.equal(err.field, field)
    if (typeof message === 'string') assert.equal(err.message, message)
    else assert.match(err.message, message)
    return true
  })
}

describe('normalizeCustom', () => {
  test('kubectl\'s forbidden fields', () => {
    fails({ name: 'x' }, 'custom.name', CUSTOM_FORBIDDEN_MESSAGE)
    fails({ command: ['sh'] }, 'custom.command', CUSTOM_FORBIDDEN_MESSAGE)
    fails({ image: 'evil' }, 'custom.image', CUSTOM_FORBIDDEN_MESSAGE)
    fails({ lifecycle: {} }, 'custom.lifecycle', CUSTOM_FORBIDDEN_MESSAGE)
    fails({ volumeDevices: [{ name: 'd', devicePath: '/dev/x' }] }, 'custom.volumeDevices', CUSTOM_FORBIDDEN_MESSAGE)
  })

  test('zero values pass like in kubectl (Go sees them as unset)', () => {
    assert.deepEqual(normalizeCustom({ name: '', command: [], image: '', lifecycle: null, volumeDevices: [] }), {})
  })

  test('omitempty: false booleans, empty strings and lists and nulls are dropped', () => {
    assert.deepEqual(normalizeCustom({ stdin: false, tty: false, workingDir: '', args: [], securityContext: { privileged: false, runAsUser: null } }), {
      securityContext: { privileged: false }
    })
  })

  test('stricter than kubectl: unknown fields, wrong types and patch directives are 400s', () => {
    fails({ imagePulPolicy: 'Always' }, 'custom.imagePulPolicy', /unknown container field/)
    fails({ targetContainerName: 'app' }, 'custom.targetContainerName', /unknown container field/)
    fails({ env: { A: '1' } }, 'custom.env', /must be an array/)
    fails({ stdin: 'yes' }, 'custom.stdin', /must be a boolean/)
    fails({ securityContext: { $patch: 'replace' } }, 'custom.securityContext.$patch', /directive/)
    fails({ env: [{ name: 'A', $patch: 'delete' }] }, 'custom.env[0].$patch', /directive/)
    fails(['x'], 'custom', /JSON object/)
  })

  test('attribution env names are reserved', () => {
    fails({ env: [{ name: 'KDEBUG_SESSION', value: 'x' }] }, 'custom.env[0].name', /reserved/)
  })
})

describe('applyCustom', () => {
  test('maps merge field by field, env by name, volumeMounts by mountPath', () => {
    const container = {
      name: 'dbg',
      image: 'busybox',
      env: [{ name: 'A', value: '1' }],
      volumeMounts: [{ mountPath: '/host', name: 'host-root' }],
      securityContext: { privileged: true, capabilities: { add: ['SYS_PTRACE'] } }
    }
    const custom = normalizeCustom({
      env: [{ name: 'A', value: '2' }, { name: 'B', value: '3' }],
      volumeMounts: [{ mountPath: '/host', name: 'host-root', readOnly: true }],
      securityContext: { runAsUser: 0, capabilities: { add: ['NET_ADMIN'] } }
    })
    const out = applyCustom(container, custom)
    assert.equal(out.name, 'dbg')
    assert.equal(out.image, 'busybox')
    assert.deepEqual(out.volumeMounts, [{ mountPath: '/host', name: 'host-root', readOnly: true }])
    assert.deepEqual(new Set(out.env?.map(e => `${e.name}=${e.value ?? ''}`)), new Set(['A=2', 'B=3']))
    // capabilities.add is a plain list: replaced, not merged
    assert.deepEqual(out.securityContext, { privileged: true, runAsUser: 0, capabilities: { add: ['NET_ADMIN'] } })
  })

  test('custom cannot switch stdin/tty off', () => {
    const out = applyCustom({ name: 'dbg', stdin: true, tty: true }, normalizeCustom({ stdin: false, tty: false }))
    assert.equal(out.stdin, true)
    assert.equal(out.tty, true)
  })
})
