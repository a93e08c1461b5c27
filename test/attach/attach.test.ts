import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { floodContent } from '../../src/sim/kubelet/process-shell.ts'
import { startAttachStack, createShellPod, openWs, type AttachStack } from '../helpers/attach-stack.ts'
import { KdebugClient, ChannelClient } from '../helpers/attach-client.ts'

let s: AttachStack
const bearer = (as = 'alice'): Record<string, string> => ({ authorization: `Bearer ${as}-token` })

before(async () => { s = await startAttachStack({ config: { server: { cors: { origins: ['https://portal.example'] } } } }) })
after(async () => { await s.close() })

function attachUrl (pod: string, q = 'container=sh'): string {
  return `${s.wsUrl}/v1/namespaces/demo/pods/${pod}/attach?${q}`
}

describe('kdebug.v1', () => {
  test('echo, resize, exit code 0 reported before a normal close', async () => {
    const pod = await createShellPod(s.sim, { tty: true })
    const { ws, protocol } = await openWs(attachUrl(pod, 'container=sh&tty=true&cols=100&rows=30'), [], { headers: bearer() })
    assert.equal(protocol, '')
    const c = new KdebugClient(ws)
    await c.waitControl('ready')
    c.send('size\r')
    await c.waitText('30 100')
    c.control({ type: 'resize', cols: 120, rows: 40 })
    c.send('echo hello-gw\r')
    await c.waitText('hello-gw\r\n')
    c.send('size\r')
    await c.waitText('40 120')
    c.send('exit 0\r')
    const exit = await c.waitControl('exit')
    assert.equal(exit.code, 0)
    const closed = await c.closed
    assert.equal(closed.code, 1000)
  })

  test('non-zero exit code from the pod status (attach itself reports Success)', async () => {
    const pod = await createShellPod(s.sim)
    const { ws } = await openWs(attachUrl(pod), ['kdebug.v1'], { headers: bearer() })
    const c = new KdebugClient(ws)
    c.send('echo bye\nexit 7\n')
    const exit = await c.waitControl('exit')
    assert.equal(exit.code, 7)
    assert.equal(c.text(), 'bye\n')
    assert.equal((await c.closed).code, 1000)
  })

  test('stderr as text control frames when asked', async () => {
    const pod = await createShellPod(s.sim)
    const { ws } = await openWs(attachUrl(pod, 'container=sh&stderrText=true'), [], { headers: bearer() })
    const c = new KdebugClient(ws)
    c.send('stderr oops\necho fine\n')
    await c.waitText('fine')
    const e = await c.waitControl('stderr')
    assert.equal(e.data, 'oops\n')
    ws.close()
    await c.closed
  })

  test('close-stdin ends a stdinOnce container: exit reported', async () => {
    const pod = await createShellPod(s.sim, { stdinOnce: true })
    const { ws } = await openWs(attachUrl(pod), [], { headers: bearer() })
    const c = new KdebugClient(ws)
    c.send('echo before-eof\nfalse\n')
    await c.waitText('before-eof')
    c.control({ type: 'close-stdin' })
    const exit = await c.waitControl('exit')
    assert.equal(exit.code, 1) // the status of the last command (`false`)
    assert.equal((await c.closed).code, 1000)
  })

  test('close-stdin on a container without stdinOnce detaches: reported, container keeps running', async () => {
    const pod = await createShellPod(s.sim)
    const { ws } = await openWs(attachUrl(pod), [], { headers: bearer() })
    const c = new KdebugClient(ws)
    await c.waitControl('ready')
    c.control({ type: 'close-stdin' })
    await c.waitControl('detached')
    assert.equal((await c.closed).code, 1000)
    assert.equal(c.controls.some(m => m.type === 'exit'), false)
    assert.equal(s.sim.processes.get('demo', pod, 'sh')?.exited, false)
  })

  test('invalid control message closes with 4002', async () => {
    const pod = await createShellPod(s.sim)
    const { ws } = await openWs(attachUrl(pod), [], { headers: bearer() })
    const c = new KdebugClient(ws)
    ws.send('not json', { binary: false })
    const closed = await c.closed
    assert.equal(closed.code, 4002)
  })
})

