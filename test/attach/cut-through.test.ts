// Cut-through end to end: a channel client, the relay, and the upstream connection opened by
// UpstreamConnector with its frame tap (src/attach/relay/frame-tap.ts), against an API server this
// test plays byte by byte: frames split across reads, control frames between them, a malformed
// frame, a client that stops reading.
import { test, describe, after } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { WebSocket, WebSocketServer } from 'ws'
import { loadKubeConfig } from '../../src/kube/cluster.ts'
import { UpstreamConnector } from '../../src/attach/upstream.ts'
import { RelaySession, type RelayOptions } from '../../src/attach/relay/session.ts'
import type { Recorder } from '../../src/attach/recording.ts'
import { pooledReadBuffers } from '../../src/attach/relay/read-buffers.ts'
import { ChannelClient } from '../helpers/attach-client.ts'
import { ClientFrameReader, Op, channelWsFrame, upgradeResponse, wsFrame } from '../helpers/ws-frames.ts'

const V5 = 'v5.channel.k8s.io'
const closers: Array<() => void> = []
after(() => { for (const c of closers) c() })

/** Waits for `cond`; a deadline turns a missing frame into a failure that says so instead of a hang. */
async function until (cond: () => boolean, what = 'the condition', deadlineMs = 30_000): Promise<void> {
  const end = Date.now() + deadlineMs
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 5))
  }
}
const pause = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }
const pattern = (n: number, seed = 0): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i + seed) % 251))
const successFrame = channelWsFrame(3, '{"metadata":{},"status":"Success"}')

interface Upstream { socket: Socket, fromGateway: ClientFrameReader }

