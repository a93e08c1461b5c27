// Attach against a kubelet that behaves like the real one: tty from the
// container spec, refusals after the v5 upgrade, not-running containers
// refused before the client's upgrade with what the pod status says.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startAttachStack, createShellPod, openWs, type AttachStack } from '../helpers/attach-stack.ts'
import { KdebugClient, ChannelClient } from '../helpers/attach-client.ts'
import { attachStreamsFor, containerAttachable } from '../../src/attach/target.ts'

let s: AttachStack
const bearer = (as = 'alice'): Record<string, string> => ({ authorization: `Bearer ${as}-token` })
const reason = 'checking attach against the kubelet rules'

before(async () => { s = await startAttachStack() })
after(async () => { await s.close() })

async function problemOf (url: string, protocols: string[] = [], as = 'alice'): Promise<{ status: number, body: Record<string, any> }> {
  try {
    const { ws } = await openWs(url, protocols, { headers: bearer(as) })
    ws.close()
    return { status: 101, body: {} }
  } catch (err) {
    const e = err as { status?: number, body?: string }
    return { status: e.status ?? 0, body: JSON.parse(e.body ?? '{}') as Record<string, any> }
  }
}

test('the attach URL a debug session returns works as it is: tty debug container, no tty in the URL, resize applies', async () => {
  const res = await s.request('/v1/namespaces/demo/pods/web/ephemeral-containers', { as: 'alice', method: 'POST', body: JSON.stringify({ image: 'busybox:1.36', reason, wait: 10 }) })
  assert.equal(res.status, 201)
  const body = await res.json() as { attach: { url: string }, ephemeralContainer: { tty?: boolean } }
  assert.equal(body.ephemeralContainer.tty, true)
  assert.doesNotMatch(body.attach.url, /tty=/)
  const { ws } = await openWs(`${s.wsUrl}${body.attach.url}&cols=120&rows=40`, [], { headers: bearer() })
  const c = new KdebugClient(ws)
  await c.waitControl('ready')
  c.send('size\r')
  await c.waitText('40 120')
  // the attribution env the gateway put on the container is visible inside it
  c.send('echo "by=$KDEBUG_REQUESTED_BY"\r')
  await c.waitText('by=alice\r\n')
  c.send('exit 0\r')
  assert.equal((await c.waitControl('exit')).code, 0)
  assert.equal((await c.closed).code, 1000)
})

test('tty=false with stderr asked for on a tty container: the spec wins, no refusal (v5 passthrough)', async () => {
  const pod = await createShellPod(s.sim, { tty: true })
  const { ws, protocol } = await openWs(`${s.wsUrl}/v1/namespaces/demo/pods/${pod}/attach?container=sh&tty=false&stderr=true`, ['v5.channel.k8s.io'], { headers: bearer() })
  assert.equal(protocol, 'v5.channel.k8s.io')
  const c = new ChannelClient(ws)
  c.send(0, 'echo spec-tty\r')
  await c.waitText('spec-tty\r\n')
  ws.close()
  await c.closed
})

test('a container in ImagePullBackOff: 409 before the upgrade, naming the reason and message', async () => {
  const auth = { authorization: `Bearer ${s.sim.tokens.admin ?? ''}`, 'content-type': 'application/json' }
  const r = await fetch(`${s.sim.url}/api/v1/namespaces/demo/pods`, { method: 'POST', headers: auth, body: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'pull-fails' }, spec: { nodeName: 'node-1', containers: [{ name: 'dbg', image: 'unreachable.invalid/tools/debug:1.0', stdin: true, tty: true }] } }) })
  assert.equal(r.status, 201)
  const body = { attach: { url: '/v1/namespaces/demo/pods/pull-fails/attach?container=dbg' }, session: { container: 'dbg' } }
  // wait until the kubelet has backed off (ErrImagePull first, then ImagePullBackOff)
  let p = await problemOf(`${s.wsUrl}${body.attach.url}`, [], 'alice')
  for (let i = 0; i < 100 && p.body.container?.reason !== 'ImagePullBackOff'; i++) {
    await new Promise(resolve => setTimeout(resolve, 20))
    p = await problemOf(`${s.wsUrl}${body.attach.url}`, [], 'alice')
  }
  assert.equal(p.status, 409)
  assert.equal(p.body.type, 'https://kdebug.dev/problems/container-not-running')
  assert.deepEqual(p.body.container, { name: body.session.container, state: 'waiting', reason: 'ImagePullBackOff', message: 'Back-off pulling image "unreachable.invalid/tools/debug:1.0"' })
  assert.match(p.body.detail, /is not running yet: ImagePullBackOff: Back-off pulling image/)
  // wait= does not hide a pull failure: it settles at once
  const waited = await problemOf(`${s.wsUrl}${body.attach.url}&wait=30`, [], 'alice')
  assert.equal(waited.status, 409)
  // audited as the end of the attempt
  const ends = (await s.audit()).filter(r => r.action === 'attach.end' && (r.target as { pod?: string }).pod === 'pull-fails')
  assert.ok(ends.some(r => JSON.stringify(r).includes('ImagePullBackOff')))
})

test('a terminated container: 409 with exit code', async () => {
  const auth = { authorization: `Bearer ${s.sim.tokens.admin ?? ''}`, 'content-type': 'application/json' }
  const r = await fetch(`${s.sim.url}/api/v1/namespaces/demo/pods`, { method: 'POST', headers: auth, body: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'done-pod' }, spec: { nodeName: 'node-1', restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'exit 4'] }] } }) })
  assert.equal(r.status, 201)
  let p = await problemOf(`${s.wsUrl}/v1/namespaces/demo/pods/done-pod/attach?wait=10`)
  for (let i = 0; i < 100 && p.body.container?.state !== 'terminated'; i++) {
    await new Promise(resolve => setTimeout(resolve, 20))
    p = await problemOf(`${s.wsUrl}/v1/namespaces/demo/pods/done-pod/attach`)
  }
  assert.equal(p.status, 409)
  assert.deepEqual([p.body.container.state, p.body.container.reason, p.body.container.exitCode], ['terminated', 'Error', 4])
})

