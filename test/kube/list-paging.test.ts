// listPods pages like kubectl (limit 500 + continue) against an API server
// that pages: every page asked with the same selectors, resourceVersion only on
// the first, the continue token carried on, items collected — or handed over
// page by page and not kept; a server that repeats its continue token or never
// stops paging is a 502.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { KubeConfig } from '@kubernetes/client-node'
import { kubeDebugClient } from '../../src/kube/debug-client.ts'
import { isProblemError } from '../../src/errors.ts'

const TOTAL = 1203
const seen: URLSearchParams[] = []
/** 'repeat': every page says "continue from the start" again; 'advance': every page has one pod and a new token, forever. */
let endless: false | 'repeat' | 'advance' = false
const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x')
  seen.push(url.searchParams)
  const limit = Number(url.searchParams.get('limit'))
  const start = Number(url.searchParams.get('continue') ?? '0')
  const end = endless === 'advance' ? start + 1 : Math.min(TOTAL, start + limit)
  const items = Array.from({ length: end - start }, (_, i) => ({ metadata: { name: `p${start + i}`, namespace: 'demo' }, spec: { containers: [] } }))
  const meta: Record<string, string> = { resourceVersion: '77' }
  if (endless !== false || end < TOTAL) meta.continue = String(endless === 'repeat' ? start : end)
  res.setHeader('content-type', 'application/json')
  res.end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: meta, items }))
})
await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
after(() => { server.close() })

function client (maxListPages?: number): ReturnType<typeof kubeDebugClient> {
  const kc = new KubeConfig()
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x'
  })
  return kubeDebugClient(kc, maxListPages === undefined ? {} : { maxListPages })
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

const badGateway = (err: unknown): boolean => isProblemError(err) && err.status === 502

test('a server that hands back the continue token it was sent is a 502 on the second page', async () => {
  endless = 'repeat'
  seen.length = 0
  try {
    await assert.rejects(client().listPods({ pageSize: 100, onPage: () => {} }), badGateway)
    assert.deepEqual(seen.map(q => q.get('continue')), [null, '0'])
  } finally {
    endless = false
  }
})

test('a server whose tokens advance forever is a 502 after the page limit, not an endless loop', async () => {
  endless = 'advance'
  seen.length = 0
  try {
    await assert.rejects(client(25).listPods({ onPage: () => {} }), badGateway)
    assert.equal(seen.length, 25)
  } finally {
    endless = false
  }
})
