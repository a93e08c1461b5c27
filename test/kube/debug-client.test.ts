// The raw REST client on the wire: content types, dryRun, delete preconditions,
// and impersonation with one header line per group (fetch would join them).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { KubeConfig } from '@kubernetes/client-node'
import { kubeDebugClient, type DebugClient } from '../../src/kube/debug-client.ts'

interface Seen { method: string, url: string, headers: Record<string, string[]>, body: string }
let server: http.Server
let client: DebugClient
const seen: Seen[] = []
let answer: { code: number, body: unknown } = { code: 200, body: {} }

before(async () => {
  server = http.createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => { body += c.toString() })
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headersDistinct as Record<string, string[]>, body })
      res.writeHead(answer.code, { 'content-type': 'application/json' })
      res.end(JSON.stringify(answer.body))
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const kc = new KubeConfig()
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'gateway-token' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x'
  })
  client = kubeDebugClient(kc, { requestTimeoutMs: 2000 })
})
after(async () => { await new Promise(resolve => server.close(resolve)) })

test('impersonation: one Impersonate-Group line per group, commas kept inside a group', async () => {
  answer = { code: 200, body: { metadata: { name: 'web' }, spec: { containers: [] } } }
  await client.getPod('demo', 'web', { as: { user: 'alice', groups: ['dev', 'a,b', 'system:authenticated'] } })
  const h = seen.at(-1)?.headers ?? {}
  assert.deepEqual(h['impersonate-user'], ['alice'])
  assert.deepEqual(h['impersonate-group'], ['dev', 'a,b'])
  assert.deepEqual(h.authorization, ['Bearer gateway-token'])
})

test('ephemeral containers: strategic merge patch to the subresource; dryRun=All; the gateway as field manager', async () => {
  answer = { code: 200, body: { metadata: { name: 'web' }, spec: { containers: [] } } }
  const patch = { spec: { ephemeralContainers: [{ name: 'd', image: 'busybox' }] } }
  await client.addEphemeralContainer('demo', 'web', patch, { dryRun: true })
  const s = seen.at(-1)
  assert.equal(s?.method, 'PATCH')
  assert.equal(s?.url, '/api/v1/namespaces/demo/pods/web/ephemeralcontainers?dryRun=All&fieldManager=kdebug-gateway')
  assert.deepEqual(s?.headers['content-type'], ['application/strategic-merge-patch+json'])
  assert.match(String(s?.headers['user-agent']), /^kdebug-gateway\/\d+\.\d+\.\d+$/)
  assert.deepEqual(JSON.parse(s?.body ?? ''), patch)
  assert.equal(s?.headers['impersonate-user'], undefined)
})

test('delete carries preconditions; a Status error becomes a problem with reason and causes', async () => {
  answer = { code: 200, body: {} }
  await client.deletePod('kdebug', 'p', { preconditions: { uid: 'u1', resourceVersion: '5' } })
  assert.deepEqual(JSON.parse(seen.at(-1)?.body ?? '').preconditions, { uid: 'u1', resourceVersion: '5' })
  answer = { code: 409, body: { kind: 'Status', status: 'Failure', reason: 'Conflict', code: 409, message: 'Precondition failed: UID in precondition: u1, UID in object meta: u2' } }
  await assert.rejects(client.deletePod('kdebug', 'p', { preconditions: { uid: 'u1' } }), (err: any) => err.status === 409 && err.extras.kubernetesReason === 'Conflict')
  answer = { code: 422, body: { kind: 'Status', reason: 'Invalid', code: 422, message: 'bad', details: { causes: [{ field: 'spec.x', message: 'Duplicate value: "d"' }] } } }
  await assert.rejects(client.createPod('kdebug', { metadata: { name: 'p' }, spec: { containers: [] } }),
    (err: any) => err.status === 422 && err.extras.errors[0].field === 'spec.x')
})

test('list by label selector across all namespaces', async () => {
  answer = { code: 200, body: { metadata: { resourceVersion: '9' }, items: [{ metadata: { name: 'a' }, spec: { containers: [] } }] } }
  const list = await client.listPods({ labelSelector: 'app.kubernetes.io/managed-by=kdebug-gateway', resourceVersion: '0' })
  assert.equal(list.resourceVersion, '9')
  assert.equal(list.items.length, 1)
  const url = new URL(seen.at(-1)?.url ?? '', 'http://x')
  assert.equal(url.pathname, '/api/v1/pods')
  assert.equal(url.searchParams.get('labelSelector'), 'app.kubernetes.io/managed-by=kdebug-gateway')
  assert.equal(url.searchParams.get('resourceVersion'), '0')
})
