// The readiness probe's call: GET /version over the shared transport.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Cluster } from '../../src/kube/cluster.ts'
import { ProblemError } from '../../src/errors.ts'
import { kubeConfigFor } from '../helpers/kubeconfig.ts'

async function serve (handler: Parameters<typeof createServer>[1]): Promise<{ server: Server, url: string }> {
  const server = createServer(handler)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

test('ping: the git version from /version, with the gateway\'s credentials; one pooled connection for repeated probes', async (t) => {
  const seen: Array<{ url?: string, auth?: string }> = []
  let connections = 0
  const { server, url } = await serve((req, res) => {
    seen.push({ url: req.url, auth: req.headers.authorization })
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ major: '1', minor: '33', gitVersion: 'v1.33.2' }))
  })
  server.on('connection', () => { connections++ })
  t.after(() => { server.closeAllConnections(); server.close() })
  const cluster = new Cluster(kubeConfigFor(url, 'gateway-token'))
  for (let i = 0; i < 3; i++) assert.equal(await cluster.ping(), 'v1.33.2')
  assert.deepEqual(seen[0], { url: '/version', auth: 'Bearer gateway-token' })
  assert.equal(connections, 1)
})

test('ping: an error answer, a body without gitVersion and an unreachable server are problems', async (t) => {
  let mode: 'status' | 'empty' = 'status'
  const { server, url } = await serve((_req, res) => {
    if (mode === 'status') res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', status: 'Failure', reason: 'ServiceUnavailable', code: 503, message: 'etcd down' }))
    else res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
  })
  t.after(() => { server.closeAllConnections(); server.close() })
  const cluster = new Cluster(kubeConfigFor(url, 'gateway-token'))
  await assert.rejects(cluster.ping(), (e: unknown) => e instanceof ProblemError && e.status === 503)
  mode = 'empty'
  await assert.rejects(cluster.ping(), (e: unknown) => e instanceof ProblemError && e.status === 502)

  const closed = createServer()
  await new Promise<void>(resolve => closed.listen(0, '127.0.0.1', resolve))
  const port = (closed.address() as AddressInfo).port
  await new Promise(resolve => closed.close(resolve))
  await assert.rejects(new Cluster(kubeConfigFor(`http://127.0.0.1:${port}`, 'gateway-token')).ping(), (e: unknown) => e instanceof ProblemError && e.status === 503)
})
