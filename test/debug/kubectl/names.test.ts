import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  debugContainerName, MAX_POD_NAME, nodeDebugPodName, podCopyName, randomSuffix, SUFFIX_ALPHABET
} from '../../../src/debug/kubectl/names.ts'
import { pod, suffixes } from '../../helpers/kubectl-fixtures.ts'

describe('randomSuffix', () => {
  test('uses apimachinery\'s alphabet', () => {
    assert.equal(SUFFIX_ALPHABET, 'bcdfghjklmnpqrstvwxz2456789')
    assert.equal(randomSuffix(5, () => 0), 'bbbbb')
    assert.equal(randomSuffix(3, () => 0.9999999), '999')
    assert.equal(randomSuffix(4, suffixes('x2z9')), 'x2z9')
  })

  test('only alphabet characters, requested length', () => {
    for (let i = 0; i < 200; i++) {
      const s = randomSuffix(5)
      assert.match(s, /^[bcdfghjklmnpqrstvwxz2456789]{5}$/)
    }
    assert.equal(randomSuffix(0), '')
  })
})

describe('debugContainerName', () => {
  test('debugger-xxxxx', () => {
    assert.equal(debugContainerName(pod({}), suffixes('kqz5v')), 'debugger-kqz5v')
  })

  test('regenerates on collision with containers, initContainers and ephemeralContainers', () => {
    const p = pod({}, {
      containers: [{ name: 'debugger-bbbbb' }],
      initContainers: [{ name: 'debugger-ccccc' }],
      ephemeralContainers: [{ name: 'debugger-ddddd' }]
    })
    assert.equal(debugContainerName(p, suffixes('bbbbb', 'ccccc', 'ddddd', 'fffff')), 'debugger-fffff')
  })
})

describe('nodeDebugPodName', () => {
  test('node-debugger-<node>-xxxxx, like kubectl', () => {
    assert.equal(nodeDebugPodName('node-XXX', suffixes('bbbbb')), 'node-debugger-node-XXX-bbbbb')
  })

  test('a node name near the 253 limit is cut so the pod name stays valid', () => {
    const name = nodeDebugPodName(`${'a'.repeat(230)}.${'b'.repeat(22)}`, suffixes('ccccc'))
    assert.equal(name, `node-debugger-${'a'.repeat(230)}.bb-ccccc`)
    assert.equal(name.length, MAX_POD_NAME)
    // a cut that would end in '.' drops it
    assert.equal(nodeDebugPodName(`${'a'.repeat(232)}.${'b'.repeat(20)}`, suffixes('ccccc')), `node-debugger-${'a'.repeat(232)}-ccccc`)
  })
})

describe('podCopyName', () => {
  test('<pod>-debug-xxxxx', () => {
    assert.equal(podCopyName('web-7d4f', suffixes('zzzzz')), 'web-7d4f-debug-zzzzz')
  })

  test('long pod names are cut without a trailing dash or dot', () => {
    const name = podCopyName(`${'a'.repeat(240)}-.b${'c'.repeat(20)}`, suffixes('bbbbb'))
    assert.ok(name.length <= MAX_POD_NAME)
    assert.equal(name, `${'a'.repeat(240)}-debug-bbbbb`)
  })
})