/** The API server: answers the attach upgrade with v5, then hands the raw connection to the test. */
async function apiServer (): Promise<{ url: string, next: Promise<Upstream> }> {
  const server = http.createServer((_req, res) => { res.writeHead(404).end() })
  let resolveNext!: (u: Upstream) => void
  const next = new Promise<Upstream>(resolve => { resolveNext = resolve })
  server.on('upgrade', (req: http.IncomingMessage, socket: Socket) => {
    socket.setNoDelay(true)
    socket.write(upgradeResponse(String(req.headers['sec-websocket-key']), V5))
    const fromGateway = new ClientFrameReader()
    socket.on('data', (b: Buffer) => {
      fromGateway.push(b)
      // The close handshake is done once the gateway answered (or sent) a close: the server ends the connection.
      if (fromGateway.frames.some(f => f.opcode === Op.close)) socket.end()
    })
    socket.on('error', () => {})
    resolveNext({ socket, fromGateway })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  closers.push(() => { server.closeAllConnections(); server.close() })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, next }
}

interface Rig {
  client: WebSocket
  up: Upstream
  relay: RelaySession
  /** Channel bytes of the messages the upstream ws itself delivered (what was not cut through). */
  viaWs: number[]
  recorded: Buffer[]
}

async function rig (relayOptions: Partial<RelayOptions> = {}): Promise<Rig> {
  const api = await apiServer()
  const kubeConfig = loadKubeConfig({
    kubeconfigText: `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: '${api.url}', insecure-skip-tls-verify: true } }]
users: [{ name: u, user: { token: t } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
`
  })
  const connector = new UpstreamConnector({ kubeConfig, maxPayload: 1 << 20 })
  const gw = new WebSocketServer({ port: 0, host: '127.0.0.1', handleProtocols: () => V5 })
  await new Promise(resolve => gw.once('listening', resolve))
  closers.push(() => { for (const c of gw.clients) c.terminate(); gw.close() })
  const viaWs: number[] = []
  const recorded: Buffer[] = []
  const recorder: Recorder = {
    output: (b) => { recorded.push(Buffer.from(b)) },
    input: () => {},
    resize: () => {},
    close: async () => ({ file: '', bytes: 0, truncated: false })
  }
  const relayReady = new Promise<RelaySession>((resolve, reject) => gw.once('connection', (clientSide: WebSocket, req: http.IncomingMessage) => {
    clientSide.pause()
    connector.connect({ namespace: 'demo', pod: 'web', stdin: true, stdout: true, stderr: true, tty: false }, undefined, { cutThrough: true }).then(up => {
      assert.ok(up.tap, 'the connection has its tap')
      up.socket.on('message', (m: Buffer) => viaWs.push(m[0] as number))
      const relay = new RelaySession({
        client: clientSide,
        clientConnection: req.socket,
        upstream: up.socket,
        upstreamTap: up.tap,
        clientProtocol: V5,
        upstreamProtocol: up.protocol,
        early: up.takeOver(),
        tty: false,
        pingIntervalMs: 60_000,
        idleTimeoutMs: 0,
        maxDurationMs: 0,
        highWaterMark: 1 << 20,
        fairnessBudget: 1 << 18,
        recorder,
        ...relayOptions
      })
      relay.start()
      clientSide.resume()
      resolve(relay)
    }, reject)
  }))
  const client = new WebSocket(`ws://127.0.0.1:${(gw.address() as AddressInfo).port}/`, [V5])
  const opened = new Promise(resolve => client.once('open', resolve))
  const up = await api.next
  await opened
  return { client, up, relay: await relayReady, viaWs, recorded }
}

describe('cut-through (channel client, frame tap)', () => {
  test('frames split across reads, with a ping between them: the client gets them whole and in order, the recorder every byte', async () => {
    const r = await rig()
    const cc = new ChannelClient(r.client)
    const s = r.up.socket
    const out = pattern(70_000) // a 64-bit length
    const err = pattern(300, 7) // a 16-bit length
    const big = channelWsFrame(1, out)
    const mid = channelWsFrame(2, err)
    s.write(channelWsFrame(1, Buffer.alloc(0))) // readiness
    s.write(big.subarray(0, 5)) // inside the 64-bit length
    await pause(20)
    s.write(big.subarray(5, 30_000))
    await pause(20)
    s.write(Buffer.concat([big.subarray(30_000), wsFrame(Op.ping, Buffer.from('hb')), mid.subarray(0, 2)]))
    await pause(20)
    s.write(Buffer.concat([mid.subarray(2), channelWsFrame(1, 'tail')]))
    await until(() => cc.frames.length >= 3)
    s.write(successFrame)
    s.write(wsFrame(Op.close, Buffer.from([0x03, 0xe8])))
    const end = await r.relay.done
    const closed = await cc.closed

    assert.deepEqual(cc.frames.map(f => f.ch), [1, 2, 1, 3], 'one message per frame, in the order sent')
    assert.ok(cc.frames[0]?.data.equals(out))
    assert.ok(cc.frames[1]?.data.equals(err))
    assert.equal(cc.frames[2]?.data.toString(), 'tail')
    assert.equal(closed.code, 1000)
    assert.equal(end.endedBy, 'upstream')
    assert.equal(end.bytesOut, out.length + err.length + 4)
    assert.ok(Buffer.concat(r.recorded).equals(Buffer.concat([out, err, Buffer.from('tail')])), 'the recorder got exactly the output bytes')
    assert.deepEqual(r.viaWs, [1, 3], 'only the readiness frame and the Status went through ws: the output was cut through')
    assert.ok(r.up.fromGateway.frames.some(f => f.opcode === Op.pong && f.payload.toString() === 'hb'), 'ws still answers the API server\'s pings')
  })

  test('a malformed frame from the API server ends the session: 1002 upstream, 1011 to the client', async () => {
    const r = await rig()
    const cc = new ChannelClient(r.client)
    r.up.socket.write(channelWsFrame(1, 'before'))
    await until(() => cc.frames.length === 1)
    r.up.socket.write(Buffer.concat([channelWsFrame(1, 'x', { mask: true }), channelWsFrame(1, 'after')]))
    const closed = await cc.closed
    const end = await r.relay.done
    assert.equal(closed.code, 1011)
    assert.equal(end.error?.status, 502)
    assert.deepEqual(cc.frames.map(f => f.data.toString()), ['before'], 'nothing after the malformed frame reached the client')
    const close = r.up.fromGateway.frames.find(f => f.opcode === Op.close)
    assert.equal(close?.payload.readUInt16BE(0), 1002, 'ws failed the upstream connection with a protocol error')
  })

  test('a client that stops reading pauses the upstream connection; nothing is lost or reordered', async () => {
    const r = await rig({ highWaterMark: 256 * 1024, fairnessBudget: 1 << 30 })
    const s = r.up.socket
    const frames = 200
    const size = 64 * 1024
    const frameOf = (i: number): Buffer => channelWsFrame(1, pattern(size, i))
    const got: Buffer[] = []
    r.client.on('message', (m: Buffer) => { if (m[0] === 1) got.push(m.subarray(1)) })
    r.client.pause()
    let sent = 0
    const pump = async (): Promise<void> => {
      while (sent < frames) {
        if (!s.write(frameOf(sent++))) await new Promise(resolve => s.once('drain', resolve))
      }
    }
    const pumping = pump()
    await until(() => r.relay.stats().upstreamPaused)
    await pause(100)
    const held = r.relay.stats().bytesOut
    await pause(200)
    assert.equal(r.relay.stats().bytesOut, held, 'the upstream connection is not read while paused (cut-through frames included)')
    assert.ok(held < frames * size, `only part of the flood was read (${held} bytes)`)
    r.client.resume()
    await pumping
    await until(() => got.length === frames)
    for (let i = 0; i < frames; i++) assert.ok(got[i]?.equals(pattern(size, i)), `frame ${i} intact and in order`)
    assert.ok(pooledReadBuffers() > 0, 'the flood was read into pooled buffers, returned once written (and none reused early: every frame is intact)')
    s.write(successFrame)
    s.write(wsFrame(Op.close, Buffer.from([0x03, 0xe8])))
    assert.equal((await r.relay.done).closeCode, 1000)
  })

  test('two sessions flooding at once through the shared read pool: each client gets only its own bytes, whole and in order', async () => {
    const a = await rig({ highWaterMark: 256 * 1024, fairnessBudget: 1 << 30 })
    const b = await rig({ highWaterMark: 256 * 1024, fairnessBudget: 1 << 30 })
    const frames = 120
    const size = 64 * 1024
    // Distinct contents per session and frame: a buffer reused too early, or handed to the other
    // session, shows up as a frame that is not the one expected.
    const frameOf = (session: number, i: number): Buffer => pattern(size, session * 1000 + i)
    const received = (c: WebSocket): Buffer[] => {
      const got: Buffer[] = []
      c.on('message', (m: Buffer) => { if (m[0] === 1) got.push(Buffer.from(m.subarray(1))) })
      return got
    }
    const gotA = received(a.client)
    const gotB = received(b.client)
    b.client.pause() // one slow reader: its frames stay referenced while the other session's reads recycle buffers
    const pump = async (s: Socket, session: number): Promise<void> => {
      for (let i = 0; i < frames; i++) {
        if (!s.write(channelWsFrame(1, frameOf(session, i)))) await new Promise(resolve => s.once('drain', resolve))
      }
    }
    const pumping = Promise.all([pump(a.up.socket, 1), pump(b.up.socket, 2)])
    await until(() => gotA.length === frames, `session A's ${frames} frames`)
    b.client.resume()
    await pumping
    await until(() => gotB.length === frames, `session B's ${frames} frames`)
    for (let i = 0; i < frames; i++) {
      assert.ok(gotA[i]?.equals(frameOf(1, i)), `session A frame ${i} is A's own, intact and in order`)
      assert.ok(gotB[i]?.equals(frameOf(2, i)), `session B frame ${i} is B's own, intact and in order`)
    }
    for (const r of [a, b]) {
      r.up.socket.write(successFrame)
      r.up.socket.write(wsFrame(Op.close, Buffer.from([0x03, 0xe8])))
      assert.equal((await r.relay.done).closeCode, 1000)
    }
  })
})
