// Cases transcribed from apimachinery pkg/util/strategicpatch/patch_test.go (MergeItem schema).
// kubectl's --custom cases are in test/debug/kubectl/custom-marshal.test.ts.
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { parse } from 'yaml'
import { strategicMergePatch, goFormat, type PatchMeta } from '../../src/lib/strategic-merge.ts'
import { podPatchMeta } from '../../src/sim/registry/patch-meta.ts'

// type MergeItem struct tags from patch_test.go
const retainKeysItemMeta: PatchMeta = { fields: {} }
const mergeItemMeta: PatchMeta = { fields: {} }
Object.assign(mergeItemMeta.fields as object, {
  mergingList: { mergeKey: 'name', fields: mergeItemMeta.fields },
  nonMergingList: { fields: mergeItemMeta.fields },
  mergingIntList: { patchStrategy: 'merge' },
  nonMergingIntList: {},
  mergeItemPtr: { mergeKey: 'name', fields: mergeItemMeta.fields },
  simpleMap: {},
  replacingItem: { patchStrategy: 'replace' },
  retainKeysMap: retainKeysItemMeta,
  retainKeysMergingList: { mergeKey: 'name', fields: mergeItemMeta.fields }
})
Object.assign(retainKeysItemMeta.fields as object, {
  mergingIntList: { patchStrategy: 'merge' },
  mergingList: { mergeKey: 'name', fields: mergeItemMeta.fields }
})

function y (s: string): unknown {
  return parse(s) ?? {}
}

