// The kubelet ends attach streams that carry no data for
// --streaming-connection-idle-timeout; WebSocket pings do not count.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { WebSocket } from 'ws'
import { startSim, type Sim } from '../../../src/sim/index.ts'
import { createShellPod } from '../../helpers/attach-stack.ts'

const sims: Sim[] = []
after(async () => { await Promise.all(sims.map(async s => { await s.close() })) })

test('an idle attach stream is closed without a Status; pings do not keep it open, data does', async () => {
  const sim = await startSim({ startDelayMs: 5, streamIdleTimeoutMs: 300 })
  sims.push(sim)
  const pod = await createShellPod(sim)
  const ws = new WebSocket(`${sim.url.replace(/^http/, 'ws')}/api/v1/namespaces/demo/pods/${pod}/attach?container=sh&stdin=true&stdout=true&stderr=true`, ['v5.channel.k8s.io'], { headers: { authorization: `Bearer ${sim.tokens.admin ?? ''}` } })
  const frames: Buffer[] = []
  ws.on('message', (d: Buffer) => frames.push(d))
  await new Promise(resolve => ws.once('open', resolve))
  // keep pinging; answer with data once, after the first pong
  const pinger = setInterval(() => ws.ping(), 50)
  let pongs = 0
  ws.on('pong', () => { if (++pongs === 1) ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('echo still-here\n')])) })
  const closed = await new Promise<number>(resolve => ws.once('close', resolve))
  clearInterval(pinger)
  assert.equal(closed, 1000)
  assert.ok(pongs >= 2, `pings were answered (${pongs}) and still did not keep the stream open`)
  assert.ok(Buffer.concat(frames.filter(f => f[0] === 1).map(f => f.subarray(1))).toString().includes('still-here'))
  assert.equal(frames.filter(f => f[0] === 3 && f.length > 1).length, 0, 'no Status on the error channel')
  assert.equal(sim.processes.get('demo', pod, 'sh')?.exited, false, 'the container runs on')
})
