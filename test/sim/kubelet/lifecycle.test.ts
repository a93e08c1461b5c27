// Pod lifecycle in the sim: scheduling, ContainerCreating → Running, image pull
// failures, exits and phases, ephemeral containers through the subresource, graceful delete.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startSim } from '../../../src/sim/index.ts'
import type { Sim } from '../../../src/sim/index.ts'
import { ADMIN, api, readWatch, waitFor } from '../../helpers/sim-api.ts'
import { normalizeImage } from '../../../src/sim/kubelet/lifecycle.ts'

let sim: Sim
before(async () => { sim = await startSim({ startDelayMs: 30, pullBackOffMs: 40, terminationDelayMs: 30, restartDelayMs: 40 }) })
after(async () => { await sim.close() })

const pod = (name: string, containers: unknown[], extra: Record<string, unknown> = {}): unknown => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers, ...extra } })
const status = (name: string, ns = 'demo'): any => sim.store.get('pods', ns, name)?.status

test('world pods are Running at start with realistic status', () => {
  const web = sim.store.get('pods', 'demo', 'web') as any
  assert.equal(web.status.phase, 'Running')
  assert.equal(web.spec.nodeName, 'node-1')
  assert.equal(web.status.hostIP, '10.0.0.11')
  assert.match(web.status.podIP, /^10\.244\.1\.\d+$/)
  assert.deepEqual(web.status.conditions.map((c: any) => `${c.type}=${c.status}`), ['PodReadyToStartContainers=True', 'Initialized=True', 'Ready=True', 'ContainersReady=True', 'PodScheduled=True'])
  const app = web.status.containerStatuses.find((c: any) => c.name === 'app')
  assert.equal(app.image, 'docker.io/library/nginx:1.27')
  assert.match(app.imageID, /^docker\.io\/library\/nginx@sha256:[0-9a-f]{64}$/)
  assert.match(app.containerID, /^containerd:\/\/[0-9a-f]{64}$/)
  assert.equal(app.ready, true)
  assert.equal(app.started, true)
  assert.ok(app.state.running.startedAt)
  const ledger = sim.store.get('pods', 'payments', 'ledger') as any
  assert.equal(ledger.spec.securityContext.runAsUser, 1000)
})

test('a created pod is scheduled, shows ContainerCreating, then Running (seen through a watch)', async () => {
  const res = await fetch(`${sim.url}/api/v1/namespaces/demo/pods?watch=true&fieldSelector=metadata.name%3Dnew1&resourceVersion=${sim.store.resourceVersion}`, { headers: { Authorization: `Bearer ${ADMIN}` } })
  const watching = readWatch(res, ev => ev.some(e => e.object.status?.phase === 'Running'))
  const c = await api(sim, ADMIN, 'POST', '/api/v1/namespaces/demo/pods', { body: pod('new1', [{ name: 'c', image: 'busybox:1.36', command: ['sleep', '3600'] }]) })
  assert.equal(c.status, 201)
  const events = await watching
  const creating = events.find(e => e.object.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ContainerCreating')
  assert.ok(creating, 'ContainerCreating was observed')
  assert.equal(creating.object.status.phase, 'Pending')
  assert.ok(['node-1', 'node-2'].includes(creating.object.spec.nodeName))
  const ready = creating.object.status.conditions.find((x: any) => x.type === 'Ready')
  assert.deepEqual([ready.status, ready.reason, ready.message], ['False', 'ContainersNotReady', 'containers with unready status: [c]'])
  const last = events.at(-1)
  assert.equal(last.type, 'MODIFIED')
  assert.equal(last.object.status.containerStatuses[0].state.running !== undefined, true)
})

test('an image from unreachable.invalid/ never pulls: ErrImagePull then ImagePullBackOff', async () => {
  await api(sim, ADMIN, 'POST', '/api/v1/namespaces/demo/pods', { body: pod('badimg', [{ name: 'c', image: 'unreachable.invalid/tools/debug:1.0' }]) })
  const err = await waitFor(() => status('badimg')?.containerStatuses?.[0]?.state?.waiting?.reason === 'ErrImagePull' ? status('badimg') : undefined, 'ErrImagePull')
  assert.match(err.containerStatuses[0].state.waiting.message, /^rpc error: code = Unknown desc = failed to pull and unpack image "unreachable\.invalid\/tools\/debug:1\.0": failed to resolve reference .*no such host$/)
  assert.equal(err.phase, 'Pending')
  const back = await waitFor(() => status('badimg')?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff' ? status('badimg') : undefined, 'ImagePullBackOff')
  assert.equal(back.containerStatuses[0].state.waiting.message, 'Back-off pulling image "unreachable.invalid/tools/debug:1.0"')
  const logs = await api(sim, ADMIN, 'GET', '/api/v1/namespaces/demo/pods/badimg/log')
  assert.equal(logs.status, 400)
  assert.equal(logs.json.message, 'container "c" in pod "badimg" is waiting to start: trying and failing to pull image')
})

test('restartPolicy Never: exits give terminated state and phase Succeeded / Failed', async () => {
  await api(sim, ADMIN, 'POST', '/api/v1/namespaces/demo/pods', { body: pod('ok1', [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'echo hi'] }], { restartPolicy: 'Never' }) })
  await api(sim, ADMIN, 'POST', '/api/v1/namespaces/demo/pods', { body: pod('fail1', [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'exit 3'] }], { restartPolicy: 'Never' }) })
  const ok = await waitFor(() => status('ok1')?.phase === 'Succeeded' ? status('ok1') : undefined, 'Succeeded')
  const t = ok.containerStatuses[0].state.terminated
  assert.equal(t.exitCode, 0)
  assert.equal(t.reason, 'Completed')
  assert.ok(t.startedAt && t.finishedAt)
  const failed = await waitFor(() => status('fail1')?.phase === 'Failed' ? status('fail1') : undefined, 'Failed')
  assert.deepEqual([failed.containerStatuses[0].state.terminated.exitCode, failed.containerStatuses[0].state.terminated.reason], [3, 'Error'])
})