describe('channel protocols passed through', () => {
  test('v5 client: echo, resize, CLOSE, Status on channel 3', async () => {
    const pod = await createShellPod(s.sim, { stdinOnce: true })
    const { ws, protocol } = await openWs(attachUrl(pod, 'container=sh'), ['v5.channel.k8s.io'], { headers: bearer() })
    assert.equal(protocol, 'v5.channel.k8s.io')
    const c = new ChannelClient(ws)
    c.send(0, 'echo via-v5\n')
    await c.waitText('via-v5\n')
    c.ws.send(Buffer.from([255, 0]))
    const closed = await c.closed
    assert.equal(closed.code, 1000)
    assert.deepEqual(JSON.parse(c.text(3)), { metadata: {}, status: 'Success' })
  })

  test('v4 client against a v5 upstream', async () => {
    const pod = await createShellPod(s.sim, { tty: true })
    const { ws, protocol } = await openWs(attachUrl(pod, 'container=sh&tty=true'), ['v4.channel.k8s.io'], { headers: bearer() })
    assert.equal(protocol, 'v4.channel.k8s.io')
    const c = new ChannelClient(ws)
    c.send(4, JSON.stringify({ Width: 81, Height: 25 }))
    c.send(0, 'size\r')
    await c.waitText('25 81')
    c.send(0, 'exit 3\r')
    await c.closed
    assert.equal(JSON.parse(c.text(3)).status, 'Success')
  })
})

function floodHash (total: number): string {
  const h = createHash('sha256')
  for (let off = 0; off < total; off += 1 << 20) h.update(floodContent(off, Math.min(1 << 20, total - off)))
  return h.digest('hex')
}

