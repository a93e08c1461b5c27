import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { DropRingBuffer, type DropEntry } from '../../src/drops/ring-buffer.ts'
import { makeDrop } from './fixtures.ts'

const seqs = (r: DropEntry[] | 'too-old') => r === 'too-old' ? r : r.map(e => e.seq)

describe('DropRingBuffer', () => {
  test('push assigns monotonic sequence numbers and ids', () => {
    const buf = new DropRingBuffer({ capacity: 3 })
    const a = buf.push('drop', makeDrop({ id: 'a' }))
    const b = buf.push('drop-update', makeDrop({ id: 'a', count: 2 }))
    assert.deepEqual([a.seq, a.id, a.event], [1, '1', 'drop'])
    assert.deepEqual([b.seq, b.id, b.event], [2, '2', 'drop-update'])
    assert.equal(buf.lastSeq, 2)
    assert.equal(buf.size, 2)
  })

  test('since: entries after the id, [] when up to date', () => {
    const buf = new DropRingBuffer({ capacity: 5 })
    for (let i = 0; i < 4; i++) buf.push('drop', makeDrop({ id: `d${i}` }))
    assert.deepEqual(seqs(buf.since('0')), [1, 2, 3, 4])
    assert.deepEqual(seqs(buf.since('2')), [3, 4])
    assert.deepEqual(seqs(buf.since(4)), [])
    const after3 = buf.since('3')
    assert.notEqual(after3, 'too-old')
    assert.deepEqual(after3 === 'too-old' ? after3 : after3.map(e => e.drop.id), ['d3'])
  })

  test('empty buffer: 0 is up to date, anything else is not ours', () => {
    const buf = new DropRingBuffer({ capacity: 2 })
    assert.deepEqual(buf.since('0'), [])
    assert.equal(buf.since('1'), 'too-old')
  })

  test('wrap-around keeps the newest capacity entries; older ids are too old', () => {
    const buf = new DropRingBuffer({ capacity: 3 })
    for (let i = 1; i <= 10; i++) buf.push('drop', makeDrop({ id: `d${i}` }))
    assert.equal(buf.firstSeq, 8)
    assert.equal(buf.size, 3)
    assert.deepEqual(buf.entries().map(e => e.seq), [8, 9, 10])
    assert.deepEqual(seqs(buf.since('7')), [8, 9, 10])
    assert.deepEqual(seqs(buf.since('9')), [10])
    assert.equal(buf.since('6'), 'too-old')
    assert.equal(buf.since('0'), 'too-old')
  })

  test('ids from the future, garbage or another epoch are too old', () => {
    const buf = new DropRingBuffer({ capacity: 3, epoch: 'r1x' })
    const e = buf.push('drop', makeDrop())
    assert.equal(e.id, 'r1x-1')
    assert.deepEqual(buf.since('r1x-1'), [])
    assert.deepEqual(seqs(buf.since('r1x-0')), [1])
    assert.equal(buf.since('1'), 'too-old')
    assert.equal(buf.since('r2y-0'), 'too-old')
    assert.equal(buf.since('r1x-5'), 'too-old')
    assert.equal(buf.since('r1x-abc'), 'too-old')
    assert.equal(buf.since(''), 'too-old')
    assert.equal(buf.since('r1x--1'), 'too-old')
    assert.equal(new DropRingBuffer({ capacity: 1 }).since('1e3'), 'too-old')
  })

  test('recentDrops: latest state per drop, newest first, limited', () => {
    const buf = new DropRingBuffer({ capacity: 10 })
    buf.push('drop', makeDrop({ id: 'a', count: 1 }))
    buf.push('drop', makeDrop({ id: 'b', count: 1 }))
    buf.push('drop-update', makeDrop({ id: 'a', count: 3 }))
    assert.deepEqual(buf.recentDrops().map(d => [d.id, d.count]), [['a', 3], ['b', 1]])
    assert.deepEqual(buf.recentDrops(1).map(d => d.id), ['a'])
  })

  test('rejects bad options', () => {
    assert.throws(() => new DropRingBuffer({ capacity: 0 }), RangeError)
    assert.throws(() => new DropRingBuffer({ capacity: 1.5 }), RangeError)
    assert.throws(() => new DropRingBuffer({ capacity: 1, epoch: 'a-b' }), RangeError)
    assert.throws(() => new DropRingBuffer({ capacity: 1, epoch: 'a\nb' }), RangeError)
  })
})
