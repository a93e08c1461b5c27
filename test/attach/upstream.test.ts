import { test } from 'node:test'
import assert from 'node:assert/strict'
import { loadKubeConfig } from '../../src/kube/cluster.ts'
import { UpstreamConnector, attachPath } from '../../src/attach/upstream.ts'
import { isProblemError } from '../../src/errors.ts'
import { closeKubeConnections } from '../../src/kube/transport.ts'
import { startSim } from '../../src/sim/index.ts'
import { createShellPod } from '../helpers/attach-stack.ts'

test('attachPath omits false flags, as kubectl does', () => {
  assert.equal(attachPath({ namespace: 'demo', pod: 'web', container: 'debugger-x', stdin: true, stdout: true, stderr: false, tty: true }),
    '/api/v1/namespaces/demo/pods/web/attach?container=debugger-x&stdin=true&stdout=true&tty=true')
})

test('upstream: credentials and impersonation as separate header lines reach the API server', async () => {
  const { createServer } = await import('node:http')
  const seen: string[][] = []
  // Records the handshake's header lines, then refuses it as the API server would a missing pod.
  const server = createServer((req, res) => {
    seen.push(req.rawHeaders)
    res.writeHead(404, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ kind: 'Status', status: 'Failure', message: 'pods "web" not found', reason: 'NotFound', code: 404 }))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  const kubeconfigText = `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: 'http://127.0.0.1:${port}', insecure-skip-tls-verify: true } }]
users: [{ name: u, user: { token: gateway-token } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
`
  const kubeConfig = loadKubeConfig({ kubeconfigText })
  try {
    const connector = new UpstreamConnector({ kubeConfig, maxPayload: 1 << 20 })
    const err = await connector.connect({ namespace: 'demo', pod: 'web', container: 'app', stdin: true, stdout: true, stderr: false, tty: true }, { user: 'alice', groups: ['dev', 'ops', 'system:authenticated'] }).catch(e => e as unknown)
    assert.ok(isProblemError(err))
    assert.equal(err.status, 404)
    const lines = seen[0] ?? []
    const values = (name: string): string[] => lines.flatMap((v, i) => i % 2 === 0 && v.toLowerCase() === name ? [lines[i + 1] as string] : [])
    assert.deepEqual(values('authorization'), ['Bearer gateway-token'])
    assert.deepEqual(values('impersonate-user'), ['alice'])
    assert.deepEqual(values('impersonate-group'), ['dev', 'ops'], 'one line per group; system:authenticated is implied')
    assert.deepEqual(values('sec-websocket-protocol'), ['v5.channel.k8s.io,v4.channel.k8s.io'])
    assert.match(values('user-agent')[0] ?? '', /kdebug-gateway/)
  } finally {
    closeKubeConnections(kubeConfig)
    server.close()
  }
})

test('upstream: v5 negotiated with the sim, early frames kept, refusals as problems', async () => {
  const sim = await startSim({ startDelayMs: 5 })
  try {
    const connector = new UpstreamConnector({ kubeConfig: loadKubeConfig({ kubeconfigText: sim.kubeconfig }), maxPayload: 1 << 20 })
    const pod = await createShellPod(sim)
    const up = await connector.connect({ namespace: 'demo', pod, container: 'sh', stdin: true, stdout: true, stderr: true, tty: false })
    assert.equal(up.protocol, 'v5.channel.k8s.io')
    // Paused until the relay takes over: nothing is lost meanwhile.
    await new Promise(resolve => setTimeout(resolve, 50))
    const early = up.takeOver().map(m => [...m.data])
    const later = new Promise<number[]>(resolve => up.socket.once('message', (m: Buffer) => resolve([...m])))
    up.socket.resume()
    assert.deepEqual([...early, ...(early.length === 0 ? [await later] : [])], [[1]], 'the empty readiness frame on stdout reaches the relay')
    up.socket.close()

    const missing = await connector.connect({ namespace: 'demo', pod: 'nope', stdin: false, stdout: true, stderr: false, tty: false }).catch(e => e as unknown)
    assert.ok(isProblemError(missing))
    assert.equal(missing.status, 404)
    const multi = await connector.connect({ namespace: 'demo', pod: 'web', stdin: false, stdout: true, stderr: false, tty: false }).catch(e => e as unknown)
    assert.ok(isProblemError(multi))
    assert.equal(multi.status, 400)
    assert.match(multi.detail, /container name must be specified/)
  } finally {
    await sim.close()
  }
})

test('upstream: an API server that never completes the handshake is a 503, not a 500', async () => {
  const { createServer } = await import('node:net')
  const sockets: import('node:net').Socket[] = []
  const silent = createServer(s => { sockets.push(s) }) // accepts, never answers
  await new Promise<void>(resolve => silent.listen(0, '127.0.0.1', resolve))
  const { port } = silent.address() as { port: number }
  const kubeconfigText = `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: 'http://127.0.0.1:${port}', insecure-skip-tls-verify: true } }]
users: [{ name: u, user: { token: t } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
`
  try {
    const connector = new UpstreamConnector({ kubeConfig: loadKubeConfig({ kubeconfigText }), maxPayload: 1 << 20, handshakeTimeoutMs: 200 })
    // Both ways of opening the connection: pooled, and with the cut-through frame tap under ws.
    for (const cutThrough of [false, true]) {
      const err = await connector.connect({ namespace: 'demo', pod: 'web', container: 'app', stdin: false, stdout: true, stderr: false, tty: false }, undefined, { cutThrough }).catch(e => e as unknown)
      assert.ok(isProblemError(err), `cutThrough ${cutThrough}`)
      assert.equal(err.status, 503)
      assert.ok((err.extras.retryAfter ?? 0) > 0)
    }
  } finally {
    for (const s of sockets) s.destroy()
    silent.close()
  }
})
