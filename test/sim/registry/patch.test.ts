import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { applyPatch, decodeGoJson } from '../../../src/sim/registry/patch.ts'
import { podPatchMeta } from '../../../src/sim/registry/patch-meta.ts'
import { StatusError } from '../../../src/sim/apimachinery/status.ts'
import type { KObject } from '../../../src/sim/apimachinery/types.ts'

const SMP = 'application/strategic-merge-patch+json'
const MERGE = 'application/merge-patch+json'
const JSONPATCH = 'application/json-patch+json'

function pod (): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'demo', labels: { app: 'web' } },
    spec: {
      containers: [{ name: 'app', image: 'nginx:1.27' }],
      ephemeralContainers: [{ name: 'debugger-abcde', image: 'busybox', terminationMessagePolicy: 'File' }]
    }
  }
}

function statusOf (fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    assert.ok(err instanceof StatusError, `expected StatusError, got ${String(err)}`)
    return err.status
  }
  assert.fail('expected a StatusError')
}

describe('strategic merge patch', () => {
  test('the body kubectl debug sends (with $setElementOrder) appends the new ephemeral container', () => {
    const body = JSON.stringify({
      spec: {
        '$setElementOrder/ephemeralContainers': [{ name: 'debugger-abcde' }, { name: 'debugger-xyz12' }],
        ephemeralContainers: [{ image: 'busybox', name: 'debugger-xyz12', resources: {}, stdin: true, targetContainerName: 'app', terminationMessagePolicy: 'File', tty: true }]
      }
    })
    const out = applyPatch(pod(), SMP, Buffer.from(body), podPatchMeta)
    const ecs = (out.spec as { ephemeralContainers: Array<{ name: string }> }).ephemeralContainers
    assert.deepEqual(ecs.map(c => c.name), ['debugger-abcde', 'debugger-xyz12'])
    assert.equal(JSON.stringify(out).includes('$setElementOrder'), false)
  })

  test('charset parameter in the content type is ignored', () => {
    const out = applyPatch(pod(), `${SMP}; charset=utf-8`, '{"metadata":{"labels":{"x":"y"}}}', podPatchMeta)
    assert.deepEqual(out.metadata.labels, { app: 'web', x: 'y' })
  })

  test('null body leaves the object unchanged', () => {
    assert.deepEqual(applyPatch(pod(), SMP, 'null', podPatchMeta), pod())
  })

  test('syntax error → 400 BadRequest with the Go decoder message', () => {
    assert.deepEqual(statusOf(() => applyPatch(pod(), SMP, '{"spec": x}', podPatchMeta)), {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      code: 400,
      reason: 'BadRequest',
      message: "invalid character 'x' looking for beginning of value"
    })
  })

  test('array body → 400 cannot unmarshal', () => {
    const s = statusOf(() => applyPatch(pod(), SMP, '[]', podPatchMeta)) as { code: number, message: string }
    assert.equal(s.code, 400)
    assert.equal(s.message, 'json: cannot unmarshal array into Go value of type map[string]interface {}')
  })

  test('missing merge key → 500 reason Unknown (a plain error in the apiserver)', () => {
    assert.deepEqual(statusOf(() => applyPatch(pod(), SMP, '{"spec":{"ephemeralContainers":[{"image":"busybox"}]}}', podPatchMeta)), {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      code: 500,
      reason: 'Unknown',
      message: 'map: map[image:busybox] does not contain declared merge key: name'
    })
  })

  test('bad $retainKeys → 400', () => {
    const s = statusOf(() => applyPatch(pod(), SMP, '{"metadata":{"$retainKeys":"x"}}', podPatchMeta)) as { code: number, message: string }
    assert.deepEqual([s.code, s.message], [400, 'invalid patch format of retainKeys'])
  })
})

describe('JSON merge patch', () => {
  test('RFC 7386: null deletes, lists replaced, nulls inside new objects pruned', () => {
    const out = applyPatch(pod(), MERGE, JSON.stringify({
      metadata: { labels: { app: null, tier: 'a' }, annotations: { a: 'b', c: null } },
      spec: { ephemeralContainers: [{ name: 'only' }] }
    }), podPatchMeta)
    assert.deepEqual(out.metadata.labels, { tier: 'a' })
    assert.deepEqual(out.metadata.annotations, { a: 'b' })
    assert.deepEqual((out.spec as { ephemeralContainers: unknown }).ephemeralContainers, [{ name: 'only' }])
  })

  test('non-object body → 400 error decoding patch', () => {
    const s = statusOf(() => applyPatch(pod(), MERGE, '"x"', podPatchMeta)) as { code: number, message: string, reason: string }
    assert.deepEqual([s.code, s.reason, s.message], [400, 'BadRequest', 'error decoding patch: json: cannot unmarshal string into Go value of type map[string]interface {}'])
  })

  test('truncated body → unexpected end of JSON input', () => {
    const s = statusOf(() => applyPatch(pod(), MERGE, '{"a":', podPatchMeta)) as { message: string }
    assert.equal(s.message, 'error decoding patch: unexpected end of JSON input')
  })
})

