// A minimal attach upstream for pure relay cost: the REST answers the gateway
// needs before it dials (kube-mock.ts: TokenReview, SAR, the pod with its
// running container `c`) and `pods/{pod}/attach` as a WebSocket speaking
// v5.channel.k8s.io. stdin `flood BYTES CHUNK\n` → BYTES of a periodic
// pattern as stdout frames of CHUNK bytes (pausing while more than 1 MiB is
// queued, like a kubelet), then a Success Status and close; `flood 0 CHUNK`
// floods until the client leaves. Other stdin is echoed back.
// IPC (lib/service.ts): ready {port}; 'stats' → process stats and counters.
import http from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'
import { processStats, serveCommands } from '../lib/service.ts'
import { kubeHandler, kubeMockState, kubeStats } from './kube-mock.ts'
import { PATTERN_PERIOD, patternBytes } from '../lib/pattern.ts'

const HIGH = 1 << 20
const YIELD_BYTES = 1 << 20

function serve (ws: WebSocket): void {
  ws.send(Buffer.from([1])) // readiness
  let stopped = false
  ws.on('close', () => { stopped = true })
  ws.on('error', () => {})
  ws.on('message', (raw: Buffer) => {
    if (raw[0] !== 0) return
    const text = raw.subarray(1).toString()
    const m = /^flood (\d+) (\d+)/.exec(text)
    if (!m) { ws.send(Buffer.concat([Buffer.from([1]), raw.subarray(1)])); return }
    const total = Number(m[1])
    const chunk = Number(m[2])
    // One pre-built frame per phase of the pattern, so generating costs nothing per frame.
    const frames = Array.from({ length: PATTERN_PERIOD }, (_, phase) => Buffer.concat([Buffer.from([1]), patternBytes(phase, chunk)]))
    let sent = 0
    const pump = (): void => {
      // A reader that keeps up never fills bufferedAmount: yield every 1 MiB
      // anyway, or handshakes and pings on this process starve.
      let turn = 0
      for (;;) {
        if (stopped || (total !== 0 && sent >= total)) break
        if (turn >= YIELD_BYTES) { setImmediate(pump); return }
        const n = total === 0 ? chunk : Math.min(chunk, total - sent)
        const f = frames[sent % PATTERN_PERIOD] as Buffer
        ws.send(n === chunk ? f : f.subarray(0, n + 1))
        sent += n
        turn += n
        if (ws.bufferedAmount > HIGH) { setTimeout(pump, 1); return }
      }
      if (!stopped && ws.readyState === ws.OPEN) {
        ws.send(Buffer.concat([Buffer.from([3]), Buffer.from('{"metadata":{},"status":"Success"}')]))
        ws.close(1000)
      }
    }
    pump()
  })
}

const ATTACH_PATH = /^\/api\/v1\/namespaces\/[^/]+\/pods\/[^/]+\/attach$/

const state = kubeMockState()
const server = http.createServer(kubeHandler(state))
server.keepAliveTimeout = 120_000
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, handleProtocols: (p) => p.has('v5.channel.k8s.io') ? 'v5.channel.k8s.io' : false })
server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
  if (!ATTACH_PATH.test(new URL(req.url ?? '/', 'http://mock').pathname)) { socket.destroy(); return }
  wss.handleUpgrade(req, socket, head, serve)
})
server.listen({ host: '127.0.0.1', port: 0 }, () => {
  const address = server.address()
  serveCommands({ port: typeof address === 'object' && address !== null ? address.port : 0 }, (cmd) => {
    if (cmd === 'stats') return { ...processStats(), ...kubeStats(state), sessions: wss.clients.size }
    throw new Error(`unknown command ${cmd}`)
  })
})
