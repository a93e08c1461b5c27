// The fallback path: an API server without the 1.30+ stream translator (v5 is
// not offered back; attach WebSockets are proxied to the kubelet, v4 at most).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startAttachStack, createShellPod, openWs, type AttachStack } from '../helpers/attach-stack.ts'
import { KdebugClient, ChannelClient } from '../helpers/attach-client.ts'

let s: AttachStack
const bearer = { authorization: 'Bearer alice-token' }

before(async () => { s = await startAttachStack({ sim: { streamTranslator: false } }) })
after(async () => { await s.close() })

test('kdebug.v1 over a v4 upstream: a tty container attached from a URL without tty, echo and exit', async () => {
  const pod = await createShellPod(s.sim, { tty: true })
  const { ws } = await openWs(`${s.wsUrl}/v1/namespaces/demo/pods/${pod}/attach?container=sh&cols=90&rows=20`, [], { headers: bearer })
  const c = new KdebugClient(ws)
  await c.waitControl('ready')
  c.send('size\r')
  await c.waitText('20 90')
  c.send('exit 0\r')
  assert.equal((await c.waitControl('exit')).code, 0)
  await c.closed
  for (let i = 0; i < 200 && s.attach.sessions.list().some(x => x.pod === pod); i++) await new Promise(resolve => setTimeout(resolve, 10))
  const end = (await s.audit()).filter(r => r.action === 'attach.end' && (r.target as { pod?: string }).pod === pod).at(-1) as { outcome?: { upstreamProtocol?: string } } & Record<string, unknown>
  assert.match(JSON.stringify(end), /"upstreamProtocol":"v4\.channel\.k8s\.io"/)
})

test('a v5 client over a v4 upstream keeps working (frames pass, CLOSE dropped)', async () => {
  const pod = await createShellPod(s.sim)
  const { ws, protocol } = await openWs(`${s.wsUrl}/v1/namespaces/demo/pods/${pod}/attach?container=sh`, ['v5.channel.k8s.io'], { headers: bearer })
  assert.equal(protocol, 'v5.channel.k8s.io')
  const c = new ChannelClient(ws)
  c.send(0, 'echo via-v4\n')
  await c.waitText('via-v4\n')
  ws.close()
  await c.closed
})

test('the kubelet\'s refusal on v4 comes back before the upgrade: 502 naming the node\'s text, never "API server unavailable"', async () => {
  const pod = await createShellPod(s.sim)
  s.sim.store.mutate('pods', 'demo', pod, p => {
    ;(p.spec as { containers: Array<Record<string, unknown>> }).containers.push({ name: 'ghost', image: 'busybox', stdin: true })
    ;(p.status as { containerStatuses: Array<Record<string, unknown>> }).containerStatuses.push({ name: 'ghost', ready: true, restartCount: 0, image: 'busybox', imageID: '', state: { running: { startedAt: '2026-01-01T00:00:00Z' } } })
  })
  const err = await openWs(`${s.wsUrl}/v1/namespaces/demo/pods/${pod}/attach?container=ghost`, [], { headers: bearer }).then(() => undefined, (e: Error & { status?: number, body?: string }) => e)
  assert.ok(err)
  assert.equal(err.status, 502)
  const problem = JSON.parse(err.body ?? '{}') as Record<string, unknown>
  assert.equal(problem.detail, `The kubelet refused the attach: container ghost not found in pod ${pod}_demo`)
  assert.equal(problem.upstreamStatus, 500)
  assert.notEqual(problem.title, 'Kubernetes API unavailable')
})