test('ephemeral container via PATCH: stored, validated, then Running in ephemeralContainerStatuses', async () => {
  const r = await api(sim, 'alice-token', 'PATCH', '/api/v1/namespaces/demo/pods/api/ephemeralcontainers', {
    body: { spec: { ephemeralContainers: [{ image: 'busybox', name: 'dbg1', resources: {}, targetContainerName: 'api', terminationMessagePolicy: 'File', stdin: true }] } },
    contentType: 'application/strategic-merge-patch+json'
  })
  assert.equal(r.status, 200, r.text)
  assert.equal(r.json.kind, 'Pod')
  assert.equal(r.json.spec.ephemeralContainers.at(-1).name, 'dbg1')
  const st = await waitFor(() => status('api')?.ephemeralContainerStatuses?.find((s: any) => s.name === 'dbg1' && s.state.running), 'dbg1 running')
  assert.equal(st.image, 'docker.io/library/busybox:latest')
  assert.equal(st.ready, false)
  const dup = await api(sim, 'alice-token', 'PATCH', '/api/v1/namespaces/demo/pods/api/ephemeralcontainers', {
    body: { spec: { ephemeralContainers: [{ image: 'busybox', name: 'api', terminationMessagePolicy: 'File' }] } },
    contentType: 'application/strategic-merge-patch+json'
  })
  assert.equal(dup.status, 422)
  assert.equal(dup.json.reason, 'Invalid')
  const denied = await api(sim, 'bob-token', 'PATCH', '/api/v1/namespaces/demo/pods/api/ephemeralcontainers', { body: { spec: {} }, contentType: 'application/strategic-merge-patch+json' })
  assert.equal(denied.status, 403)
  assert.equal(denied.json.message, 'pods "api" is forbidden: User "bob" cannot patch resource "pods/ephemeralcontainers" in API group "" in the namespace "demo"')
})

