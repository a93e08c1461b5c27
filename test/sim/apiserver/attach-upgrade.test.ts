// The sim's attach upgrade: subprotocols the real servers cannot speak fail
// the handshake (x/net/websocket answers 403 with an empty body).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { WebSocket } from 'ws'
import { startSim, type Sim } from '../../../src/sim/index.ts'
import { createShellPod } from '../../helpers/attach-stack.ts'

let sim: Sim
before(async () => { sim = await startSim({ startDelayMs: 5 }) })
after(async () => { await sim.close() })

async function handshake (pod: string, protocols: string[]): Promise<{ status: number, protocol?: string }> {
  const ws = new WebSocket(`${sim.url.replace(/^http/, 'ws')}/api/v1/namespaces/demo/pods/${pod}/attach?container=sh&stdin=true&stdout=true`, protocols, { headers: { authorization: `Bearer ${sim.tokens.admin ?? ''}` } })
  return await new Promise((resolve, reject) => {
    ws.once('unexpected-response', (_req, res) => { resolve({ status: res.statusCode ?? 0 }); ws.terminate() })
    ws.once('open', () => { resolve({ status: 101, protocol: ws.protocol }); ws.close() })
    ws.once('error', reject)
  })
}

test('an unsupported subprotocol is refused with 403; v5 and v4 are accepted', async () => {
  const pod = await createShellPod(sim)
  assert.deepEqual(await handshake(pod, ['bogus.channel.k8s.io']), { status: 403 })
  assert.deepEqual(await handshake(pod, ['v5.channel.k8s.io']), { status: 101, protocol: 'v5.channel.k8s.io' })
  assert.deepEqual(await handshake(pod, ['v4.channel.k8s.io']), { status: 101, protocol: 'v4.channel.k8s.io' })
})
