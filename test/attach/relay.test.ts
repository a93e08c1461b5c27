// The relay against an upstream this test controls (misbehaving on purpose):
// abrupt closes, failure Statuses, v4 upstreams, keepalive and limits.
import { test, describe, after } from 'node:test'
import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { WebSocket, WebSocketServer } from 'ws'
import { RelaySession, type RelayOptions, type SessionEnd } from '../../src/attach/relay/session.ts'
import { CloseCode } from '../../src/attach/relay/close-codes.ts'
import { exitCodeOf } from '../../src/attach/relay/channel.ts'
import { KDEBUG_PROTOCOL, type ChannelProtocol, type ClientProtocol } from '../../src/attach/protocols.ts'
import { KdebugClient, ChannelClient } from '../helpers/attach-client.ts'
import { ManualTimers } from '../helpers/manual-timers.ts'
import { sessionLimitMs } from '../../src/attach/limits.ts'

interface Rig {
  client: WebSocket
  /** The upstream server's side of the upstream connection. */
  up: WebSocket
  upFrames: Buffer[]
  relay: RelaySession
  warnings: string[]
  done: Promise<SessionEnd>
}

/** Resolves once `cond` holds, checking every 5 ms; the test's own timeout bounds the wait. */
async function until (cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise(resolve => setTimeout(resolve, 5))
}

const servers: WebSocketServer[] = []
// ws' close() waits for open connections: a test that failed midway leaves some, and the file would never exit.
after(async () => {
  for (const s of servers) {
    for (const c of s.clients) c.terminate()
    await new Promise(resolve => s.close(resolve))
  }
})

async function listen (wss: WebSocketServer): Promise<string> {
  servers.push(wss)
  await new Promise<void>(resolve => wss.once('listening', resolve))
  return `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`
}

async function rig (o: { upstreamProtocol?: ChannelProtocol, clientProtocol?: ClientProtocol, relay?: Partial<RelayOptions>, clientOptions?: ConstructorParameters<typeof WebSocket>[2], beforeStart?: (upstream: WebSocket, upSide: Promise<WebSocket>) => Promise<void> } = {}): Promise<Rig & { wrap: <T>(make: (ws: WebSocket) => T) => T }> {
  const upstreamProtocol = o.upstreamProtocol ?? 'v5.channel.k8s.io'
  const clientProtocol = o.clientProtocol ?? KDEBUG_PROTOCOL
  const upWss = new WebSocketServer({ port: 0, host: '127.0.0.1', handleProtocols: () => upstreamProtocol })
  const upUrl = await listen(upWss)
  const upFrames: Buffer[] = []
  const upSide = new Promise<WebSocket>(resolve => upWss.once('connection', ws => {
    ws.on('message', (m: Buffer) => upFrames.push(m))
    resolve(ws)
  }))
  const gwWss = new WebSocketServer({ port: 0, host: '127.0.0.1', handleProtocols: () => clientProtocol === KDEBUG_PROTOCOL ? false : clientProtocol })
  const gwUrl = await listen(gwWss)
  const warnings: string[] = []
  const relayReady = new Promise<RelaySession>(resolve => gwWss.once('connection', (clientSide) => {
    clientSide.pause()
    const upstream = new WebSocket(upUrl, ['v5.channel.k8s.io', 'v4.channel.k8s.io'])
    upstream.once('open', async () => {
      if (o.beforeStart) await o.beforeStart(upstream, upSide)
      const relay = new RelaySession({
        client: clientSide,
        upstream,
        clientProtocol,
        upstreamProtocol,
        tty: true,
        pingIntervalMs: 60_000,
        idleTimeoutMs: 0,
        maxDurationMs: 0,
        highWaterMark: 1 << 20,
        fairnessBudget: 1 << 18,
        onWarning: w => warnings.push(w),
        ...o.relay
      })
      relay.start()
      clientSide.resume()
      resolve(relay)
    })
  }))
  const client = new WebSocket(gwUrl, clientProtocol === KDEBUG_PROTOCOL ? [] : [clientProtocol], o.clientOptions)
  let wrapped: unknown
  const wrap = <T>(make: (ws: WebSocket) => T): T => { wrapped ??= make(client); return wrapped as T }
  await new Promise(resolve => client.once('open', resolve))
  const relay = await relayReady
  return { client, up: await upSide, upFrames, relay, warnings, done: relay.done, wrap }
}

const status = (s: Record<string, unknown>): Buffer => Buffer.concat([Buffer.from([3]), Buffer.from(JSON.stringify(s))])