test('ephemeral containers via PUT with a stale resourceVersion → 409', async () => {
  const cur = (await api(sim, ADMIN, 'GET', '/api/v1/namespaces/demo/pods/web/ephemeralcontainers')).json
  assert.equal(cur.kind, 'Pod')
  const body = structuredClone(cur)
  body.spec.ephemeralContainers = [{ name: 'dbg2', image: 'busybox', terminationMessagePolicy: 'File' }]
  body.metadata.resourceVersion = '1'
  const stale = await api(sim, ADMIN, 'PUT', '/api/v1/namespaces/demo/pods/web/ephemeralcontainers', { body })
  assert.equal(stale.status, 409)
  body.metadata.resourceVersion = cur.metadata.resourceVersion
  const ok = await api(sim, ADMIN, 'PUT', '/api/v1/namespaces/demo/pods/web/ephemeralcontainers', { body })
  assert.equal(ok.status, 200, ok.text)
  assert.deepEqual(ok.json.spec.ephemeralContainers.map((c: any) => c.name), ['dbg2'])
})

test('graceful delete: containers terminate, then the pod is gone; watchers see MODIFIED then DELETED', async () => {
  await api(sim, ADMIN, 'POST', '/api/v1/namespaces/demo/pods', { body: pod('gone1', [{ name: 'c', image: 'nginx:1.27' }]) })
  await waitFor(() => status('gone1')?.phase === 'Running', 'gone1 running')
  const res = await fetch(`${sim.url}/api/v1/namespaces/demo/pods?watch=true&fieldSelector=metadata.name%3Dgone1&resourceVersion=${sim.store.resourceVersion}`, { headers: { Authorization: `Bearer ${ADMIN}` } })
  const watching = readWatch(res, ev => ev.some(e => e.type === 'DELETED'))
  const d = await api(sim, ADMIN, 'DELETE', '/api/v1/namespaces/demo/pods/gone1')
  assert.equal(d.json.metadata.deletionGracePeriodSeconds, 30)
  const events = await watching
  assert.equal(events[0].type, 'MODIFIED')
  assert.ok(events[0].object.metadata.deletionTimestamp)
  const deleted = events.at(-1)
  assert.equal(deleted.type, 'DELETED')
  assert.ok(deleted.object.status.containerStatuses[0].state.terminated, 'final status shows the container terminated')
})

test('restartPolicy Always: an exiting container goes CrashLoopBackOff, then restarts with restartCount+1', async () => {
  await api(sim, ADMIN, 'POST', '/api/v1/namespaces/demo/pods', { body: pod('crash1', [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'exit 1'] }]) })
  const backoff = await waitFor(() => status('crash1')?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff' ? status('crash1') : undefined, 'CrashLoopBackOff')
  const cs = backoff.containerStatuses[0]
  assert.match(cs.state.waiting.message, /^back-off \d+s restarting failed container=c pod=crash1_demo\(.+\)$/)
  assert.equal(cs.lastState.terminated.exitCode, 1)
  assert.equal(backoff.phase, 'Running')
  await waitFor(() => (status('crash1')?.containerStatuses?.[0]?.restartCount ?? 0) >= 1, 'restarted')
})

test('a pod pinned to a node that does not exist stays as created (no kubelet sees it)', async () => {
  await api(sim, ADMIN, 'POST', '/api/v1/namespaces/demo/pods', { body: pod('lost1', [{ name: 'c', image: 'busybox' }], { nodeName: 'node-9' }) })
  // a pod created after it on a real node has gone through the kubelet, so lost1 had every chance to
  await api(sim, ADMIN, 'POST', '/api/v1/namespaces/demo/pods', { body: pod('found1', [{ name: 'c', image: 'busybox' }], { nodeName: 'node-1' }) })
  await waitFor(() => status('found1')?.phase === 'Running', 'found1 Running')
  assert.deepEqual(status('lost1'), { phase: 'Pending', qosClass: 'BestEffort' })
  const d = await api(sim, ADMIN, 'DELETE', '/api/v1/namespaces/demo/pods/lost1')
  assert.equal(d.status, 200)
  assert.ok(d.json.metadata.deletionTimestamp, 'scheduled pods get a graceful delete')
})

test('image normalisation as the CRI reports it', () => {
  assert.equal(normalizeImage('nginx:1.27'), 'docker.io/library/nginx:1.27')
  assert.equal(normalizeImage('busybox'), 'docker.io/library/busybox:latest')
  assert.equal(normalizeImage('envoyproxy/envoy:v1.31'), 'docker.io/envoyproxy/envoy:v1.31')
  assert.equal(normalizeImage('registry.example.com:5000/a/b'), 'registry.example.com:5000/a/b:latest')
})
