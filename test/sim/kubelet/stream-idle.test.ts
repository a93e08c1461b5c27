// The kubelet ends attach streams that carry no data for
// --streaming-connection-idle-timeout; WebSocket pings do not count. The sim's
// idle deadline runs on manual timers, so each step below is a move of the
// clock, not a wait that a loaded machine could stretch.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { WebSocket } from 'ws'
import { startSim, type Sim } from '../../../src/sim/index.ts'
import { createShellPod } from '../../helpers/attach-stack.ts'
import { ManualTimers } from '../../helpers/manual-timers.ts'
import { loopTurns } from '../../helpers/event-loop.ts'

const sims: Sim[] = []
after(async () => { await Promise.all(sims.map(async s => { await s.close() })) })

test('an idle attach stream is closed without a Status; pings do not keep it open, data does', async () => {
  const timers = new ManualTimers()
  const sim = await startSim({ startDelayMs: 5, streamIdleTimeoutMs: 300, streamTimers: timers })
  sims.push(sim)
  const pod = await createShellPod(sim)
  const ws = new WebSocket(`${sim.url.replace(/^http/, 'ws')}/api/v1/namespaces/demo/pods/${pod}/attach?container=sh&stdin=true&stdout=true&stderr=true`, ['v5.channel.k8s.io'], { headers: { authorization: `Bearer ${sim.tokens.admin ?? ''}` } })
  const frames: Buffer[] = []
  ws.on('message', (d: Buffer) => frames.push(d))
  let closeCode: number | undefined
  const closed = new Promise<number>(resolve => ws.once('close', (code: number) => { closeCode = code; resolve(code) }))
  await once(ws, 'open')
  const stdout = (): string => Buffer.concat(frames.filter(f => f[0] === 1).map(f => f.subarray(1))).toString()
  const echo = async (word: string): Promise<void> => {
    ws.send(Buffer.concat([Buffer.from([0]), Buffer.from(`echo ${word}\n`)]))
    while (!stdout().includes(word)) await loopTurns(1)
    await loopTurns(5) // anything else the shell prints lands now, at the same clock reading
  }
  const pingPong = async (): Promise<void> => {
    ws.ping()
    await once(ws, 'pong')
  }
  const stillOpen = async (): Promise<void> => {
    await loopTurns(5)
    assert.equal(closeCode, undefined, 'the stream is still open')
  }

  await echo('first')
  timers.advance(200)
  await pingPong()
  await echo('second') // data at t = 200: the deadline moves to 500
  timers.advance(299)
  await stillOpen() // t = 499: the data kept it open (it would have closed at 300)
  await pingPong() // a pong at 499 does not move the deadline to 799
  timers.advance(1)
  assert.equal(await closed, 1000)
  assert.equal(frames.filter(f => f[0] === 3 && f.length > 1).length, 0, 'no Status on the error channel')
  assert.equal(sim.processes.get('demo', pod, 'sh')?.exited, false, 'the container runs on')
  assert.equal(timers.pending, 0, 'the ended stream left no deadline behind')
})