describe('relay ends', () => {
  test('upstream vanishing without a status: error frame, 1011', async () => {
    const r = await rig()
    const c = r.wrap(ws => new KdebugClient(ws))
    r.up.send(Buffer.from([1, 65, 66]))
    await c.waitText('AB')
    r.up.terminate()
    const err = await c.waitControl('error')
    assert.equal(err.status, 502)
    assert.equal((await c.closed).code, CloseCode.upstreamError)
    const end = await r.done
    assert.equal(end.endedBy, 'upstream')
    assert.equal(end.bytesOut, 2)
  })

  test('an upstream that closed before the relay started still ends the session', async () => {
    const r = await rig({
      beforeStart: async (upstream, upSide) => {
        const closed = new Promise(resolve => upstream.once('close', resolve));
        (await upSide).terminate()
        await closed
      }
    })
    const c = r.wrap(ws => new KdebugClient(ws))
    assert.equal((await c.closed).code, CloseCode.upstreamError)
    assert.equal((await r.done).endedBy, 'upstream')
  })

  test('a Failure Status (not an exit code) becomes an error message and 1011', async () => {
    const r = await rig()
    const c = r.wrap(ws => new KdebugClient(ws))
    r.up.send(status({ metadata: {}, status: 'Failure', message: 'container not found', reason: 'InternalError', code: 500 }))
    r.up.close(1000)
    const err = await c.waitControl('error')
    assert.deepEqual(err, { type: 'error', status: 500, message: 'container not found', reason: 'InternalError' })
    assert.equal((await c.closed).code, 1011)
  })

  test('NonZeroExitCode (exec-style) gives the exit code without a lookup', async () => {
    const r = await rig()
    const c = r.wrap(ws => new KdebugClient(ws))
    r.up.send(status({ metadata: {}, status: 'Failure', reason: 'NonZeroExitCode', message: 'exit 42', details: { causes: [{ reason: 'ExitCode', message: '42' }] } }))
    r.up.close(1000)
    assert.equal((await c.waitControl('exit')).code, 42)
    assert.equal((await c.closed).code, 1000)
    assert.equal((await r.done).exitCode, 42)
  })

  test('Success with the container still running is reported as detached', async () => {
    const r = await rig({ relay: { resolveExitCode: async () => undefined } })
    const c = r.wrap(ws => new KdebugClient(ws))
    r.up.send(status({ metadata: {}, status: 'Success' }))
    r.up.close(1000)
    await c.waitControl('detached')
    assert.equal((await r.done).detached, true)
  })

  test('without the exit-code lookup a Success is neither an exit code nor a detach (unknown, not 0)', async () => {
    const r = await rig()
    const c = r.wrap(ws => new KdebugClient(ws))
    r.up.send(status({ metadata: {}, status: 'Success' }))
    r.up.close(1000)
    assert.equal((await c.closed).code, 1000)
    const end = await r.done
    assert.equal(end.exitCode, undefined)
    assert.notEqual(end.detached, true)
  })

  test('exitCodeOf reads the ExitCode cause only', () => {
    assert.equal(exitCodeOf({ reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '3' }] } }), 3)
    assert.equal(exitCodeOf({ reason: 'InternalError' }), undefined)
  })
})

test('sessionLimitMs: config maximum capped by the policy rule', () => {
  assert.equal(sessionLimitMs(14400, 3600), 3_600_000)
  assert.equal(sessionLimitMs(600, 3600), 600_000)
  assert.equal(sessionLimitMs(0, 3600), 3_600_000)
  assert.equal(sessionLimitMs(0, undefined), 0)
})

describe('v4 upstream', () => {
  test('kdebug close-stdin is refused with a message; the session goes on', async () => {
    const r = await rig({ upstreamProtocol: 'v4.channel.k8s.io' })
    const c = r.wrap(ws => new KdebugClient(ws))
    await c.waitControl('ready')
    c.control({ type: 'close-stdin' })
    const err = await c.waitControl('error')
    assert.equal(err.status, 501)
    c.send('still here')
    // frames arrive in order: a forwarded CLOSE would be the first one
    await until(() => r.upFrames.length >= 1)
    assert.deepEqual(r.upFrames.map(f => f.toString('latin1')), ['\u0000still here'])
    c.ws.close()
    await r.done
  })

  test('a v5 client CLOSE is dropped (v4 has none), other frames pass', async () => {
    const r = await rig({ upstreamProtocol: 'v4.channel.k8s.io', clientProtocol: 'v5.channel.k8s.io' })
    const c = r.wrap(ws => new ChannelClient(ws))
    c.ws.send(Buffer.from([255, 0]))
    c.send(0, 'x')
    c.send(4, '{"Width":10,"Height":5}')
    // frames arrive in order: a forwarded CLOSE would be the first one
    await until(() => r.upFrames.length >= 2)
    assert.deepEqual(r.upFrames.map(f => f[0]), [0, 4])
    assert.ok(r.warnings.some(w => w.includes('v5 CLOSE')))
    c.ws.close()
    await r.done
  })
})

