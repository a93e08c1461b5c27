// A minimal API server for attach-sessions and attach-latency (its own
// process, BENCH rule 2): TokenReview (`tok-<user>` is that user, groups
// sre), SubjectAccessReview (always allowed) — so the gateway authenticates
// and authorizes as in production, against warm caches — and
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

const ATTACH_PATH = /^\/api\/v1\/namespaces\/[^/]+\/pods\/[^/]+\/attach$/
const counts = { tokenReviews: 0, sars: 0, attaches: 0 }

async function readBody (req: http.IncomingMessage): Promise<string> {
  let body = ''
  req.setEncoding('utf8')
  for await (const chunk of req) body += chunk as string
  return body
}

async function answer (req: http.IncomingMessage): Promise<{ status: number, body: unknown }> {
  const path = new URL(req.url ?? '/', 'http://mock').pathname
  if (req.method === 'POST' && path === '/apis/authentication.k8s.io/v1/tokenreviews') {
    counts.tokenReviews++
    const token = (JSON.parse(await readBody(req)) as { spec?: { token?: string } }).spec?.token ?? ''
    const user = token.startsWith('tok-') ? token.slice(4) : undefined
    const status = user === undefined
      ? { authenticated: false, error: 'invalid bearer token' }
      : { authenticated: true, user: { username: user, uid: `uid-${user}`, groups: ['sre', 'system:authenticated'] } }
    return { status: 201, body: { kind: 'TokenReview', apiVersion: 'authentication.k8s.io/v1', metadata: {}, spec: {}, status } }
  }
  if (req.method === 'POST' && path === '/apis/authorization.k8s.io/v1/subjectaccessreviews') {
    counts.sars++
    const sar = JSON.parse(await readBody(req)) as { spec?: unknown }
    return { status: 201, body: { kind: 'SubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', metadata: {}, spec: sar.spec, status: { allowed: true } } }
  }
  if (path === '/version') return { status: 200, body: { major: '1', minor: '32', gitVersion: 'v1.32.0-mock' } }
  await readBody(req)
  return { status: 404, body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: `${req.method} ${path} not found` } }
}

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

const server = http.createServer((req, res) => {
  answer(req).then(a => {
    const body = JSON.stringify(a.body)
    res.writeHead(a.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
    res.end(body)
  }, (err: Error) => {
    res.writeHead(400, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ kind: 'Status', status: 'Failure', code: 400, message: err.message }))
  })
})
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
      case 'stats': return { ...processStats(), sessions: wss.clients.size, ...counts }
      case 'gc':
        (globalThis as { gc?: () => void }).gc?.()
        return { ...processStats(), sessions: wss.clients.size, ...counts }
      default: throw new Error(`unknown command ${cmd}`)
    }
  })
})
