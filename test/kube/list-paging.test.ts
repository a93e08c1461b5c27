// listPods pages like kubectl (limit 500 + continue) against an API server
// that pages: every page asked with the same selectors, resourceVersion only on
// the first, the continue token carried on, items collected — or handed over
// page by page and not kept; a server that never stops paging is a 502.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { KubeConfig } from '@kubernetes/client-node'
import { kubeDebugClient } from '../../src/kube/debug-client.ts'
import { isProblemError } from '../../src/errors.ts'

const TOTAL = 1203
const seen: URLSearchParams[] = []
let endless = false
const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x')
  seen.push(url.searchParams)
  const limit = Number(url.searchParams.get('limit'))
  const start = Number(url.searchParams.get('continue') ?? '0')
  const end = Math.min(TOTAL, start + limit)
  const items = Array.from({ length: end - start }, (_, i) => ({ metadata: { name: `p${start + i}`, namespace: 'demo' }, spec: { containers: [] } }))
  const meta: Record<string, string> = { resourceVersion: '77' }
  if (endless || end < TOTAL) meta.continue = String(endless ? start : end)
  res.setHeader('content-type', 'application/json')
  res.end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: meta, items }))
})
await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
after(() => { server.close() })

function client (): ReturnType<typeof kubeDebugClient> {
  const kc = new KubeConfig()
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x'
  })
  return kubeDebugClient(kc)
}

test('pages of 500 with continue; selectors on every page; resourceVersion only on the first', async () => {
  seen.length = 0
  const list = await client().listPods({ labelSelector: 'a=b', resourceVersion: '0' })
  assert.equal(list.items.length, TOTAL)
  assert.equal(list.items.at(-1)?.metadata.name, `p${TOTAL - 1}`)
  assert.equal(list.resourceVersion, '77')
  assert.deepEqual(seen.map(q => q.get('limit')), ['500', '500', '500'])
  assert.deepEqual(seen.map(q => q.get('continue')), [null, '500', '1000'])
  assert.deepEqual(seen.map(q => q.get('resourceVersion')), ['0', null, null])
  assert.ok(seen.every(q => q.get('labelSelector') === 'a=b'))
})

test('onPage receives each page; nothing is collected', async () => {
  seen.length = 0
  const sizes: number[] = []
  const list = await client().listPods({ namespace: 'demo', pageSize: 400, onPage: items => sizes.push(items.length) })
  assert.deepEqual(sizes, [400, 400, 400, 3])
  assert.equal(list.items.length, 0)
})

test('a server that never stops paging is a 502, not an endless loop', async () => {
  endless = true
  try {
    await assert.rejects(client().listPods({ pageSize: 100_000, onPage: () => {} }), (err: unknown) => isProblemError(err) && err.status === 502)
  } finally {
    endless = false
  }
})