describe('keepalive and limits', () => {
  test('a client that does not answer pings is dropped', async () => {
    const r = await rig({ relay: { pingIntervalMs: 40 }, clientOptions: { autoPong: false } })
    const end = await r.done
    assert.equal(end.closeCode, CloseCode.keepalive)
    assert.equal(end.endedBy, 'gateway')
  })

  test('a slow reader is not mistaken for a dead one (its pongs queue behind output)', async () => {
    const timers = new ManualTimers()
    const r = await rig({ relay: { pingIntervalMs: 30, highWaterMark: 64 * 1024, timers } })
    r.client.pause()
    const chunk = Buffer.concat([Buffer.from([1]), Buffer.alloc(64 * 1024, 97)])
    const flood = setInterval(() => { for (let i = 0; i < 16; i++) r.up.send(chunk) }, 5)
    let ended: SessionEnd | undefined
    r.done.then(end => { ended = end }, () => {})
    try {
      // First reach backpressure, then outlast ten ping intervals in it.
      await until(() => r.relay.stats().upstreamPaused || ended !== undefined)
      assert.equal(ended, undefined, `the session ended before backpressure: ${JSON.stringify(ended)}`)
      for (let i = 0; i < 10; i++) {
        timers.advance(30)
        await new Promise(resolve => setImmediate(resolve)) // pongs that could arrive, do
      }
      assert.ok(r.relay.stats().upstreamPaused, 'backpressure engaged and held')
      assert.equal(ended, undefined, `ended during backpressure: ${JSON.stringify(ended)}`)
      assert.equal(r.client.readyState, WebSocket.OPEN, 'still open after 10 ping intervals')
    } finally {
      clearInterval(flood)
      r.client.terminate()
      // the relay's close handshake may need its force-close timer: let time pass until it ends
      const isEnded = (): boolean => ended !== undefined
      while (!isEnded()) {
        await new Promise(resolve => setImmediate(resolve))
        timers.advance(100)
      }
    }
  })

  test('answered pings keep an idle-free session open', async () => {
    const r = await rig({ relay: { pingIntervalMs: 30 } })
    let pings = 0
    // Waits for three pings however slow the machine is (the test timeout bounds it).
    await new Promise<void>(resolve => r.up.on('ping', () => { if (++pings === 3) resolve() }))
    assert.equal(r.client.readyState, WebSocket.OPEN)
    r.client.close()
    await r.done
  })

  test('idle timeout closes with 4001; activity postpones it', async () => {
    const timers = new ManualTimers()
    const r = await rig({ relay: { idleTimeoutMs: 150, timers } })
    const c = r.wrap(ws => new KdebugClient(ws))
    const t0 = timers.now()
    for (let i = 1; i <= 4; i++) {
      timers.advance(60)
      c.send('k')
      await until(() => r.relay.stats().bytesIn === i) // the input reached the relay at this time
    }
    assert.equal(c.closeInfo, undefined, 'input kept it alive past the idle timeout')
    timers.advance(149)
    await new Promise(resolve => setImmediate(resolve))
    assert.equal(c.closeInfo, undefined, 'not idle yet: 149 ms since the last input')
    timers.advance(1)
    const closed = await c.closed
    assert.equal(closed.code, CloseCode.idle)
    assert.equal(timers.now() - t0, 4 * 60 + 150)
  })

  test('maximum duration closes with 4000 even while busy', async () => {
    const r = await rig({ relay: { maxDurationMs: 120 } })
    const c = r.wrap(ws => new KdebugClient(ws))
    const timer = setInterval(() => c.send('busy'), 20)
    const closed = await c.closed
    clearInterval(timer)
    assert.equal(closed.code, CloseCode.maxDuration)
    assert.equal((await r.done).closeReason, 'maximum session duration reached')
  })

  test('gateway close (shutdown) sends 1001 to the client and closes the upstream', async () => {
    const r = await rig()
    const c = r.wrap(ws => new KdebugClient(ws))
    const upClosed = new Promise<number>(resolve => r.up.once('close', resolve))
    r.relay.close(CloseCode.goingAway, 'gateway shutting down')
    assert.equal((await c.closed).code, 1001)
    assert.equal(await upClosed, 1000)
    assert.equal((await r.done).endedBy, 'gateway')
  })

  test('a fast stdin writer is paused while the upstream queue is above the high-water mark', async () => {
    const r = await rig({ relay: { highWaterMark: 64 * 1024 } })
    r.up.pause() // the upstream stops reading
    const chunk = Buffer.alloc(32 * 1024, 120)
    for (let i = 0; i < 400; i++) r.client.send(chunk)
    await until(() => r.relay.stats().clientPaused)
    const st = r.relay.stats()
    assert.ok(st.clientPaused, 'the client side is no longer read')
    assert.ok(st.upstreamBuffered < 2 * 1024 * 1024, `upstream queue ${st.upstreamBuffered} is bounded`)
    assert.ok(st.bytesIn < 400 * chunk.length, 'not everything was pulled in')
    r.up.resume()
    r.client.close()
    await r.done
  })
})