test('wait= lets a container that is still being created come up, then attaches', async () => {
  const auth = { authorization: `Bearer ${s.sim.tokens.admin ?? ''}`, 'content-type': 'application/json' }
  const r = await fetch(`${s.sim.url}/api/v1/namespaces/demo/pods`, { method: 'POST', headers: auth, body: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'fresh-pod' }, spec: { nodeName: 'node-1', containers: [{ name: 'sh', image: 'busybox', stdin: true }] } }) })
  assert.equal(r.status, 201)
  const { ws } = await openWs(`${s.wsUrl}/v1/namespaces/demo/pods/fresh-pod/attach?wait=20`, [], { headers: bearer() })
  const c = new KdebugClient(ws)
  await c.waitControl('ready')
  c.send('echo up\n')
  await c.waitText('up\n')
  ws.close()
  await c.closed
})

test('wait is bounded (0..60) and typed: 400 naming the field', async () => {
  for (const bad of ['61', '-1', 'soon']) {
    const p = await problemOf(`${s.wsUrl}/v1/namespaces/demo/pods/web/attach?container=app&wait=${bad}`)
    assert.equal(p.status, 400, bad)
    assert.match(JSON.stringify(p.body), /wait/)
  }
})

test('a kubelet refusal after the v5 upgrade: kdebug.v1 error message (the Status, InternalError) and close 1011', async () => {
  // The pod status says running but the runtime has no such process: the race between the
  // gateway's check and the kubelet's own lookup, made permanent.
  const pod = await createShellPod(s.sim)
  s.sim.store.mutate('pods', 'demo', pod, p => {
    const spec = p.spec as { containers: Array<Record<string, unknown>> }
    spec.containers.push({ name: 'ghost', image: 'busybox', stdin: true })
    const st = p.status as { containerStatuses: Array<Record<string, unknown>> }
    st.containerStatuses.push({ name: 'ghost', ready: true, restartCount: 0, image: 'busybox', imageID: '', state: { running: { startedAt: '2026-01-01T00:00:00Z' } } })
  })
  const { ws } = await openWs(`${s.wsUrl}/v1/namespaces/demo/pods/${pod}/attach?container=ghost`, [], { headers: bearer() })
  const c = new KdebugClient(ws)
  const err = await c.waitControl('error')
  assert.equal(err.status, 500)
  assert.equal(err.reason, 'InternalError')
  assert.equal(err.message, `Internal error occurred: unable to upgrade connection: container ghost not found in pod ${pod}_demo`)
  const closed = await c.closed
  assert.deepEqual([closed.code, closed.reason], [1011, 'upstream error'])
})

test('attachStreamsFor / containerAttachable read the pod', () => {
  const pod = {
    spec: { containers: [{ name: 'app' }], ephemeralContainers: [{ name: 'dbg', tty: true, stdin: true }] },
    status: { containerStatuses: [{ name: 'app', state: { running: {} } }], ephemeralContainerStatuses: [{ name: 'dbg', state: { waiting: { reason: 'ContainerCreating' } } }] }
  }
  assert.deepEqual(attachStreamsFor(pod, 'dbg', { stdin: true, tty: false }), { container: 'dbg', stdin: true, stdout: true, stderr: false, tty: true, ttyUnavailable: false })
  assert.deepEqual(attachStreamsFor(pod, undefined, { stdin: true, tty: true, stderr: true }), { container: 'app', stdin: false, stdout: true, stderr: true, tty: false, ttyUnavailable: true })
  assert.equal(attachStreamsFor(pod, 'nope', { stdin: true, tty: false }), undefined)
  assert.deepEqual(containerAttachable(pod, 'app'), { attachable: true })
  assert.deepEqual(containerAttachable(pod, 'dbg'), { attachable: false, state: 'waiting', reason: 'ContainerCreating' })
  assert.equal((containerAttachable(pod, 'other') as { state: string }).state, 'unknown')
  assert.equal((containerAttachable({ ...pod, metadata: { deletionTimestamp: '2026-01-01T00:00:00Z' } }, 'app') as { state: string }).state, 'deleting')
})

test('the same refusal to a passthrough client: the Status on the error channel as the API server sent it (v4 client)', async () => {
  const pod = await createShellPod(s.sim)
  s.sim.store.mutate('pods', 'demo', pod, p => {
    ;(p.spec as { containers: Array<Record<string, unknown>> }).containers.push({ name: 'ghost', image: 'busybox', stdin: true })
    ;(p.status as { containerStatuses: Array<Record<string, unknown>> }).containerStatuses.push({ name: 'ghost', ready: true, restartCount: 0, image: 'busybox', imageID: '', state: { running: { startedAt: '2026-01-01T00:00:00Z' } } })
  })
  const { ws, protocol } = await openWs(`${s.wsUrl}/v1/namespaces/demo/pods/${pod}/attach?container=ghost`, ['v4.channel.k8s.io'], { headers: bearer() })
  assert.equal(protocol, 'v4.channel.k8s.io')
  const c = new ChannelClient(ws)
  await c.closed
  const status = JSON.parse(c.text(3)) as Record<string, unknown>
  assert.deepEqual([status.status, status.reason, status.code, status.message], ['Failure', 'InternalError', 500, `Internal error occurred: unable to upgrade connection: container ghost not found in pod ${pod}_demo`])
})
