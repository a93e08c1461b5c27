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

test('starts pipelined, stays so while pipelining makes more records durable per millisecond, and probes less often while that holds', () => {
  const clock = { now: 0 }
  const p = new PipelinePolicy(clock.now, { window: 4, probeEvery: 3 })
  assert.equal(p.pipelined, true)
  const modes = run(p, clock, 20, 4, (pipelined) => pipelined ? 10 : 15)
  // Three windows, a two-window probe of lockstep, back; then six windows, a probe, back; then twelve.
  const P = true
  const L = false
  assert.deepEqual(modes, [P, P, P, L, L, P, P, P, P, P, P, L, L, P, P, P, P, P, P, P])
  assert.equal(p.pipelined, true)
})

test('moves to lockstep when pipelining does worse, and keeps probing it', () => {
  const clock = { now: 0 }
  const p = new PipelinePolicy(clock.now, { window: 4, probeEvery: 3 })
  const modes = run(p, clock, 12, 4, (pipelined) => pipelined ? 20 : 12)
  assert.deepEqual(modes, [true, true, true, false, false, false, false, false, true, true, false, false])
  assert.equal(p.pipelined, false)
})

test('follows a change of conditions', () => {
  const clock = { now: 0 }
  const p = new PipelinePolicy(clock.now, { window: 2, probeEvery: 2 })
  run(p, clock, 9, 2, (pipelined) => pipelined ? 20 : 12) // a saturated machine: lockstep wins
  assert.equal(p.pipelined, false)
  run(p, clock, 5, 2, (pipelined) => pipelined ? 8 : 12) // a core frees up: pipelining wins
  assert.equal(p.pipelined, true)
})
