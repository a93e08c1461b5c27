import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { createHash } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { WebSocket, WebSocketServer } from 'ws'
import { ProcessTable, type ContainerProcess, type ProcessSpec } from '../../../src/sim/kubelet/process.ts'
import { floodContent } from '../../../src/sim/kubelet/process-shell.ts'
import { loopTurns } from '../../helpers/event-loop.ts'
import { acceptsSubprotocols, negotiateSubprotocol, rejectHandshake, serveAttach, ResizeDecoder, HIGH_WATER_MARK } from '../../../src/sim/kubelet/attach.ts'

// A minimal stand-in for the sim's upgrade handler: /attach/<container>?stdin=…&stdout=…&stderr=…&tty=…
let server: Server
let base: string
const table = new ProcessTable()
const serverSockets = new Map<string, WebSocket>()
const reportExitCode = new Set<string>()

before(async () => {
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (offered) => negotiateSubprotocol(offered) })
  server = createServer((_req, res) => { res.statusCode = 400; res.end() })
  server.on('upgrade', (req, socket, head) => {
    if (!acceptsSubprotocols(req.headers['sec-websocket-protocol'])) { rejectHandshake(socket); return }
    const url = new URL(req.url ?? '/', 'http://x')
    const container = url.pathname.split('/')[2] ?? ''
    const proc = table.get('demo', 'web', container)
    if (!proc) { socket.end('HTTP/1.1 404 Not Found\r\n\r\n'); return }
    const flag = (n: string): boolean => url.searchParams.get(n) === 'true'
    wss.handleUpgrade(req, socket, head, ws => {
      serverSockets.set(container, ws)
      serveAttach(ws, proc, { stdin: flag('stdin'), stdout: flag('stdout'), stderr: flag('stderr'), tty: flag('tty'), reportExitCode: reportExitCode.has(container) })
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  base = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`
})

after(async () => {
  table.closeAll()
  server.closeAllConnections()
  await new Promise(resolve => server.close(resolve))
})

let seq = 0
function start (over: Partial<ProcessSpec> = {}): { name: string, proc: ContainerProcess } {
  const name = `c${++seq}`
  const proc = table.start({ namespace: 'demo', pod: 'web', container: name, image: 'busybox', stdin: true, tty: false, ...over })
  return { name, proc }
}

interface Frame { ch: number, data: Buffer }
class Client {
  readonly ws: WebSocket
  readonly frames: Frame[] = []
  readonly opened: Promise<void>
  readonly closed: Promise<{ code: number, reason: string }>
  #waiters: Array<() => void> = []
  #base64 = false

  constructor (path: string, protocols: string[] = ['v5.channel.k8s.io'], opts: { onData?: (f: Frame) => void } = {}) {
    this.ws = new WebSocket(base + path, protocols)
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => { this.#base64 = this.ws.protocol.includes('base64'); resolve() })
      this.ws.once('error', reject)
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
    })
    this.closed = new Promise(resolve => this.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })))
    this.ws.on('message', (raw: Buffer, isBinary: boolean) => {
      const f = this.#base64 || !isBinary
        ? { ch: raw[0] as number - 48, data: Buffer.from(raw.subarray(1).toString(), 'base64') }
        : { ch: raw[0] as number, data: raw.subarray(1) }
      if (opts.onData) opts.onData(f)
      else this.frames.push(f)
      for (const w of this.#waiters.splice(0)) w()
    })
  }

  text (ch = 1): string { return Buffer.concat(this.frames.filter(f => f.ch === ch).map(f => f.data)).toString() }
  status (): Record<string, unknown> | undefined {
    const s = this.text(3)
    return s ? JSON.parse(s) as Record<string, unknown> : undefined
  }

  async until (pred: () => boolean, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timeout; frames ${JSON.stringify(this.frames.map(f => [f.ch, f.data.toString()]))}`)
      await new Promise<void>(resolve => { this.#waiters.push(resolve); setTimeout(resolve, 20) })
    }
  }

  send (ch: number, data: string | Buffer): void {
    const b = Buffer.from(data)
    if (this.#base64) this.ws.send(String.fromCharCode(48 + ch) + b.toString('base64'))
    else this.ws.send(Buffer.concat([Buffer.from([ch]), b]))
  }
}

describe('subprotocol negotiation', () => {
  test('v5 wins wherever it is offered; else the first kubelet protocol offered; else none', () => {
    assert.equal(negotiateSubprotocol(new Set(['v4.channel.k8s.io', 'v5.channel.k8s.io'])), 'v5.channel.k8s.io')
    assert.equal(negotiateSubprotocol(new Set(['v3.channel.k8s.io', 'v4.base64.channel.k8s.io', 'v4.channel.k8s.io'])), 'v4.base64.channel.k8s.io')
    assert.equal(negotiateSubprotocol(new Set(['v2.channel.k8s.io', 'kdebug.v1'])), false)
    assert.equal(acceptsSubprotocols(undefined), true)
    assert.equal(acceptsSubprotocols('v3.channel.k8s.io, foo'), false)
  })

  test('an unsupported protocol is refused with 403 before the upgrade', async () => {
    const { name } = start()
    const c = new Client(`/attach/${name}?stdin=true&stdout=true`, ['v3.channel.k8s.io'])
    await assert.rejects(c.opened, /HTTP 403/)
  })

  test('v4 is negotiated when only v4 is offered and gets the Status on channel 3', async () => {
    const { name } = start()
    const c = new Client(`/attach/${name}?stdin=true&stdout=true`, ['v4.channel.k8s.io'])
    await c.opened
    assert.equal(c.ws.protocol, 'v4.channel.k8s.io')
    c.send(0, 'echo v4\nexit 0\n')
    const closed = await c.closed
    assert.equal(c.text(), 'v4\n')
    assert.deepEqual(c.status(), { metadata: {}, status: 'Success' })
    assert.equal(closed.code, 1000)
  })

  test('v4.base64 frames are text with an ASCII channel digit', async () => {
    const { name } = start()
    const raw: string[] = []
    const c = new Client(`/attach/${name}?stdin=true&stdout=true`, ['v4.base64.channel.k8s.io'])
    c.ws.on('message', (m: Buffer, isBinary: boolean) => { assert.equal(isBinary, false); raw.push(m.toString()) })
    await c.opened
    c.send(0, 'echo b64\n')
    await c.until(() => c.text() === 'b64\n')
    assert.equal(raw[0], '1')
    assert.equal(raw[1], '1' + Buffer.from('b64\n').toString('base64'))
    c.ws.close()
  })
})

describe('attach session', () => {
  test('readiness: one empty frame on the lowest writable channel', async () => {
    for (const [query, ch] of [['stdout=true&stderr=true', 1], ['stderr=true', 2], ['stdin=true', 3]] as const) {
      const { name } = start()
      const c = new Client(`/attach/${name}?${query}`)
      await c.until(() => c.frames.length > 0)
      assert.deepEqual(c.frames[0], { ch, data: Buffer.alloc(0) })
      c.ws.close()
      await c.closed
    }
  })

  test('echo, stderr on channel 2, exit 0 → Success then close 1000', async () => {
    const { name, proc } = start()
    const c = new Client(`/attach/${name}?stdin=true&stdout=true&stderr=true`)
    await c.opened
    c.send(0, 'echo hello\nstderr bad\n')
    await c.until(() => c.text(2) === 'bad\n')
    assert.equal(c.text(1), 'hello\n')
    c.send(0, 'exit\n')
    const closed = await c.closed
    assert.deepEqual(c.status(), { metadata: {}, status: 'Success' })
    assert.equal(closed.code, 1000)
    assert.equal(proc.exitCode, 0)
  })

  test('exit 3: Success as the kubelet attach reports it; NonZeroExitCode with reportExitCode', async () => {
    const a = start()
    const c = new Client(`/attach/${a.name}?stdin=true&stdout=true`)
    await c.opened
    c.send(0, 'exit 3\n')
    await c.closed
    assert.deepEqual(c.status(), { metadata: {}, status: 'Success' })

    const b = start()
    reportExitCode.add(b.name)
    const d = new Client(`/attach/${b.name}?stdin=true&stdout=true`)
    await d.opened
    d.send(0, 'exit 3\n')
    await d.closed
    const s = d.status()
    assert.equal(s?.['status'], 'Failure')
    assert.equal(s?.['reason'], 'NonZeroExitCode')
    assert.deepEqual(s?.['details'], { causes: [{ reason: 'ExitCode', message: '3' }] })
  })

  test('tty: resize JSON (any key case, several per frame, split across frames) reaches size', async () => {
    const { name } = start({ tty: true })
    const c = new Client(`/attach/${name}?stdin=true&stdout=true&tty=true`)
    await c.opened
    c.send(4, '{"Width":81,"Height":25}\n{"width":100,')
    c.send(4, '"height":30}\n{"Width":0,"Height":0}')
    c.send(0, 'size\r')
    await c.until(() => c.text().includes('30 100\r\n'))
    assert.ok(c.text().startsWith('size\r\n30 100\r\n'), c.text())
    c.ws.close()
  })

  test('v5 CLOSE of stdin with stdinOnce: the shell reads EOF and exits 0', async () => {
    const { name, proc } = start({ stdinOnce: true })
    const c = new Client(`/attach/${name}?stdin=true&stdout=true`)
    await c.opened
    c.send(0, 'echo before\n')
    c.ws.send(Buffer.from([255, 0]))
    await c.closed
    assert.equal(c.text(), 'before\n')
    assert.deepEqual(c.status(), { metadata: {}, status: 'Success' })
    assert.equal(proc.exitCode, 0)
  })

  test('v5 CLOSE of stdin without stdinOnce detaches: Success, the container keeps running', async () => {
    const { name, proc } = start()
    const c = new Client(`/attach/${name}?stdin=true&stdout=true`)
    await c.opened
    c.ws.send(Buffer.from([255, 0]))
    await c.closed
    assert.deepEqual(c.status(), { metadata: {}, status: 'Success' })
    assert.equal(proc.exited, false)
  })

  test('a malformed CLOSE ends the session without a status; client leaving does not kill the process', async () => {
    const { name, proc } = start()
    const c = new Client(`/attach/${name}?stdin=true&stdout=true`)
    await c.opened
    c.ws.send(Buffer.from([255, 0, 1]))
    await c.closed
    assert.equal(c.status(), undefined)
    assert.equal(proc.exited, false)
    const d = new Client(`/attach/${name}?stdin=true&stdout=true`)
    await d.opened
    d.send(0, 'echo still here\n')
    await d.until(() => d.text() === 'still here\n')
    d.ws.terminate()
    await d.closed
    await loopTurns(50) // the server has seen the close and run its cleanup
    assert.equal(proc.exited, false)
  })

  test('a container without stdin: input goes nowhere and stdin EOF does not end the session', async () => {
    const { name, proc } = start({ image: 'nginx:1.27', stdin: false })
    const c = new Client(`/attach/${name}?stdin=true&stdout=true&stderr=true`)
    await c.opened
    c.send(0, 'exit 5\n')
    c.ws.send(Buffer.from([255, 0]))
    await loopTurns(50) // the server has read both messages and handed them on
    assert.equal(c.ws.readyState, WebSocket.OPEN)
    assert.equal(c.status(), undefined)
    assert.equal(proc.exited, false)
    c.ws.close()
    await c.closed
    assert.equal(proc.exited, false)
  })

  test('stdin is ignored when not requested', async () => {
    const { name, proc } = start()
    const c = new Client(`/attach/${name}?stdout=true`)
    await c.opened
    c.send(0, 'exit 5\n')
    await loopTurns(50) // the server has read the message and dropped it
    assert.equal(proc.exited, false)
    c.ws.close()
  })
})

describe('bulk output', () => {
  // Speed is measured in `npm run bench` (attach-throughput), not here.
  test('50 MB arrives intact and in order', async () => {
    const total = 50 * 1024 * 1024
    const { name } = start()
    const hash = createHash('sha256')
    let bytes = 0
    const c = new Client(`/attach/${name}?stdin=true&stdout=true`, ['v5.channel.k8s.io'], {
      onData: f => {
        if (f.ch === 1) { hash.update(f.data); bytes += f.data.length } else c.frames.push(f)
      }
    })
    await c.opened
    c.send(0, `flood ${total}\nexit 0\n`)
    await c.closed
    assert.equal(bytes, total)
    const expected = createHash('sha256')
    for (let off = 0; off < total; off += 1 << 20) expected.update(floodContent(off, Math.min(1 << 20, total - off)))
    assert.equal(hash.digest('hex'), expected.digest('hex'))
    assert.deepEqual(c.status(), { metadata: {}, status: 'Success' })
  })

  test('a client that stops reading pauses the producer; nothing is lost when it resumes', async () => {
    const total = 200 * 1024 * 1024
    const { name, proc } = start()
    let produced = 0
    proc.onOutput((_s, chunk) => { produced += chunk.length })
    const hash = createHash('sha256')
    let bytes = 0
    const c = new Client(`/attach/${name}?stdin=true&stdout=true`, ['v5.channel.k8s.io'], {
      onData: f => { if (f.ch === 1) { hash.update(f.data); bytes += f.data.length } else c.frames.push(f) }
    })
    await c.opened
    c.ws.pause()
    c.send(0, `flood ${total}\nexit 0\n`)
    // Unpaused, the flood emits 1 MB per loop turn (16 chunks of 64 KiB) and would pass the bound
    // within these turns; paused, it stops once the socket buffers are full, however slow the machine.
    await loopTurns(300)
    const serverWs = serverSockets.get(name)
    assert.ok(serverWs)
    assert.ok(serverWs.bufferedAmount < HIGH_WATER_MARK + 256 * 1024, `bufferedAmount ${serverWs.bufferedAmount}`)
    // Kernel socket buffers absorb some output; the rest must wait.
    assert.ok(produced < 32 * 1024 * 1024, `produced ${produced} while paused`)
    await loopTurns(300)
    assert.ok(produced < 32 * 1024 * 1024, `produced ${produced}: the producer stays paused`)
    c.ws.resume()
    await c.closed
    assert.equal(bytes, total)
    const expected = createHash('sha256')
    for (let off = 0; off < total; off += 1 << 20) expected.update(floodContent(off, Math.min(1 << 20, total - off)))
    assert.equal(hash.digest('hex'), expected.digest('hex'))
  })
})

test('ResizeDecoder stops at the first undecodable value, as Go json.Decoder does', () => {
  const d = new ResizeDecoder()
  assert.deepEqual(d.push('{"Width":1,"Height":2}{"Width":"x"}{"Width":3,"Height":4}'), [{ width: 1, height: 2 }])
  assert.equal(d.push('{"Width":5,"Height":6}'), undefined)
  const e = new ResizeDecoder()
  assert.deepEqual(e.push('{"WIDTH":7,"height":8,"Width":9}'), [{ width: 9, height: 8 }])
})
