// A minimal API server for attach-sessions and attach-latency (its own
// process, BENCH rule 2): the REST answers of kube-mock.ts (TokenReview,
// SAR, the pod with its running container `c`, leases) — so the gateway
// authenticates, authorizes and judges the pod as in production, against
// warm caches — and
// `pods/{pod}/attach` as a WebSocket speaking v5.channel.k8s.io (v4 too): the
// empty readiness frame, stdin echoed as stdout, otherwise idle until a side
// closes. stdin `flood CHUNK\n` starts an endless stdout flood of CHUNK-byte
// frames (paced by the socket: above 1 MiB queued it waits for the drain).
// IPC (lib/service.ts): ready {port}; 'stats' → process stats, open attach
// sessions and review counts; 'gc' (with --expose-gc).
import http from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'
import { processStats, serveCommands } from '../lib/service.ts'
import { kubeHandler, kubeMockState, kubeStats } from './kube-mock.ts'

const ATTACH_PATH = /^\/api\/v1\/namespaces\/[^/]+\/pods\/[^/]+\/attach$/
const counts = { attaches: 0 }
const state = kubeMockState()

const FLOOD = /^flood (\d+)\n/
const HIGH_WATER = 1 << 20

function flood (ws: WebSocket, chunk: number): void {
  const frame = Buffer.alloc(chunk + 1, 0x2e)
  frame[0] = 1
  const perTurn = Math.max(1, Math.floor(HIGH_WATER / chunk))
  const pump = (): void => {
    // Stops as soon as the session is no longer open. At most 1 MiB per turn: a reader that keeps up
    // (the kernel takes every write at once, so bufferedAmount stays 0) must not pin the loop for ever.
    for (let i = 0; i < perTurn && ws.readyState === ws.OPEN && ws.bufferedAmount <= HIGH_WATER; i++) ws.send(frame)
    if (ws.readyState !== ws.OPEN) return
    if (ws.bufferedAmount > HIGH_WATER) setTimeout(pump, 1)
    else setImmediate(pump)
  }
  pump()
}

function serve (ws: WebSocket): void {
  counts.attaches++
  ws.on('error', () => {})
  ws.send(Buffer.from([1])) // readiness
  ws.on('message', (raw: Buffer) => {
    if (raw[0] !== 0) return
    const m = raw.length < 32 ? FLOOD.exec(raw.subarray(1).toString('latin1')) : null
    if (m) flood(ws, Number(m[1]))
    else ws.send(Buffer.concat([Buffer.from([1]), raw.subarray(1)]))
  })
}

const server = http.createServer(kubeHandler(state))
server.keepAliveTimeout = 120_000
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, handleProtocols: (p) => p.has('v5.channel.k8s.io') ? 'v5.channel.k8s.io' : p.has('v4.channel.k8s.io') ? 'v4.channel.k8s.io' : false })
server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
  if (!ATTACH_PATH.test(new URL(req.url ?? '/', 'http://mock').pathname)) { socket.destroy(); return }
  wss.handleUpgrade(req, socket, head, serve)
})
// Hundreds of sessions open at once: a deeper accept queue than the default 511.
server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => {
  const address = server.address()
  serveCommands({ port: typeof address === 'object' && address !== null ? address.port : 0 }, (cmd) => {
    switch (cmd) {
      case 'stats': return { ...processStats(), ...kubeStats(state), sessions: wss.clients.size, ...counts }
      case 'gc':
        (globalThis as { gc?: () => void }).gc?.()
        return { ...processStats(), ...kubeStats(state), sessions: wss.clients.size, ...counts }
      default: throw new Error(`unknown command ${cmd}`)
    }
  })
})
