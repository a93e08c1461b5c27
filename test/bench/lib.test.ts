import { test } from 'node:test'
import assert from 'node:assert/strict'
import { median, ratios } from '../../bench/lib/stats.ts'
import { pairRatio, runPairs } from '../../bench/lib/ab.ts'
import { formatTable } from '../../bench/lib/results.ts'
import { latencyRecorder } from '../../bench/lib/histogram.ts'

test('median and per-pair ratios', () => {
  assert.equal(median([3, 1, 2]), 2)
  assert.equal(median([4, 1, 2, 3]), 2.5)
  assert.ok(Number.isNaN(median([])))
  assert.deepEqual(ratios([50, 80, 90], [100, 100, 100]), { median: 0.8, min: 0.5, max: 0.9, ratios: [0.5, 0.8, 0.9] })
  assert.equal(ratios([2], [1], false).median, 0.5, 'lower is better: baseline ÷ gateway')
})

test('runPairs interleaves A B, B A, … with at least 3 pairs', async () => {
  const order: string[] = []
  let n = 0
  const res = await runPairs({
    pairs: 1,
    baseline: async () => { order.push('A'); return ++n },
    gateway: async () => { order.push('B'); return ++n * 10 }
  })
  assert.deepEqual(order, ['A', 'B', 'B', 'A', 'A', 'B'])
  assert.equal(res.baseline.length, 3)
  assert.equal(pairRatio(res, (x) => x).ratios.length, 3)
})

test('latency recorder and table', () => {
  const lat = latencyRecorder()
  for (let i = 1; i <= 100; i++) lat.recordUs(i * 10)
  const s = lat.summary()
  assert.equal(s.count, 100)
  assert.ok(s.p99Us >= 980 && s.p99Us <= 1000)
  const table = formatTable([{ scenario: 'audit', metric: 'x', unit: 'req/s', gateway: 700, baseline: 1000, ratio: 0.7, ratioMin: 0.6, ratioMax: 0.8, target: '≥ 0.7', pass: true }])
  assert.match(table, /audit\s+x\s+req\/s\s+700\s+1000\s+0\.7 \(0\.6–0\.8\)\s+≥ 0\.7\s+yes/)
})