describe('JSON patch (evanphx/json-patch v4)', () => {
  test('add to the end of ephemeralContainers, test op passes', () => {
    const out = applyPatch(pod(), JSONPATCH, JSON.stringify([
      { op: 'test', path: '/metadata/name', value: 'web' },
      { op: 'add', path: '/spec/ephemeralContainers/-', value: { name: 'new', image: 'busybox' } },
      { op: 'replace', path: '/metadata/labels/app', value: 'x' },
      { op: 'remove', path: '/spec/containers/0' },
      { op: 'copy', from: '/metadata/labels', path: '/metadata/annotations' },
      { op: 'move', from: '/metadata/annotations/app', path: '/metadata/annotations/moved' }
    ]), podPatchMeta)
    const spec = out.spec as { containers: unknown[], ephemeralContainers: Array<{ name: string }> }
    assert.deepEqual(spec.ephemeralContainers.map(c => c.name), ['debugger-abcde', 'new'])
    assert.deepEqual(spec.containers, [])
    assert.deepEqual(out.metadata.labels, { app: 'x' })
    assert.deepEqual(out.metadata.annotations, { moved: 'x' })
  })

  test('replace of a missing object key behaves like add (v4 quirk)', () => {
    const out = applyPatch(pod(), JSONPATCH, '[{"op":"replace","path":"/metadata/labels/new","value":"v"}]', podPatchMeta)
    assert.deepEqual(out.metadata.labels, { app: 'web', new: 'v' })
  })

  const generic422 = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    code: 422,
    reason: 'Invalid',
    message: 'the server rejected our request due to an error in our request',
    details: {}
  }

  test('failed test op → 422 with the generic message', () => {
    assert.deepEqual(statusOf(() => applyPatch(pod(), JSONPATCH, '[{"op":"test","path":"/metadata/name","value":"other"}]', podPatchMeta)), generic422)
  })

  test('remove of a missing key, add under a missing parent, unknown op → 422', () => {
    for (const body of [
      '[{"op":"remove","path":"/metadata/nothere"}]',
      '[{"op":"add","path":"/nope/deeper/x","value":1}]',
      '[{"op":"frobnicate","path":"/metadata"}]',
      '[{"op":"add","path":"/spec/containers/5","value":{}}]'
    ]) {
      assert.deepEqual(statusOf(() => applyPatch(pod(), JSONPATCH, body, podPatchMeta)), generic422, body)
    }
  })

  test('object body → 400 error decoding patch', () => {
    const s = statusOf(() => applyPatch(pod(), JSONPATCH, '{}', podPatchMeta)) as { code: number, message: string }
    assert.deepEqual([s.code, s.message], [400, 'error decoding patch: json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp'])
  })

  test('wrong field type → 400', () => {
    const s = statusOf(() => applyPatch(pod(), JSONPATCH, '[{"op":"add","path":5}]', podPatchMeta)) as { message: string }
    assert.equal(s.message, 'error decoding patch: json: cannot unmarshal number into Go struct field jsonPatchOp.path of type string')
  })
})

test('unsupported content type → 415 listing the patch types', () => {
  assert.deepEqual(statusOf(() => applyPatch(pod(), 'application/json', '{}', podPatchMeta)), {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    code: 415,
    reason: 'UnsupportedMediaType',
    message: 'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml'
  })
})

describe('Go JSON decoder messages', () => {
  const cases: Array<[string, string]> = [
    ['', 'unexpected end of JSON input'],
    ['{', 'unexpected end of JSON input'],
    ['{a}', "invalid character 'a' looking for beginning of object key string"],
    ['{"a" 1}', "invalid character '1' after object key"],
    ['{"a":1 "b"}', 'invalid character \'"\' after object key:value pair'],
    ['[1 2]', "invalid character '2' after array element"],
    ['{"a":tru}', "invalid character '}' in literal true (expecting 'e')"],
    ['{"a":nul}', "invalid character '}' in literal null (expecting 'l')"],
    ['{} x', "invalid character 'x' after top-level value"],
    ['{"a":-x}', "invalid character 'x' in numeric literal"],
    ['{"a":1.}', "invalid character '}' after decimal point in numeric literal"],
    ['{"a":"\\q"}', "invalid character 'q' in string escape code"],
    ["{'a':1}", "invalid character '\\'' looking for beginning of object key string"],
    ['{"a":"\n"}', "invalid character '\\n' in string literal"]
  ]
  for (const [input, message] of cases) {
    test(JSON.stringify(input), () => assert.equal(decodeGoJson(input, 'map[string]interface {}').error, message))
  }
  test('valid input decodes', () => {
    assert.deepEqual(decodeGoJson(' {"a":[1,2.5e3,true,null,"x\\u00e9"]} ', 'map[string]interface {}').value, { a: [1, 2500, true, null, 'xé'] })
  })
})
