// The raw API-server transport: connections are pooled (client-node's own
// agent opens a new one per call), watches are parsed per JSON value.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { KubeConfig } from '@kubernetes/client-node'
import { closeKubeConnections, openKubeRequest, readBody, upgradeRefusal, watchEvents } from '../../src/kube/transport.ts'
import { toProblem } from '../../src/kube/errors.ts'
import { kubeConfigFor } from '../helpers/kubeconfig.ts'

/** A server answering `{}` that counts the connections made to it. */
async function countingServer (): Promise<{ server: http.Server, port: number, connections: () => number }> {
  let connections = 0
  const server = http.createServer((_req, res) => { res.end('{}') })
  server.on('connection', () => { connections++ })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { server, port: (server.address() as { port: number }).port, connections: () => connections }
}

test('sequential calls reuse one keep-alive connection and carry the credentials', async () => {
  let connections = 0
  const auth: string[] = []
  const server = http.createServer((req, res) => {
    auth.push(req.headers.authorization ?? '')
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ path: req.url }))
  })
  server.on('connection', () => { connections++ })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  const kc = kubeConfigFor(`http://127.0.0.1:${port}`, 'transport-test-token')
  try {
    for (let i = 0; i < 5; i++) {
      const res = await openKubeRequest(kc, '/api/v1/namespaces/demo/pods/web', { idleMs: 5000 })
      assert.equal(JSON.parse(await readBody(res)).path, '/api/v1/namespaces/demo/pods/web')
    }
    assert.equal(connections, 1)
    assert.deepEqual(new Set(auth), new Set(['Bearer transport-test-token']))
  } finally {
    closeKubeConnections(kc)
    server.close()
  }
})

test('a changed client certificate gets a new connection; the same one keeps the pooled connection', async () => {
  const { server, port, connections } = await countingServer()
  const kc = new KubeConfig()
  // Certificate bytes are only compared, never used, over plain HTTP.
  const withCert = (pem: string): void => {
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'u', certData: Buffer.from(pem).toString('base64'), keyData: Buffer.from('key').toString('base64') }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x'
    })
  }
  const call = async (): Promise<void> => { await readBody(await openKubeRequest(kc, '/api', { idleMs: 5000 })) }
  try {
    withCert('cert-1')
    await call()
    await call()
    assert.equal(connections(), 1, 'the same certificate (new Buffers each call) reuses the pool')
    withCert('cert-2')
    await call()
    assert.equal(connections(), 2, 'a rotated certificate does not reuse a connection made with the old one')
    await call()
    assert.equal(connections(), 2)
  } finally {
    closeKubeConnections(kc)
    server.close()
  }
})

test('credentials are read once for concurrent calls and again after a second: a certificate file rotated on disk is used', async () => {
  const { server, port, connections } = await countingServer()
  const dir = await mkdtemp(join(tmpdir(), 'kdebug-transport-'))
  const certFile = join(dir, 'client.crt')
  await writeFile(certFile, 'cert-1')
  const kc = new KubeConfig()
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u', certFile, keyData: Buffer.from('key').toString('base64') }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x'
  })
  let reads = 0
  const apply = kc.applyToHTTPSOptions.bind(kc)
  kc.applyToHTTPSOptions = async (opts) => { reads++; await apply(opts) }
  const call = async (): Promise<void> => { await readBody(await openKubeRequest(kc, '/api', { idleMs: 5000 })) }
  try {
    await Promise.all(Array.from({ length: 10 }, call))
    assert.equal(reads, 1, 'ten calls at once share one reading of the kubeconfig')
    await writeFile(certFile, 'cert-2')
    await call()
    assert.equal(reads, 1, 'within the second, the reading is reused')
    const before = connections()
    await new Promise(resolve => setTimeout(resolve, 1100))
    await call()
    assert.equal(reads, 2, 'after a second the kubeconfig is read again')
    assert.equal(connections(), before + 1, 'the rotated certificate gets its own connection')
  } finally {
    closeKubeConnections(kc)
    server.close()
    await rm(dir, { recursive: true, force: true })
  }
})

test('watch events are split on newlines, not on HTTP chunks', async () => {
  const server = http.createServer((_req, res) => {
    res.write('{"type":"ADDED","object":{"n":1}}\n{"type":"MOD')
    setTimeout(() => { res.end('IFIED","object":{"n":2}}\n\n') }, 10)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  const kc = kubeConfigFor(`http://127.0.0.1:${port}`, 'transport-test-token')
  try {
    const res = await openKubeRequest(kc, '/api/v1/events?watch=true', { idleMs: 5000 })
    const seen: unknown[] = []
    for await (const e of watchEvents<{ type: string, object: { n: number } }>(res)) seen.push([e.type, e.object.n])
    assert.deepEqual(seen, [['ADDED', 1], ['MODIFIED', 2]])
  } finally {
    closeKubeConnections(kc)
    server.close()
  }
})

test('upgradeRefusal: the kubelet\'s plain text and a 500 Status are 502 (the node), never "API server unavailable"', () => {
  const text = upgradeRefusal('attach', 500, undefined, 'container c not found in pod p_demo')
  assert.deepEqual([text.status, text.code, text.detail], [502, 'GW_UPSTREAM_ERROR', 'The kubelet refused the attach: container c not found in pod p_demo'])
  const tty = upgradeRefusal('attach', 500, undefined, 'rpc error: code = InvalidArgument desc = tty and stderr cannot both be true')
  assert.equal(tty.status, 502)
  const dial = upgradeRefusal('attach', 500, { status: 'Failure', message: 'error dialing backend: dial tcp 10.0.0.5:10250: connect: connection refused', reason: 'InternalError', code: 500 }, '')
  assert.deepEqual([dial.status, dial.extras.kubernetesReason], [502, 'InternalError'])
  assert.equal(upgradeRefusal('attach', 503, { status: 'Failure', reason: 'ServiceUnavailable', code: 503 }, '').status, 503)
  assert.equal(upgradeRefusal('attach', 404, { status: 'Failure', message: 'pods "x" not found', reason: 'NotFound', code: 404 }, '').status, 404)
  const long = upgradeRefusal('attach', 500, undefined, 'x'.repeat(10_000))
  assert.ok(long.detail.length < 400)
})

test('readBody: the whole body across chunks; with maxBytes only that much; a connection cut mid-body rejects as a network failure', async () => {
  const big = 'x'.repeat(200_000)
  const server = http.createServer((req, res) => {
    if (req.url === '/cut') {
      // Promise more than is sent, then drop the connection.
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' })
      res.write('{"partial":')
      setTimeout(() => { res.socket?.destroy() }, 20)
      return
    }
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.write(big.slice(0, 100_000))
    setTimeout(() => { res.end(big.slice(100_000)) }, 10)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const kc = kubeConfigFor(`http://127.0.0.1:${(server.address() as { port: number }).port}`, 'transport-test-token')
  try {
    assert.equal(await readBody(await openKubeRequest(kc, '/whole', { idleMs: 5000 })), big)
    assert.equal(await readBody(await openKubeRequest(kc, '/capped', { idleMs: 5000 }), 1234), big.slice(0, 1234))
    await assert.rejects(readBody(await openKubeRequest(kc, '/cut', { idleMs: 5000 })), (err: unknown) => toProblem(err).status === 503)
  } finally {
    closeKubeConnections(kc)
    server.closeAllConnections()
    server.close()
  }
})
