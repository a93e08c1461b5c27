import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { kubeHandler, kubeMockState, kubeStats } from '../../bench/workers/kube-mock.ts'
import { LAST_RUN_RESULTS, QUICK_RESULTS, RESULTS_DIR, resultsFile } from '../../bench/lib/results.ts'

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
