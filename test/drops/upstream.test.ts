import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { KubeConfig } from '@kubernetes/client-node'
import { kubeEventsUpstream, UpstreamError, type WatchEvent } from '../../src/drops/upstream.ts'

// A throwaway API server that misbehaves on purpose.
type Handler = (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => void

describe('kubeEventsUpstream', () => {
  let server: http.Server
  let handler: Handler = (_q, res) => { res.end() }
  const seen: Array<{ url: URL, auth: string | undefined }> = []
  let kc: KubeConfig

  before(async () => {
    server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x')
      seen.push({ url, auth: req.headers.authorization })
      handler(req, res, url)
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as AddressInfo).port
    kc = new KubeConfig()
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'u', token: 'gw-token' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x'
    })
  })
  after(async () => {
    server.closeAllConnections()
    await new Promise(resolve => server.close(resolve))
  })

  test('list: cluster-wide path, field selector, paging, credentials', async () => {
    handler = (_q, res) => {
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ kind: 'EventList', metadata: { resourceVersion: '77', continue: 'tok' }, items: [{ a: 1 }] }))
    }
    const page = await kubeEventsUpstream(kc).list({ fieldSelector: 'reason=PacketDrop' }, { limit: 50, signal: AbortSignal.timeout(5000) })
    assert.deepEqual(page, { items: [{ a: 1 }], resourceVersion: '77', continue: 'tok' })
    const last = seen.at(-1)!
    assert.equal(last.url.pathname, '/api/v1/events')
    assert.equal(last.url.searchParams.get('fieldSelector'), 'reason=PacketDrop')
    assert.equal(last.url.searchParams.get('limit'), '50')
    assert.equal(last.auth, 'Bearer gw-token')
  })

  test('watch: namespaced path and parameters; JSON values split across chunks', async () => {
    handler = (_q, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      const a = JSON.stringify({ type: 'ADDED', object: { metadata: { resourceVersion: '5' } } }) + '\n'
      const b = JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '9' } } }) + '\n'
      res.write(a.slice(0, 10))
      setTimeout(() => { res.write(a.slice(10) + b.slice(0, 5)) }, 5)
      setTimeout(() => { res.end(b.slice(5)) }, 10)
    }
    const events: WatchEvent[] = []
    await kubeEventsUpstream(kc).watch({ namespace: 'demo', fieldSelector: 'reason=PacketDrop' },
      { resourceVersion: '4', timeoutSeconds: 60, signal: AbortSignal.timeout(5000) }, e => events.push(e))
    assert.deepEqual(events.map(e => e.type), ['ADDED', 'BOOKMARK'])
    const q = seen.at(-1)!.url
    assert.equal(q.pathname, '/api/v1/namespaces/demo/events')
    assert.deepEqual(Object.fromEntries(q.searchParams), {
      watch: 'true', fieldSelector: 'reason=PacketDrop', resourceVersion: '4', allowWatchBookmarks: 'true', timeoutSeconds: '60'
    })
  })

  test('HTTP 410 with a Status body → expired UpstreamError', async () => {
    handler = (_q, res) => {
      res.writeHead(410, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ kind: 'Status', status: 'Failure', reason: 'Expired', code: 410, message: 'too old resource version: 4 (90)' }))
    }
    const err = await kubeEventsUpstream(kc).watch({ fieldSelector: 'reason=PacketDrop' }, { resourceVersion: '4', timeoutSeconds: 60, signal: AbortSignal.timeout(5000) }, () => {})
      .then(() => undefined, (e: unknown) => e)
    assert.ok(err instanceof UpstreamError)
    assert.equal(err.expired, true)
    assert.equal(err.reason, 'Expired')
  })

  test('ERROR event with code 410 after events → expired UpstreamError, earlier events delivered', async () => {
    handler = (_q, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.write(JSON.stringify({ type: 'MODIFIED', object: { metadata: { resourceVersion: '6' } } }) + '\n')
      res.end(JSON.stringify({ type: 'ERROR', object: { kind: 'Status', status: 'Failure', reason: 'Expired', code: 410, message: 'The resourceVersion for the provided watch is too old.' } }) + '\n')
    }
    const events: WatchEvent[] = []
    const err = await kubeEventsUpstream(kc).watch({ fieldSelector: 'reason=PacketDrop' }, { resourceVersion: '4', timeoutSeconds: 60, signal: AbortSignal.timeout(5000) }, e => events.push(e))
      .then(() => undefined, (e: unknown) => e)
    assert.equal(events.length, 1)
    assert.ok(err instanceof UpstreamError && err.expired)
  })

  test('a connection cut mid-stream rejects (the watcher resumes from its last resourceVersion)', async () => {
    handler = (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.write(JSON.stringify({ type: 'ADDED', object: {} }) + '\n')
      setTimeout(() => req.socket.destroy(), 5)
    }
    const err = await kubeEventsUpstream(kc).watch({ fieldSelector: 'reason=PacketDrop' }, { resourceVersion: '4', timeoutSeconds: 60, signal: AbortSignal.timeout(5000) }, () => {})
      .then(() => undefined, (e: unknown) => e)
    assert.ok(err instanceof Error)
  })

  test('500 → UpstreamError with the status, no body echoed', async () => {
    handler = (_q, res) => {
      res.writeHead(500)
      res.end('secret internals')
    }
    const err = await kubeEventsUpstream(kc).list({ fieldSelector: 'reason=PacketDrop' }, { limit: 1, signal: AbortSignal.timeout(5000) })
      .then(() => undefined, (e: unknown) => e)
    assert.ok(err instanceof UpstreamError)
    assert.equal(err.status, 500)
    assert.doesNotMatch(err.message, /secret/)
  })
})
