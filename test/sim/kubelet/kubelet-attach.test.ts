// The kubelet's half of pods/attach: tty comes from the container spec, the CRI
// streaming server refuses tty+stderr and no streams at all, and a container
// that is not running is "not found". On v5 (stream translator) the refusal
// arrives after the 101 as an InternalError Status on the error channel; on
// the proxied protocols (v4 …) it is the kubelet's plain-text HTTP answer.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { WebSocket } from 'ws'
import { startSim, type Sim } from '../../../src/sim/index.ts'
import { createPod, createShellPod } from '../../helpers/attach-stack.ts'
import { waitFor } from '../../helpers/sim-api.ts'

let sim: Sim
before(async () => { sim = await startSim({ startDelayMs: 5 }) })
after(async () => { await sim.close() })

interface Outcome { status: number, body?: string, contentType?: string, frames: Buffer[], closeCode?: number }

/** Opens an attach and collects everything until the server closes (or 300 ms of quiet after `until` matched). */
async function attach (pod: string, query: string, protocol: string, until?: (frames: Buffer[]) => boolean): Promise<Outcome & { ws?: WebSocket }> {
  const ws = new WebSocket(`${sim.url.replace(/^http/, 'ws')}/api/v1/namespaces/demo/pods/${pod}/attach?${query}`, [protocol], { headers: { authorization: `Bearer ${sim.tokens.admin ?? ''}` } })
  const frames: Buffer[] = []
  return await new Promise((resolve, reject) => {
    ws.once('unexpected-response', (_req, res) => {
      let body = ''
      res.on('data', (c: Buffer) => { body += c.toString() })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body, contentType: res.headers['content-type'], frames }); ws.terminate() })
    })
    ws.on('message', (d: Buffer) => {
      frames.push(d)
      if (until?.(frames)) resolve({ status: 101, frames, ws })
    })
    ws.once('close', (code) => resolve({ status: 101, frames, closeCode: code }))
    ws.once('error', reject)
  })
}

const errorStatus = (frames: Buffer[]): Record<string, unknown> | undefined => {
  const f = frames.find(b => b[0] === 3 && b.length > 1)
  return f ? JSON.parse(f.subarray(1).toString()) as Record<string, unknown> : undefined
}

test('tty container, tty=false + stderr (kubectl attach without -t): v4 gets the kubelet 500 text, v5 the InternalError Status after the 101', async () => {
  const pod = await createShellPod(sim, { tty: true })
  const q = 'container=sh&stdin=true&stdout=true&stderr=true'
  const v4 = await attach(pod, q, 'v4.channel.k8s.io')
  assert.equal(v4.status, 500)
  assert.equal(v4.body, 'rpc error: code = InvalidArgument desc = tty and stderr cannot both be true')
  assert.match(v4.contentType ?? '', /^text\/plain/)
  const v5 = await attach(pod, q, 'v5.channel.k8s.io')
  assert.equal(v5.status, 101)
  assert.deepEqual(v5.frames[0], Buffer.from([1]), 'readiness first')
  assert.deepEqual(errorStatus(v5.frames), {
    metadata: {},
    status: 'Failure',
    message: 'Internal error occurred: unable to upgrade connection: rpc error: code = InvalidArgument desc = tty and stderr cannot both be true',
    reason: 'InternalError',
    details: { causes: [{ message: 'unable to upgrade connection: rpc error: code = InvalidArgument desc = tty and stderr cannot both be true' }] },
    code: 500
  })
  assert.equal(v5.closeCode, 1000)
})

test('the requested tty is ignored: a tty container attached with tty=false and no stderr is a tty session (resize applies)', async () => {
  const pod = await createShellPod(sim, { tty: true })
  const r = await attach(pod, 'container=sh&stdin=true&stdout=true', 'v5.channel.k8s.io', f => f.length >= 1)
  assert.equal(r.status, 101)
  const ws = r.ws as WebSocket
  const proc = sim.processes.get('demo', pod, 'sh')
  assert.equal(proc?.tty, true)
  ws.send(Buffer.concat([Buffer.from([4]), Buffer.from('{"Width":120,"Height":40}')]))
  ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('stty size\r')]))
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no size echoed')), 5000)
    const check = (): void => { if (Buffer.concat(r.frames.filter(b => b[0] === 1).map(b => b.subarray(1))).toString().includes('40 120')) { clearTimeout(t); resolve() } }
    ws.on('message', check)
    check()
  })
  ws.close()
})

test('a requested tty drops stderr (NewOptions): tty=true + stderr attaches', async () => {
  const pod = await createShellPod(sim, { tty: true })
  const r = await attach(pod, 'container=sh&stdin=true&stdout=true&stderr=true&tty=true', 'v4.channel.k8s.io', f => f.length >= 1)
  assert.equal(r.status, 101)
  r.ws?.close()
})

test('no stream requested: the kubelet 400 text (v4) / the Status (v5)', async () => {
  const pod = await createShellPod(sim)
  const v4 = await attach(pod, 'container=sh', 'v4.channel.k8s.io')
  assert.deepEqual([v4.status, v4.body], [400, 'you must specify at least 1 of stdin, stdout, stderr'])
  const v5 = await attach(pod, 'container=sh', 'v5.channel.k8s.io')
  assert.equal(v5.status, 101)
  assert.deepEqual(v5.frames[0], Buffer.from([3]), 'readiness on the error channel when nothing else is writable')
  assert.equal(errorStatus(v5.frames)?.message, 'Internal error occurred: unable to upgrade connection: you must specify at least 1 of stdin, stdout, stderr')
})

test('a container that is not running is "not found in pod NAME_NAMESPACE" — not the logs wording', async () => {
  const auth = { authorization: `Bearer ${sim.tokens.admin ?? ''}`, 'content-type': 'application/json' }
  const res = await fetch(`${sim.url}/api/v1/namespaces/demo/pods`, { method: 'POST', headers: auth, body: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'pull-fails' }, spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'unreachable.invalid/x:1', stdin: true }] } }) })
  assert.equal(res.status, 201)
  const v4 = await attach('pull-fails', 'container=c&stdin=true&stdout=true&stderr=true', 'v4.channel.k8s.io')
  assert.deepEqual([v4.status, v4.body], [500, 'container c not found in pod pull-fails_demo'])
  const v5 = await attach('pull-fails', 'container=c&stdin=true&stdout=true&stderr=true', 'v5.channel.k8s.io')
  assert.equal(errorStatus(v5.frames)?.message, 'Internal error occurred: unable to upgrade connection: container c not found in pod pull-fails_demo')
  // an exited container likewise
  const done = await createPod(sim, { container: { name: 'c', image: 'busybox', command: ['sh', '-c', 'true'] } })
  await waitFor(() => sim.processes.get('demo', done, 'c')?.exited, 'the container to exit')
  const gone = await attach(done, 'container=c&stdout=true', 'v4.channel.k8s.io')
  assert.deepEqual([gone.status, gone.body], [500, `container c not found in pod ${done}_demo`])
})
