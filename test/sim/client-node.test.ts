// @kubernetes/client-node 2.0.1 against the sim (HTTPS kubeconfig): list, read,
// patch, ephemeral containers, watch with resume from a resourceVersion, 410 handling.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { ApiException, CoreV1Api, KubeConfig, PatchStrategy, Watch, setHeaderOptions } from '@kubernetes/client-node'
import { startSim } from '../../src/sim/index.ts'
import type { Sim } from '../../src/sim/index.ts'
import { ADMIN, api, waitFor } from '../helpers/sim-api.ts'

let sim: Sim
let kc: KubeConfig
let core: CoreV1Api

before(async () => {
  sim = await startSim({ startDelayMs: 5, historySize: 20 })
  kc = new KubeConfig()
  kc.loadFromString(sim.kubeconfig)
  kc.setCurrentContext('admin')
  core = kc.makeApiClient(CoreV1Api)
})
after(async () => { await sim.close() })

test('list and read pods over HTTPS with the kubeconfig CA', async () => {
  const list = await core.listNamespacedPod({ namespace: 'demo' })
  assert.deepEqual(list.items.map(p => p.metadata?.name), ['api', 'web'])
  assert.equal(list.metadata?.resourceVersion, String(sim.store.resourceVersion))
  const web = await core.readNamespacedPod({ name: 'web', namespace: 'demo' })
  assert.equal(web.status?.phase, 'Running')
  assert.equal(web.status?.containerStatuses?.length, 2)
})

test('errors arrive as ApiException with the Status body', async () => {
  const gwc = new KubeConfig()
  gwc.loadFromString(sim.kubeconfig) // current context: the gateway service account
  const gw = gwc.makeApiClient(CoreV1Api)
  await assert.rejects(gw.listNode(), (e: unknown) => e instanceof ApiException && e.code === 403 && /cannot list resource "nodes"/.test(JSON.parse(String(e.body)).message))
  await assert.rejects(core.readNamespacedPod({ name: 'nope', namespace: 'demo' }), (e: unknown) => e instanceof ApiException && e.code === 404)
})

test('patch pod labels (merge patch) and add an ephemeral container (strategic merge)', async () => {
  const patched = await core.patchNamespacedPod({ name: 'web', namespace: 'demo', body: { metadata: { labels: { patched: 'yes' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch))
  assert.equal(patched.metadata?.labels?.patched, 'yes')
  const withEc = await core.patchNamespacedPodEphemeralcontainers({
    name: 'web',
    namespace: 'demo',
    body: { spec: { ephemeralContainers: [{ name: 'cn-dbg', image: 'busybox', targetContainerName: 'app', terminationMessagePolicy: 'File' }] } }
  }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch))
  assert.ok(withEc.spec?.ephemeralContainers?.some(c => c.name === 'cn-dbg'))
})

test('Watch resumes from a list resourceVersion and reports 410 for a compacted one', async () => {
  const list = await core.listNamespacedEvent({ namespace: 'demo' })
  const rv = list.metadata?.resourceVersion ?? ''
  const ev = (name: string): unknown => ({ apiVersion: 'v1', kind: 'Event', metadata: { name }, involvedObject: { kind: 'Pod', namespace: 'demo', name: 'web' }, reason: 'PacketDrop', message: 'x', type: 'Warning' })
  await api(sim, ADMIN, 'POST', '/api/v1/namespaces/demo/events', { body: ev('cn1') })
  const watch = new Watch(kc)
  await waitFor(() => sim.store.watcherCount === 0, 'earlier watches to end')
  const seen: string[] = []
  let lastRV = ''
  const got = new Promise<void>((resolve, reject) => {
    watch.watch('/api/v1/namespaces/demo/events', { resourceVersion: rv, allowWatchBookmarks: true, fieldSelector: 'reason=PacketDrop' }, (type, obj) => {
      seen.push(`${type} ${obj.metadata?.name ?? ''}`)
      lastRV = obj.metadata?.resourceVersion ?? lastRV
      if (seen.length === 2) resolve()
    }, (err) => { if (err) reject(err) }).then(ctl => { got.finally(() => ctl.abort()).catch(() => {}) }, reject)
  })
  // cn2 is created once the watch is open, so it arrives as a live event, not from history
  await waitFor(() => sim.store.watcherCount === 1, 'the watch to open')
  await api(sim, ADMIN, 'POST', '/api/v1/namespaces/demo/events', { body: ev('cn2') })
  await got
  assert.deepEqual(seen, ['ADDED cn1', 'ADDED cn2'])
  assert.equal(lastRV, sim.store.get('events', 'demo', 'cn2')?.metadata.resourceVersion)

  // now make rv too old: the stream starts and its one event is an ERROR with the 410 Status
  await api(sim, ADMIN, 'POST', '/__sim/compact')
  const first = await new Promise<{ type: string, obj: any }>((resolve, reject) => {
    watch.watch('/api/v1/namespaces/demo/events', { resourceVersion: rv }, (type, obj) => resolve({ type, obj }), () => {}).catch(reject)
  })
  assert.equal(first.type, 'ERROR')
  assert.equal(first.obj.code, 410)
  assert.equal(first.obj.reason, 'Expired')
})
