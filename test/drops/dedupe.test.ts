import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { DropDeduper, type WatchEventType } from '../../src/drops/dedupe.ts'
import type { Drop } from '../../src/drops/types.ts'
import { makeDrop } from './fixtures.ts'

const d = (id: string, count: number, rv: number | string | null, extra: Partial<Drop> = {}) =>
  makeDrop({ id, count, resourceVersion: rv === null ? null : String(rv), ...extra })

function run (dd: DropDeduper, steps: Array<[WatchEventType, Drop]>): string[] {
  return steps.map(([type, drop]) => {
    const r = dd.observe(type, drop)
    return r === undefined ? '-' : `${r.event}:${r.drop.id}:${r.drop.count}`
  })
}

describe('DropDeduper', () => {
  test('new drops, count updates, same-count modifications, deletions', () => {
    const dd = new DropDeduper({ maxEntries: 100 })
    assert.deepEqual(run(dd, [
      ['ADDED', d('a', 1, 10)],
      ['MODIFIED', d('a', 2, 11)],
      ['MODIFIED', d('a', 2, 12)], // e.g. only lastTimestamp changed
      ['ADDED', d('b', 1, 13)],
      ['MODIFIED', d('a', 5, 14)],
      ['DELETED', d('b', 1, 15)]
    ]), ['drop:a:1', 'drop-update:a:2', '-', 'drop:b:1', 'drop-update:a:5', '-'])
    assert.equal(dd.has('b'), false)
    assert.equal(dd.watermark, '15')
  })

  test('the update carries the new object (Cilium may replace the message)', () => {
    const dd = new DropDeduper({ maxEntries: 10 })
    dd.observe('ADDED', d('a', 1, 1, { port: 80 }))
    const r = dd.observe('MODIFIED', d('a', 2, 2, { port: 443 }))
    assert.equal(r?.event, 'drop-update')
    assert.equal(r?.drop.port, 443)
  })

  test('a MODIFIED for an unseen uid is a new drop with its count', () => {
    const dd = new DropDeduper({ maxEntries: 10 })
    assert.deepEqual(run(dd, [['MODIFIED', d('x', 7, 50)]]), ['drop:x:7'])
  })

  test('relist after 410 yields no duplicates, only what changed in the gap', () => {
    const dd = new DropDeduper({ maxEntries: 100 })
    // initial list (unordered RVs), then the list RV, then the watch
    assert.deepEqual(run(dd, [['LISTED', d('a', 1, 20)], ['LISTED', d('b', 3, 10)]]), ['drop:a:1', 'drop:b:3'])
    dd.noteResourceVersion('25')
    assert.deepEqual(run(dd, [['ADDED', d('c', 1, 30)], ['MODIFIED', d('a', 2, 31)]]), ['drop:c:1', 'drop-update:a:2'])
    // watch expires with 410; changes at 35..40 were missed; the re-list returns everything
    const relist = run(dd, [
      ['LISTED', d('c', 1, 30)], // unchanged
      ['LISTED', d('e', 1, 40)], // created in the gap
      ['LISTED', d('a', 4, 38)], // counted up in the gap
      ['LISTED', d('b', 3, 10)], // unchanged
      ['LISTED', d('f', 1, 36)] //  created in the gap, listed after a higher RV
    ])
    assert.deepEqual(relist, ['-', 'drop:e:1', 'drop-update:a:4', '-', 'drop:f:1'])
    dd.noteResourceVersion('41')
    // the watch resumes; replays of the same state stay silent
    assert.deepEqual(run(dd, [['MODIFIED', d('a', 4, 38)], ['MODIFIED', d('e', 2, 42)]]), ['-', 'drop-update:e:2'])
  })

  test('resumed watch replaying already-seen events emits nothing', () => {
    const dd = new DropDeduper({ maxEntries: 100 })
    const events: Array<[WatchEventType, Drop]> = [['ADDED', d('a', 1, 1)], ['MODIFIED', d('a', 2, 2)], ['ADDED', d('b', 1, 3)]]
    assert.deepEqual(run(dd, events), ['drop:a:1', 'drop-update:a:2', 'drop:b:1'])
    assert.deepEqual(run(dd, events), ['-', '-', '-'])
  })

  test('a stale older version never rolls the count back', () => {
    const dd = new DropDeduper({ maxEntries: 10 })
    assert.deepEqual(run(dd, [
      ['ADDED', d('a', 1, 1)],
      ['MODIFIED', d('a', 3, 5)],
      ['LISTED', d('a', 2, 3)],
      ['MODIFIED', d('a', 3, 5)],
      ['MODIFIED', d('a', 4, 6)]
    ]), ['drop:a:1', 'drop-update:a:3', '-', '-', 'drop-update:a:4'])
  })

  test('LRU bound: memory stays at maxEntries, recently used ids survive', () => {
    const dd = new DropDeduper({ maxEntries: 3 })
    for (let i = 1; i <= 50; i++) dd.observe('ADDED', d(`e${i}`, 1, i))
    assert.equal(dd.size, 3)
    assert.deepEqual(['e48', 'e49', 'e50'].map(id => dd.has(id)), [true, true, true])
    assert.equal(dd.has('e1'), false)
    // touching e48 makes e49 the oldest
    dd.observe('MODIFIED', d('e48', 2, 51))
    dd.observe('ADDED', d('e52', 1, 52))
    assert.deepEqual(['e48', 'e49', 'e50', 'e52'].map(id => dd.has(id)), [true, false, true, true])
  })

  test('evicted ids coming back in a re-list are not re-sent (watermark)', () => {
    const dd = new DropDeduper({ maxEntries: 2 })
    assert.deepEqual(run(dd, [['ADDED', d('a', 1, 1)], ['ADDED', d('b', 1, 2)], ['ADDED', d('c', 1, 3)]]),
      ['drop:a:1', 'drop:b:1', 'drop:c:1'])
    assert.equal(dd.has('a'), false)
    assert.deepEqual(run(dd, [['LISTED', d('a', 1, 1)], ['LISTED', d('b', 1, 2)], ['LISTED', d('c', 1, 3)], ['LISTED', d('z', 1, 4)]]),
      ['-', '-', '-', 'drop:z:1'])
  })

  test('opaque (non-numeric) resourceVersions fall back to the uid/count check', () => {
    const dd = new DropDeduper({ maxEntries: 10 })
    assert.deepEqual(run(dd, [
      ['ADDED', d('a', 1, 'abc')],
      ['LISTED', d('a', 1, 'abd')],
      ['MODIFIED', d('a', 2, 'xyz')],
      ['LISTED', d('b', 1, null)]
    ]), ['drop:a:1', '-', 'drop-update:a:2', 'drop:b:1'])
    assert.equal(dd.watermark, undefined)
  })

  test('rejects a bad size', () => {
    assert.throws(() => new DropDeduper({ maxEntries: 0 }), RangeError)
  })
})
