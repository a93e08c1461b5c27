import { test } from 'node:test'
import assert from 'node:assert/strict'
import { loadKubeConfig } from '../../src/kube/cluster.ts'
import { UpstreamConnector, attachPath } from '../../src/attach/upstream.ts'
import { isProblemError } from '../../src/errors.ts'
import { startSim } from '../../src/sim/index.ts'
import { createShellPod } from '../helpers/attach-stack.ts'

test('attachPath omits false flags, as kubectl does', () => {
  assert.equal(attachPath({ namespace: 'demo', pod: 'web', container: 'debugger-x', stdin: true, stdout: true, stderr: false, tty: true }),
    '/api/v1/namespaces/demo/pods/web/attach?container=debugger-x&stdin=true&stdout=true&tty=true')
})

test('upstream: credentials, impersonation as separate header lines, v5 negotiated, refusals as problems', async () => {
  const sim = await startSim({ startDelayMs: 5 })
  try {
    const connector = new UpstreamConnector({ kubeConfig: loadKubeConfig({ kubeconfigText: sim.kubeconfig }), maxPayload: 1 << 20 })
    const opts = await connector.requestOptions({ user: 'alice', groups: ['dev', 'ops', 'system:authenticated'] })
    const headers = opts.headers as Record<string, string | string[]>
    assert.equal(headers.Authorization, 'Bearer gateway-token')
    assert.equal(headers['Impersonate-User'], 'alice')
    assert.deepEqual(headers['Impersonate-Group'], ['dev', 'ops'])

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
    const err = await connector.connect({ namespace: 'demo', pod: 'web', container: 'app', stdin: false, stdout: true, stderr: false, tty: false }).catch(e => e as unknown)
    assert.ok(isProblemError(err))
    assert.equal(err.status, 503)
    assert.ok((err.extras.retryAfter ?? 0) > 0)
  } finally {
    for (const s of sockets) s.destroy()
    silent.close()
  }
})