async function waitFor (pred: () => boolean, what: string, ms = 60_000): Promise<void> {
  const start = Date.now()
  while (!pred()) {
    if (Date.now() - start > ms) throw new Error(`timed out: ${what}`)
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

describe('large output and backpressure', () => {
  const TOTAL = 50 * 1024 * 1024

  test('50 MiB through kdebug.v1 arrives intact and in order', async () => {
    const pod = await createShellPod(s.sim)
    const { ws } = await openWs(attachUrl(pod), [], { headers: bearer() })
    const h = createHash('sha256')
    let n = 0
    const done = new Promise<void>(resolve => {
      ws.on('message', (raw: Buffer, isBinary: boolean) => {
        if (!isBinary) return
        h.update(raw)
        n += raw.length
        if (n >= TOTAL) resolve()
      })
    })
    ws.send(Buffer.from(`flood ${TOTAL}\n`))
    await done
    assert.equal(n, TOTAL)
    assert.equal(h.digest('hex'), floodHash(TOTAL))
    const session = s.attach.sessions.list().find(x => x.pod === pod)
    assert.ok((session?.relay?.stats().yields ?? 0) > 0, 'a flooding session yields to others after its byte budget')
    ws.close()
  })

  test('50 MiB through v5 passthrough arrives intact and in order', async () => {
    const pod = await createShellPod(s.sim)
    const { ws } = await openWs(attachUrl(pod), ['v5.channel.k8s.io'], { headers: bearer() })
    const h = createHash('sha256')
    let n = 0
    const done = new Promise<void>(resolve => {
      ws.on('message', (raw: Buffer) => {
        if (raw[0] !== 1) return
        h.update(raw.subarray(1))
        n += raw.length - 1
        if (n >= TOTAL) resolve()
      })
    })
    ws.send(Buffer.concat([Buffer.from([0]), Buffer.from(`flood ${TOTAL}\n`)]))
    await done
    assert.equal(h.digest('hex'), floodHash(TOTAL))
    ws.close()
  })

  test('a slow reader pauses the upstream instead of growing gateway buffers; data stays intact', async () => {
    const pod = await createShellPod(s.sim)
    const total = 24 * 1024 * 1024
    const { ws } = await openWs(attachUrl(pod), [], { headers: bearer() })
    const h = createHash('sha256')
    let n = 0
    ws.on('message', (raw: Buffer, isBinary: boolean) => { if (isBinary) { h.update(raw); n += raw.length } })
    const before = new Set(s.attach.sessions.list().map(x => x.id))
    await waitFor(() => s.attach.sessions.list().some(x => !before.has(x.id) || x.relay !== undefined), 'session')
    const session = s.attach.sessions.list().find(x => x.relay && x.user === 'alice' && x.pod === pod)
    assert.ok(session?.relay)
    await new Promise(resolve => setImmediate(resolve)) // openWs resumes the socket on the next turn
    ws.pause() // stop reading: TCP fills, then the gateway's send queue
    ws.send(Buffer.from(`flood ${total}\n`))
    const hwm = s.attachConfig.highWaterMarkBytes
    const window = s.attachConfig.sendWindowBytes
    // The client answers no pings while it does not read: the gateway stops at its send window,
    // whatever the kernel's socket buffers would still take.
    await waitFor(() => session.relay!.stats().upstreamPaused && session.relay!.stats().bytesOut >= window, 'upstream paused')
    let maxBuffered = 0
    for (let i = 0; i < 20; i++) {
      const st = session.relay!.stats()
      maxBuffered = Math.max(maxBuffered, st.clientBuffered)
      assert.ok(st.upstreamPaused, 'upstream stays paused while the client does not read')
      await new Promise(resolve => setTimeout(resolve, 10))
    }
    // Bounded by the high-water mark plus what one upstream read can carry.
    assert.ok(maxBuffered <= hwm + 256 * 1024, `client buffer ${maxBuffered} exceeds the bound`)
    const relayedWhilePaused = session.relay!.stats().bytesOut
    assert.ok(relayedWhilePaused <= window + 256 * 1024, `${relayedWhilePaused} bytes relayed to a reader that acknowledged none: more than the send window and one read`)
    ws.resume()
    await waitFor(() => n >= total, 'all data after resume', 20000)
    assert.equal(h.digest('hex'), floodHash(total))
    ws.close()
  })
})

describe('concurrency', () => {
  test('20 concurrent sessions each see only their own output; all end audited', async () => {
    const pods = await Promise.all(Array.from({ length: 4 }, async () => await createShellPod(s.sim)))
    const clients = await Promise.all(Array.from({ length: 20 }, async (_, i) => {
      const { ws } = await openWs(attachUrl(pods[i % 4] as string, 'container=sh&stdin=true'), [], { headers: bearer() })
      return new KdebugClient(ws)
    }))
    // Several clients share a container: its output goes to each of them, like `kubectl attach` twice.
    clients.forEach((c, i) => { if (i < 4) c.send(`echo marker-${i}\n`) })
    await Promise.all(clients.map(async (c, i) => { await c.waitText(`marker-${i % 4}\n`) }))
    clients.forEach((c, i) => { for (let k = 0; k < 4; k++) if (k !== i % 4) assert.ok(!c.text().includes(`marker-${k}`), 'no cross-talk between pods') })
    for (const c of clients) c.ws.close()
    await Promise.all(clients.map(async c => await c.closed))
    await waitFor(() => !s.attach.sessions.list().some(x => pods.includes(x.pod)), 'all sessions ended')
  })
})

describe('either side closing', () => {
  test('client closing detaches: upstream closed, container still running, audited as ended by client', async () => {
    const pod = await createShellPod(s.sim)
    const { ws } = await openWs(attachUrl(pod), [], { headers: bearer() })
    const c = new KdebugClient(ws)
    c.send('echo hi\n')
    await c.waitText('hi')
    ws.close(1000, 'bye')
    await c.closed
    await waitFor(() => !s.attach.sessions.list().some(x => x.pod === pod), 'session gone')
    const proc = s.sim.processes.get('demo', pod, 'sh')
    assert.ok(proc && !proc.exited, 'the container keeps running after a detach')
    const end = (await s.audit()).find(r => r.action === 'attach.end' && (r.target as Record<string, unknown>).pod === pod)
    assert.ok(end)
    const o = end.outcome as Record<string, unknown>
    assert.equal(o.endedBy, 'client')
    assert.equal(o.closeCode, 1000)
    assert.equal(o.bytesIn, 8)
    assert.equal(o.bytesOut, 3)
  })

  test('the container being killed ends the session with its exit code', async () => {
    const pod = await createShellPod(s.sim)
    const { ws } = await openWs(attachUrl(pod), [], { headers: bearer() })
    const c = new KdebugClient(ws)
    await c.waitControl('ready')
    const proc = s.sim.processes.get('demo', pod, 'sh')
    assert.ok(proc?.kill)
    proc.kill(137)
    const exit = await c.waitControl('exit')
    assert.equal(exit.code, 137)
    assert.equal((await c.closed).code, 1000)
  })
})

describe('refusals before the upgrade are HTTP problems', () => {
  const expectStatus = async (url: string, headers: Record<string, string>, status: number, protocols: string[] = []): Promise<Record<string, unknown>> => {
    const err = await openWs(url, protocols, { headers }).then(() => undefined, (e: Error & { status?: number, body?: string }) => e)
    assert.ok(err, 'expected a refusal')
    assert.equal(err.status, status, err.message)
    return JSON.parse(err.body ?? '{}') as Record<string, unknown>
  }

  test('401 without credentials', async () => {
    await expectStatus(attachUrl('web', 'container=app'), {}, 401)
  })

  test('403 without pods/attach permission (bob) and outside the namespace (alice in payments)', async () => {
    const body = await expectStatus(attachUrl('web', 'container=app'), bearer('bob'), 403)
    assert.match(String(body.permission), /pods\/attach/)
    await expectStatus(`${s.wsUrl}/v1/namespaces/payments/pods/ledger/attach`, bearer('alice'), 403)
    const denied = (await s.audit()).filter(r => r.phase === 'denied' && (r.actor as Record<string, unknown>).user === 'bob')
    assert.ok(denied.length > 0, 'denials are audited')
  })

  test('404 for a pod that does not exist (the pod is read for the policy judgement), the refusal audited', async () => {
    const body = await expectStatus(attachUrl('no-such-pod'), bearer(), 404)
    assert.equal(body.kubernetesReason, 'NotFound')
    const recs = await s.audit()
    const refused = recs.find(r => r.action === 'attach.start' && (r.target as Record<string, unknown>).pod === 'no-such-pod')
    assert.equal(refused?.phase, 'denied')
    assert.equal((refused?.outcome as Record<string, unknown>).status, 404)
  })

  test('400 for a multi-container pod without container, and for a plain GET', async () => {
    await expectStatus(attachUrl('web', ''), bearer(), 400)
    const res = await s.request('/v1/namespaces/demo/pods/web/attach?container=app', { as: 'alice' })
    assert.equal(res.status, 400)
    assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8')
  })

  test('400 when only unsupported subprotocols are offered', async () => {
    await expectStatus(attachUrl('web', 'container=app'), bearer(), 400, ['channel.k8s.io'])
  })

  test('origin check: foreign origin 403, allowed origin and same origin pass', async () => {
    const body = await expectStatus(attachUrl('web', 'container=app'), { ...bearer(), origin: 'https://evil.example' }, 403)
    assert.equal(body.type, 'https://kdebug.dev/problems/origin-forbidden')
    const pod = await createShellPod(s.sim)
    for (const origin of ['https://portal.example', s.url]) {
      const { ws } = await openWs(attachUrl(pod), [], { headers: { ...bearer(), origin } })
      ws.close()
    }
  })
})

describe('audit', () => {
  test('attach.start (who, target, protocol) before, attach.end (duration, bytes, exit code, close) after', async () => {
    const pod = await createShellPod(s.sim)
    const { ws } = await openWs(attachUrl(pod), ['v5.channel.k8s.io'], { headers: bearer() })
    const c = new ChannelClient(ws)
    c.send(0, 'echo audited\nexit 4\n')
    await c.closed
    await waitFor(() => !s.attach.sessions.list().some(x => x.pod === pod), 'session gone')
    const recs = await s.audit()
    const start = recs.find(r => r.action === 'attach.start' && (r.target as Record<string, unknown>).pod === pod)
    assert.ok(start)
    assert.equal(start.phase, 'request')
    assert.deepEqual(start.actor, { user: 'alice', groups: ['dev', 'system:authenticated'] })
    assert.equal((start.target as Record<string, unknown>).container, 'sh')
    assert.equal((start.request as Record<string, unknown>).protocol, 'v5.channel.k8s.io')
    assert.equal((start.decision as Record<string, unknown>).rule, 'developers')
    const end = recs.find(r => r.action === 'attach.end' && r.relatesTo === start.id)
    assert.ok(end)
    const o = end.outcome as Record<string, unknown>
    assert.equal(o.status, 101)
    assert.equal(o.exitCode, 4)
    assert.equal(o.closeCode, 1000)
    assert.equal(o.bytesIn, 'echo audited\nexit 4\n'.length)
    assert.equal(o.bytesOut, 'audited\n'.length)
    assert.equal(typeof o.durationMs, 'number')
    assert.ok((start.seq as number) < (end.seq as number))
  })
})