describe('customStrategicMergePatchTestCaseData', () => {
  const cases: Array<[string, string, string, string]> = [
    ['unique scalars when merging lists', 'mergingIntList: [1, 2]', 'mergingIntList: [2, 3]', 'mergingIntList: [1, 2, 3]'],
    ['delete map from nested map', 'simpleMap: {key1: 1, key2: 1}', 'simpleMap: {$patch: delete}', 'simpleMap: {}'],
    ['delete all items from merging list', 'mergingList: [{name: 1}, {name: 2}]', 'mergingList: [{$patch: replace}]', 'mergingList: []'],
    ['merge empty merging lists', 'mergingList: []', 'mergingList: []', 'mergingList: []'],
    ['delete all keys from map', '{name: 1, value: 1}', '{$patch: replace}', '{}'],
    ['add key and delete all keys from map', '{name: 1, value: 1}', '{other: a, $patch: replace}', '{other: a}'],
    ['de-duplicate entries in a merging list',
      'mergingList: [{name: 1}, {name: 1}, {name: 2, value: a}, {name: 3}, {name: 3}]',
      'mergingList: [{name: 1, $patch: delete}, {name: 3, $patch: delete}]',
      'mergingList: [{name: 1}, {name: 2, value: a}, {name: 3}]'],
    ['delete all duplicate entries in a merging list',
      'mergingList: [{name: 1}, {name: 1}, {name: 2, value: a}, {name: 3}, {name: 3}]',
      'mergingList: [{name: 1, $patch: delete}, {name: 1, $patch: delete}, {name: 3, $patch: delete}, {name: 3, $patch: delete}]',
      'mergingList: [{name: 2, value: a}]'],
    ['retainKeys map can add a field when no retainKeys directive present', 'retainKeysMap: {name: foo}', 'retainKeysMap: {value: bar}', 'retainKeysMap: {name: foo, value: bar}'],
    ['retainKeys map can change a field', 'retainKeysMap: {name: foo, value: a}', 'retainKeysMap: {value: b}', 'retainKeysMap: {name: foo, value: b}'],
    ['retainKeys map can delete a field', 'retainKeysMap: {name: foo, value: a}', 'retainKeysMap: {value: null}', 'retainKeysMap: {name: foo}'],
    ['retainKeys map merge an empty map', 'retainKeysMap: {name: foo, value: a}', 'retainKeysMap: {}', 'retainKeysMap: {name: foo, value: a}'],
    ['retainKeys list can add a field', 'retainKeysMergingList: [{name: bar}, {name: foo}]', 'retainKeysMergingList: [{name: foo, value: a}]', 'retainKeysMergingList: [{name: bar}, {name: foo, value: a}]'],
    ['retainKeys list can delete a field', 'retainKeysMergingList: [{name: bar}, {name: foo, value: a}]', 'retainKeysMergingList: [{name: foo, value: null}]', 'retainKeysMergingList: [{name: bar}, {name: foo}]'],
    ['preserve the order from the patch in a merging list',
      'mergingList: [{name: 1}, {name: 2, value: b}, {name: 3}]',
      'mergingList: [{name: 3, value: c}, {name: 1, value: a}, {name: 2, other: x}]',
      'mergingList: [{name: 3, value: c}, {name: 1, value: a}, {name: 2, value: b, other: x}]'],
    ['preserve the order from the patch in a merging list 2',
      'mergingList: [{name: 1}, {name: 2, value: b}, {name: 3}]',
      'mergingList: [{name: 3, value: c}, {name: 1, value: a}]',
      'mergingList: [{name: 2, value: b}, {name: 3, value: c}, {name: 1, value: a}]'],
    ['preserve the order from the patch in a merging int list', 'mergingIntList: [1, 2, 3]', 'mergingIntList: [3, 1, 2]', 'mergingIntList: [3, 1, 2]'],
    ['preserve the order from the patch in a merging int list 2', 'mergingIntList: [1, 2, 3]', 'mergingIntList: [3, 1]', 'mergingIntList: [2, 3, 1]'],
    ['$setElementOrder contains item that is not present in the list to be merged',
      'mergingList: [{name: 1}, {name: 3}]',
      '{$setElementOrder/mergingList: [{name: 3}, {name: 2}, {name: 1}], mergingList: [{name: 3, value: 3}, {name: 1, value: 1}]}',
      'mergingList: [{name: 3, value: 3}, {name: 1, value: 1}]'],
    ['$setElementOrder contains item that is not present in the int list to be merged',
      'mergingIntList: [1, 3]', '$setElementOrder/mergingIntList: [3, 2, 1]', 'mergingIntList: [3, 1]']
  ]
  for (const [name, original, patch, want] of cases) {
    test(name, () => assert.deepEqual(strategicMergePatch(y(original), y(patch), mergeItemMeta), y(want)))
  }

  const errors: Array<[string, string, string, string | RegExp]> = [
    ['should check if order in $setElementOrder and patch list match',
      'mergingList: [{name: 1}, {name: 3}, {name: 2}]',
      '{$setElementOrder/mergingList: [{name: 1}, {name: 2}, {name: 3}], mergingList: [{name: 3, value: 3}, {name: 1, value: 1}]}',
      /doesn't match/],
    ['should check if order in $setElementOrder and int patch list match',
      'mergingIntList: [1, 3, 2]', '{$setElementOrder/mergingIntList: [1, 2, 3], mergingIntList: [3, 1]}', /doesn't match/],
    ['missing merge key should error out', 'mergingList: [{name: 1, value: a}]', 'mergingList: [{value: b}]',
      'map: map[value:b] does not contain declared merge key: name']
  ]
  for (const [name, original, patch, err] of errors) {
    test(name, () => assert.throws(() => strategicMergePatch(y(original), y(patch), mergeItemMeta), { message: err }))
  }
})

describe('createStrategicMergePatchTestCaseData / raw cases (twoWay on original, threeWay on current)', () => {
  const cases: Array<[string, string, string, string]> = [
    ['nil original', '{}', '{name: 1, value: 1}', '{name: 1, value: 1}'],
    ['add field to map (3-way)', '{name: 1, other: a}', '{value: 1}', '{name: 1, value: 1, other: a}'],
    ['add field and delete field from map', '{name: 1, other: a}', '{name: null, value: 1}', '{value: 1, other: a}'],
    ['delete field from nested map', 'simpleMap: {key1: 1, key2: 1, other: a}', 'simpleMap: {key2: null}', 'simpleMap: {key1: 1, other: a}'],
    ['delete all fields from map with conflict', '{name: 1, value: a, other: a}', '{name: null, value: null}', '{other: a}'],
    ['replace list of scalars', 'nonMergingIntList: [1, 4]', 'nonMergingIntList: [2, 3]', 'nonMergingIntList: [2, 3]'],
    ['delete all maps from merging list with conflict',
      'mergingList: [{name: 1, other: a}, {name: 2, other: b}]',
      'mergingList: [{name: 1, $patch: delete}, {name: 2, $patch: delete}]', 'mergingList: []'],
    ['delete all maps from empty merging list', 'mergingList: []', 'mergingList: [{name: 1, $patch: delete}, {name: 2, $patch: delete}]', 'mergingList: []'],
    ['defined null values should propagate overwrite current fields', '{name: a, other: a}', '{name: 1, value: 1, other: null}', '{name: 1, value: 1}'],
    ['null for a missing key is ignored', '{name: 2}', '{name: 1, value: 1, other: null}', '{name: 1, value: 1}'],
    ['delete items in lists of scalars', 'mergingIntList: [1, 2, 3, 4]',
      '{$setElementOrder/mergingIntList: [1, 2], $deleteFromPrimitiveList/mergingIntList: [3]}', 'mergingIntList: [1, 2, 4]'],
    ['delete all duplicate items in lists of scalars', 'mergingIntList: [1, 2, 3, 3, 4]',
      '{$setElementOrder/mergingIntList: [1, 2], $deleteFromPrimitiveList/mergingIntList: [3]}', 'mergingIntList: [1, 2, 4]'],
    ['add and delete items in lists of scalars', 'mergingIntList: [1, 2, 3]',
      '{$setElementOrder/mergingIntList: [1, 2, 4], $deleteFromPrimitiveList/mergingIntList: [3], mergingIntList: [4]}', 'mergingIntList: [1, 2, 4]'],
    ['merge lists of maps', 'mergingList: [{name: 1, other: a}, {name: 2, value: 2, other: b}]',
      '{$setElementOrder/mergingList: [{name: 4}, {name: 1}, {name: 2}, {name: 3}], mergingList: [{name: 4, value: 4}, {name: 3, value: 3}]}',
      'mergingList: [{name: 4, value: 4}, {name: 1, other: a}, {name: 2, value: 2, other: b}, {name: 3, value: 3}]'],
    ['merge lists of maps with conflict', 'mergingList: [{name: 1, other: a}, {name: 2, value: 3, other: b}]',
      '{$setElementOrder/mergingList: [{name: 1}, {name: 2}, {name: 3}], mergingList: [{name: 2, value: 2}, {name: 3, value: 3}]}',
      'mergingList: [{name: 1, other: a}, {name: 2, value: 2, other: b}, {name: 3, value: 3}]'],
    ['add field to map in merging list', 'mergingList: [{name: 1, other: a}, {name: 2, value: 2, other: b}]',
      '{$setElementOrder/mergingList: [{name: 1}, {name: 2}], mergingList: [{name: 1, value: 1}]}',
      'mergingList: [{name: 1, value: 1, other: a}, {name: 2, value: 2, other: b}]'],
    ['retainKeys directive clears fields not listed', 'retainKeysMap: {name: foo, value: a, other: b}',
      'retainKeysMap: {$retainKeys: [name, value], value: c}', 'retainKeysMap: {name: foo, value: c}'],
    ['replace strategy field is replaced, not merged', 'replacingItem: {a: 1, b: 2}', 'replacingItem: {c: 3}', 'replacingItem: {c: 3}'],
    ['type change takes the patch value', '{name: {a: 1}}', '{name: x}', '{name: x}'],
    ['a list missing from the original is taken verbatim (directives kept, as in Go)', '{}',
      'mergingList: [{name: 1, $patch: delete}]', 'mergingList: [{name: 1, $patch: delete}]']
  ]
  for (const [name, current, patch, want] of cases) {
    test(name, () => assert.deepEqual(strategicMergePatch(y(current), y(patch), mergeItemMeta), y(want)))
  }

  test('retainKeys list must cover all patch keys', () => {
    assert.throws(() => strategicMergePatch(y('retainKeysMap: {name: foo}'), y('retainKeysMap: {$retainKeys: [name], value: c}'), mergeItemMeta),
      { message: 'invalid patch format of retainKeys' })
  })
  test('$patch: merge in a list is refused', () => {
    assert.throws(() => strategicMergePatch(y('mergingList: [{name: 1}]'), y('mergingList: [{$patch: merge}]'), mergeItemMeta),
      { message: 'merging lists cannot yet be specified in the patch' })
  })
  test('unknown $patch value in a map', () => {
    assert.throws(() => strategicMergePatch(y('simpleMap: {a: b}'), y('simpleMap: {$patch: foo}'), mergeItemMeta),
      { message: 'unknown patch type: foo in map: map[$patch:foo]' })
  })
  test('mixed element types', () => {
    assert.throws(() => strategicMergePatch(y('mergingIntList: [1]'), y('mergingIntList: [a]'), mergeItemMeta),
      { message: /^list element types are not identical/ })
  })
  test('inputs are not mutated', () => {
    const original = y('mergingList: [{name: 1, value: a}]')
    const patch = y('mergingList: [{name: 1, value: b}]')
    const before = JSON.stringify([original, patch])
    strategicMergePatch(original, patch, mergeItemMeta)
    assert.equal(JSON.stringify([original, patch]), before)
  })
})

describe('Pod patch meta', () => {
  const pod = {
    metadata: { name: 'web', labels: { app: 'web' }, finalizers: ['a'] },
    spec: {
      containers: [{ name: 'app', image: 'nginx', env: [{ name: 'A', value: '1' }] }],
      ephemeralContainers: [{ name: 'dbg-1', image: 'busybox' }],
      tolerations: [{ key: 'x', operator: 'Exists' }]
    }
  }

  test('kubectl debug body: $setElementOrder puts the new ephemeral container last', () => {
    const out = strategicMergePatch(pod, {
      spec: {
        '$setElementOrder/ephemeralContainers': [{ name: 'dbg-1' }, { name: 'dbg-2' }],
        ephemeralContainers: [{ image: 'busybox', name: 'dbg-2', resources: {}, terminationMessagePolicy: 'File' }]
      }
    }, podPatchMeta)
    assert.deepEqual(out.spec.ephemeralContainers.map(c => c.name), ['dbg-1', 'dbg-2'])
  })

  test('without $setElementOrder a new list item lands before the existing ones (Go mergeSortedSlice)', () => {
    const out = strategicMergePatch(pod, { spec: { ephemeralContainers: [{ name: 'dbg-2', image: 'busybox' }] } }, podPatchMeta)
    assert.deepEqual(out.spec.ephemeralContainers.map(c => c.name), ['dbg-2', 'dbg-1'])
  })

  test('containers merge by name, env by name, tolerations replaced, labels merged, finalizers as a set', () => {
    const out = strategicMergePatch(pod, {
      metadata: { labels: { tier: 'x' }, finalizers: ['b', 'a'] },
      spec: { containers: [{ name: 'app', env: [{ name: 'B', value: '2' }] }], tolerations: [{ operator: 'Exists' }] }
    }, podPatchMeta)
    assert.deepEqual(out.metadata.labels, { app: 'web', tier: 'x' })
    assert.deepEqual(out.metadata.finalizers, ['b', 'a'])
    assert.deepEqual(out.spec.containers, [{ name: 'app', image: 'nginx', env: [{ name: 'B', value: '2' }, { name: 'A', value: '1' }] }])
    assert.deepEqual(out.spec.tolerations, [{ operator: 'Exists' }])
  })

  test('ephemeral container without name → missing merge key error text', () => {
    assert.throws(() => strategicMergePatch(pod, { spec: { ephemeralContainers: [{ image: 'busybox', tty: true }] } }, podPatchMeta),
      { message: 'map: map[image:busybox tty:true] does not contain declared merge key: name' })
  })

  test('$deleteFromPrimitiveList on finalizers', () => {
    const out = strategicMergePatch({ metadata: { finalizers: ['a', 'b', 'c'] } }, { metadata: { '$deleteFromPrimitiveList/finalizers': ['b'] } }, podPatchMeta)
    assert.deepEqual(out.metadata.finalizers, ['a', 'c'])
  })

  test('goFormat prints like fmt %v', () => {
    assert.equal(goFormat({ b: [1, 'x'], a: { c: true, d: null } }), 'map[a:map[c:true d:<nil>] b:[1 x]]')
    assert.equal(goFormat(1.5), '1.5')
  })
})
