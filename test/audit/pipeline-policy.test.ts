import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PipelinePolicy } from '../../src/audit/pipeline-policy.ts'

/** Feeds `windows` windows of `window` fdatasyncs, each window taking `msPerWindow(mode)` for `records` records. */
function run (p: PipelinePolicy, clock: { now: number }, windows: number, window: number, msPerWindow: (pipelined: boolean) => number): boolean[] {
  const modes: boolean[] = []
  for (let w = 0; w < windows; w++) {
    const pipelined = p.pipelined
    modes.push(pipelined)
    const step = msPerWindow(pipelined) / window
    for (let i = 0; i < window; i++) {
      clock.now += step
      p.synced(10, clock.now)
    }
  }
  return modes
}

const P = true
const L = false

test('starts in lockstep, tries pipelining after one window, keeps it while it does better and probes less often while that holds', () => {
  const clock = { now: 0 }
  const p = new PipelinePolicy(clock.now, { window: 4, probeEvery: 3 })
  assert.equal(p.pipelined, false)
  const modes = run(p, clock, 21, 4, (pipelined) => pipelined ? 10 : 15)
  // A warm-up window, one window, a two-window probe that switches; three windows, a probe of lockstep, back; then six, a probe, back; then twelve.
  assert.deepEqual(modes, [L, L, P, P, P, P, P, L, L, P, P, P, P, P, P, L, L, P, P, P, P])
  assert.equal(p.pipelined, true)
})

test('stays in lockstep when pipelining does worse, probing it less and less often', () => {
  const clock = { now: 0 }
  const p = new PipelinePolicy(clock.now, { window: 4, probeEvery: 3 })
  const modes = run(p, clock, 14, 4, (pipelined) => pipelined ? 20 : 12)
  assert.deepEqual(modes, [L, L, P, P, L, L, P, P, L, L, L, L, P, P])
  assert.equal(p.pipelined, false)
})

test('follows a change of conditions', () => {
  const clock = { now: 0 }
  const p = new PipelinePolicy(clock.now, { window: 2, probeEvery: 2 })
  run(p, clock, 8, 2, (pipelined) => pipelined ? 20 : 12) // a saturated machine: lockstep wins
  assert.equal(p.pipelined, false)
  run(p, clock, 10, 2, (pipelined) => pipelined ? 8 : 12) // a core frees up: pipelining wins
  assert.equal(p.pipelined, true)
})

test('a slow first window (cold code) does not count against lockstep', () => {
  const clock = { now: 0 }
  const p = new PipelinePolicy(clock.now, { window: 4, probeEvery: 3 })
  run(p, clock, 1, 4, () => 200) // the warm-up window: ten times slower than either mode
  const modes = run(p, clock, 4, 4, (pipelined) => pipelined ? 20 : 12)
  assert.deepEqual(modes, [L, P, P, L])
  assert.equal(p.pipelined, false)
})
