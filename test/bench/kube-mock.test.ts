import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { kubeHandler, kubeMockState, kubeStats } from '../../bench/workers/kube-mock.ts'
import { LAST_RUN_RESULTS, QUICK_RESULTS, RESULTS_DIR, resultsFile } from '../../bench/lib/results.ts'
import { kubeLeaseClient } from '../../src/kube/lease-client.ts'
import { closeKubeConnections } from '../../src/kube/transport.ts'
import { LEDGER_SELECTOR } from '../../src/sessions/ledger-watch.ts'
import { MANAGED_BY, MANAGED_BY_LABEL } from '../../src/sessions/attribution.ts'
import { kubeConfigFor } from '../helpers/kubeconfig.ts'

async function withMock (fn: (call: (method: string, p: string, body?: unknown) => Promise<{ status: number, body: any }>) => Promise<void>): Promise<ReturnType<typeof kubeMockState>> {
  const state = kubeMockState()
  const server = http.createServer(kubeHandler(state))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  try {
    await fn(async (method, p, body) => {
      const res = await fetch(base + p, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) })
      return { status: res.status, body: await res.json() }
    })
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
  return state
}

const LEASES = '/apis/coordination.k8s.io/v1/namespaces/kdebug/leases'

test('the bench API server keeps leases with the API server\'s optimistic concurrency', async () => {
  const state = await withMock(async (call) => {
    assert.equal((await call('GET', `${LEASES}/u1`)).status, 404)
    const created = await call('POST', LEASES, { metadata: { name: 'u1' }, spec: { holderIdentity: 'a' } })
    assert.equal(created.status, 201)
    const rv = created.body.metadata.resourceVersion as string
    const again = await call('POST', LEASES, { metadata: { name: 'u1' }, spec: { holderIdentity: 'b' } })
    assert.equal(again.status, 409)
    assert.equal(again.body.reason, 'AlreadyExists')
    assert.equal((await call('PUT', `${LEASES}/u1`, { metadata: { name: 'u1', resourceVersion: 'stale' }, spec: {} })).body.reason, 'Conflict')
    const updated = await call('PUT', `${LEASES}/u1`, { metadata: { name: 'u1', resourceVersion: rv }, spec: { holderIdentity: 'b' } })
    assert.equal(updated.status, 200)
    assert.notEqual(updated.body.metadata.resourceVersion, rv)
    assert.equal((await call('DELETE', `${LEASES}/u1`, { preconditions: { resourceVersion: rv } })).status, 409, 'a stale precondition does not delete')
    assert.equal((await call('DELETE', `${LEASES}/u1`, { preconditions: { resourceVersion: updated.body.metadata.resourceVersion } })).status, 200)
    assert.equal((await call('GET', `${LEASES}/u1`)).status, 404)
  })
  assert.equal(kubeStats(state).leasesHeld, 0)
})

test('the bench API server serves the gateway\'s ledger watch: list version, then the selected leases\' later writes', async () => {
  const state = kubeMockState()
  const server = http.createServer(kubeHandler(state))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const kc = kubeConfigFor(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 'gateway-token')
  const api = kubeLeaseClient(kc)
  const abort = new AbortController()
  try {
    const from = await api.listVersion('kdebug', LEDGER_SELECTOR)
    const events: string[] = []
    const watching = api.watch('kdebug', { labelSelector: LEDGER_SELECTOR, resourceVersion: from, timeoutSeconds: 30, signal: abort.signal }, (e) => { events.push(`${e.type} ${e.object.metadata.name} ${e.object.metadata.resourceVersion ?? ''}`) })
    watching.catch(() => undefined)
    await new Promise((resolve) => setTimeout(resolve, 50))
    await api.create({ metadata: { name: 'other', namespace: 'kdebug' }, spec: {} })
    await api.create({ metadata: { name: 'other-ns', namespace: 'elsewhere', labels: { [MANAGED_BY_LABEL]: MANAGED_BY } }, spec: {} })
    const mine = await api.create({ metadata: { name: 'ledger', namespace: 'kdebug', labels: { [MANAGED_BY_LABEL]: MANAGED_BY } }, spec: {} })
    const updated = await api.update(mine)
    await api.delete('kdebug', 'ledger', updated.metadata.resourceVersion ?? '')
    for (let i = 0; i < 100 && events.length < 3; i++) await new Promise((resolve) => setTimeout(resolve, 10))
    assert.deepEqual(events.map(e => e.split(' ').slice(0, 2).join(' ')), ['ADDED ledger', 'MODIFIED ledger', 'DELETED ledger'])
    assert.equal(events[1]?.split(' ')[2], updated.metadata.resourceVersion)
    assert.ok(Number(from) < Number(mine.metadata.resourceVersion), 'the list\'s version is the store\'s, before the writes')
  } finally {
    abort.abort()
    closeKubeConnections(kc)
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
  for (let i = 0; i < 100 && state.leaseWatchers.size > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10))
  assert.equal(state.leaseWatchers.size, 0, 'a watch whose client went is removed')
})

test('the bench pod has a running container with stdin to attach to, and reviews follow tok-<user>', async () => {
  await withMock(async (call) => {
    const pod = (await call('GET', '/api/v1/namespaces/bench/pods/p')).body
    const c = pod.spec.containers.find((x: { name: string }) => x.name === 'c')
    assert.equal(c.stdin, true)
    assert.ok(pod.status.containerStatuses.find((x: { name: string }) => x.name === 'c').state.running)
    const ok = await call('POST', '/apis/authentication.k8s.io/v1/tokenreviews', { spec: { token: 'tok-alice' } })
    assert.equal(ok.body.status.user.username, 'alice')
    const bad = await call('POST', '/apis/authentication.k8s.io/v1/tokenreviews', { spec: { token: 'alice' } })
    assert.equal(bad.body.status.authenticated, false)
    assert.equal((await call('GET', '/api/v1/namespaces/bench/pods/p/log')).status, 404)
  })
})

test('only a complete, valid, correct full run writes latest.json', () => {
  const latest = path.join(RESULTS_DIR, 'latest.json')
  const full = { quick: false, complete: true, valid: true, correct: true }
  assert.equal(resultsFile(full), latest)
  assert.equal(resultsFile({ ...full, quick: true }), QUICK_RESULTS)
  assert.notEqual(QUICK_RESULTS, latest)
  assert.equal(resultsFile({ ...full, complete: false }), LAST_RUN_RESULTS, '--only')
  assert.equal(resultsFile({ ...full, valid: false }), LAST_RUN_RESULTS, 'a busy machine')
  assert.equal(resultsFile({ ...full, correct: false }), LAST_RUN_RESULTS, 'lost records or non-2xx answers')
  assert.notEqual(LAST_RUN_RESULTS, latest)
  assert.equal(resultsFile({ ...full, quick: true, out: '/tmp/x.json' }), '/tmp/x.json')
})
