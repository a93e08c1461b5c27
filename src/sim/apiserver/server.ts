// The simulated API server's HTTP front: fault injection, authentication
// (bearer token), impersonation, authorization of every request with RBAC,
// then routing to discovery, storage, subresources and the review APIs.
import { createServer as createHttpServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { createServer as createNetServer } from 'node:net'
import type { Server, Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { WebSocketServer } from 'ws'
import type { TokenAuthenticator } from '../auth/authn.ts'
import type { RbacAuthorizer } from '../auth/rbac.ts'
import type { Store } from '../storage/store.ts'
import type { PodLifecycle } from '../kubelet/lifecycle.ts'
import type { ProcessTable } from '../kubelet/process.ts'
import type { FaultController } from './faults.ts'
import type { UserInfo } from '../apimachinery/types.ts'
import { impersonate } from '../auth/impersonation.ts'
import { V5_PROTOCOL, acceptsSubprotocols, negotiateSubprotocol, offeredSubprotocols, rejectHandshake, serveAttach, serveAttachFailure, translatorFailureStatus, writeKubeletRefusal } from '../kubelet/attach.ts'
import { StatusError, badRequest, forbidden, forbiddenPath, unauthorized } from '../apimachinery/status.ts'
import { parseRequestInfo } from './request-info.ts'
import type { RequestInfo } from './request-info.ts'
import { VERSION_INFO, apiGroup, apiGroupList, apiVersions, coreV1, groupVersionResources, openapiV3GroupVersion, openapiV3Root } from './discovery.ts'
import { queryBool, readBody, sendError, sendJSON, writeSocketError } from './http-util.ts'
import { sanitize } from './faults.ts'
import { handleResource, attachTarget } from './resources.ts'

export interface ServerContext {
  store: Store
  authn: TokenAuthenticator
  rbac: RbacAuthorizer
  lifecycle: PodLifecycle
  processes: ProcessTable
  faults: FaultController
  watchTimeoutMs: number
  bookmarkIntervalMs: number
  /** Requests the sim does not serve (method + path), for finding what clients need. */
  unknownRequests: string[]
  /** User-Agent headers seen per authenticated user (before impersonation), as the API server's audit log shows them. */
  userAgents: Map<string, Set<string>>
  /** The 1.30+ stream translator terminates v5 WebSockets (false: a pre-1.30 server, v4 and older only). */
  streamTranslator: boolean
  /** Attach streams end after this long without data (kubelet --streaming-connection-idle-timeout); 0 = never. */
  streamIdleTimeoutMs: number
  log: (msg: string) => void
}

export interface TlsMaterial { cert: string | Buffer, key: string | Buffer }

export interface SimServer {
  /** One listener speaking both HTTP and HTTPS (told apart by the first byte: 0x16 = TLS handshake). */
  server: Server
  /** Ends open watches and WebSocket sessions, destroys sockets. */
  shutdown (): void
}

const MASTERS = 'system:masters'

function bearer (req: IncomingMessage): string | undefined {
  const h = req.headers.authorization
  if (!h) return undefined
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h)
  return m?.[1]
}

/** bearer token → user (401 otherwise, as with --anonymous-auth=false). */
export function authenticate (ctx: ServerContext, req: IncomingMessage): UserInfo {
  const token = bearer(req)
  const user = token ? ctx.authn.authenticate(token) : undefined
  if (!user) throw unauthorized()
  noteUserAgent(ctx, user.username, req.headers['user-agent'])
  return user
}

function noteUserAgent (ctx: ServerContext, username: string, ua: string | undefined): void {
  let seen = ctx.userAgents.get(username)
  if (!seen) ctx.userAgents.set(username, seen = new Set())
  if (seen.size < 50) seen.add(ua ?? '')
}

/** The authorization filter: resource attributes from RequestInfo, or the path for non-resource URLs. */
export function authorize (ctx: ServerContext, user: UserInfo, info: RequestInfo, verb = info.verb): void {
  if (!info.isResourceRequest) {
    const d = ctx.rbac.authorize(user, { path: info.path, verb })
    if (!d.allowed) throw forbiddenPath(user.username, verb, info.path)
    return
  }
  const attrs = { namespace: info.namespace || undefined, verb, group: info.apiGroup, version: info.apiVersion, resource: info.resource, subresource: info.subresource || undefined, name: info.name || undefined }
  const d = ctx.rbac.authorize(user, attrs)
  if (!d.allowed) {
    throw forbidden({ user: user.username, verb, resource: info.resource, subresource: info.subresource || undefined, group: info.apiGroup, namespace: info.namespace || undefined, name: info.name || undefined, reason: d.reason || undefined })
  }
}

function notFoundPath (): StatusError {
  return new StatusError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the server could not find the requested resource', reason: 'NotFound', details: {}, code: 404 })
}

async function handleAdmin (ctx: ServerContext, req: IncomingMessage, res: ServerResponse, url: URL, user: UserInfo): Promise<void> {
  if (!user.groups.includes(MASTERS)) throw forbiddenPath(user.username, (req.method ?? 'get').toLowerCase(), url.pathname)
  if (url.pathname === '/__sim/faults') {
    if (req.method === 'GET') return sendJSON(res, 200, ctx.faults.config)
    if (req.method === 'DELETE') return sendJSON(res, 200, ctx.faults.reset())
    if (req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH') {
      const body = await readBody(req)
      let parsed: unknown
      try { parsed = JSON.parse(body.toString('utf8') || '{}') } catch { throw badRequest('invalid JSON') }
      return sendJSON(res, 200, ctx.faults.set(sanitize(parsed)))
    }
  }
  if (url.pathname === '/__sim/compact' && req.method === 'POST') {
    ctx.store.compact()
    return sendJSON(res, 200, { resourceVersion: String(ctx.store.resourceVersion) })
  }
  if (url.pathname === '/__sim/unknown-requests' && req.method === 'GET') return sendJSON(res, 200, ctx.unknownRequests)
  throw notFoundPath()
}

function serverAddress (req: IncomingMessage): string {
  const s = req.socket
  return `${s.localAddress ?? '127.0.0.1'}:${s.localPort ?? 0}`
}

function handleNonResource (ctx: ServerContext, req: IncomingMessage, res: ServerResponse, url: URL): void {
  const p = url.pathname.replace(/\/+$/, '') || '/'
  const parts = p.split('/').filter(Boolean)
  if (req.method !== 'GET' && req.method !== 'HEAD') throw notFoundPath()
  if (p === '/version') return sendJSON(res, 200, VERSION_INFO)
  if (p === '/healthz' || p === '/livez' || p === '/readyz') {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' })
    res.end('ok')
    return
  }
  if (p === '/api') return sendJSON(res, 200, apiVersions(serverAddress(req)))
  if (p === '/api/v1') return sendJSON(res, 200, coreV1())
  if (p === '/apis') return sendJSON(res, 200, apiGroupList())
  if (p === '/openapi/v3') return sendJSON(res, 200, openapiV3Root())
  if (p.startsWith('/openapi/v3/')) {
    const doc = openapiV3GroupVersion(p.slice('/openapi/v3/'.length))
    if (doc) return sendJSON(res, 200, doc)
  }
  if (parts[0] === 'apis' && parts.length === 2) {
    const g = apiGroup(parts[1] ?? '')
    if (g) return sendJSON(res, 200, g)
  }
  if (parts[0] === 'apis' && parts.length === 3) {
    const l = groupVersionResources(parts[1] ?? '', parts[2] ?? '')
    if (l) return sendJSON(res, 200, l)
  }
  throw notFoundPath()
}

function recordUnknown (ctx: ServerContext, req: IncomingMessage, url: URL): void {
  const line = `${req.method ?? 'GET'} ${url.pathname}${url.search}`
  if (ctx.unknownRequests.length < 500) ctx.unknownRequests.push(line)
  ctx.log(`sim: unknown request ${line}`)
}

export function createSimServer (ctx: ServerContext, tls: TlsMaterial): SimServer {
  const sockets = new Set<Socket>()
  const watchClosers = new Set<() => void>()
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) => negotiateSubprotocol(protocols, ctx.streamTranslator)
  })

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://sim.invalid')
    if (ctx.faults.config.refuseConnections && !url.pathname.startsWith('/__sim/')) {
      // kept-alive connections go down too, as when the API server dies
      req.socket.destroy()
      return
    }
    try {
      const isAdmin = url.pathname.startsWith('/__sim/')
      if (!isAdmin) {
        const latency = ctx.faults.latencyFor(url.pathname)
        if (latency > 0) await new Promise(resolve => setTimeout(resolve, latency))
        const injected = ctx.faults.errorFor(url.pathname)
        if (injected) throw injected
      }
      const requester = authenticate(ctx, req)
      if (isAdmin) return await handleAdmin(ctx, req, res, url, requester)
      const user = impersonate(req.headersDistinct, requester, ctx.rbac)
      const info = parseRequestInfo(req.method ?? 'GET', url)
      authorize(ctx, user, info)
      if (!info.isResourceRequest) {
        try {
          handleNonResource(ctx, req, res, url)
        } catch (err) {
          if (err instanceof StatusError && err.code === 404) recordUnknown(ctx, req, url)
          throw err
        }
        return
      }
      const handled = await handleResource({ ctx, req, res, url, info, user, watchClosers })
      if (!handled) {
        recordUnknown(ctx, req, url)
        throw notFoundPath()
      }
    } catch (err) {
      if (!res.headersSent) sendError(res, err)
      else res.destroy()
    }
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => { handle(req, res).catch(() => res.destroy()) }
  const httpServer = createHttpServer(onRequest)
  const httpsServer = createHttpsServer({ cert: tls.cert, key: tls.key }, onRequest)
  // refuseConnections is applied per request (the socket is destroyed), so the admin endpoint stays reachable
  const server = createNetServer((socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => socket.destroy())
    socket.once('data', (first: Buffer) => {
      socket.pause()
      socket.unshift(first)
      const target = first[0] === 0x16 ? httpsServer : httpServer
      target.emit('connection', socket)
      process.nextTick(() => socket.resume())
    })
  })

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const url = new URL(req.url ?? '/', 'http://sim.invalid')
    if (ctx.faults.config.refuseConnections) {
      socket.destroy()
      return
    }
    try {
      const injected = ctx.faults.errorFor(url.pathname)
      if (injected) throw injected
      const requester = authenticate(ctx, req)
      const user = impersonate(req.headersDistinct, requester, ctx.rbac)
      const info = parseRequestInfo(req.method ?? 'GET', url)
      if (!info.isResourceRequest || info.resource !== 'pods' || info.subresource !== 'attach') {
        authorize(ctx, user, info)
        recordUnknown(ctx, req, url)
        throw notFoundPath()
      }
      const isWebSocket = (req.headers.upgrade ?? '').toLowerCase() === 'websocket'
      // GET (WebSocket) is `get pods/attach`, plus `create` (AuthorizePodWebsocketUpgradeCreatePermission); POST (SPDY) is `create`
      authorize(ctx, user, info)
      if (info.verb === 'get') authorize(ctx, user, info, 'create')
      if (!isWebSocket) throw badRequest('Upgrade request required')
      const target = attachTarget(ctx, info, url)
      // Offers the server cannot speak fail the handshake (x/net/websocket: 403, empty body),
      // instead of ws completing a 101 with no protocol.
      if (!acceptsSubprotocols(req.headers['sec-websocket-protocol'], ctx.streamTranslator)) {
        rejectHandshake(socket)
        return
      }
      const refusal = target.refusal
      if (refusal) {
        // 1.30+: v5 is terminated by the stream translator, which upgrades before it dials the
        // kubelet, so the kubelet's refusal arrives as a Status on the error channel. Other
        // protocols are proxied to the kubelet, whose plain-text answer comes back as is.
        if (negotiateSubprotocol(offeredSubprotocols(req.headers['sec-websocket-protocol']), ctx.streamTranslator) !== V5_PROTOCOL) {
          writeKubeletRefusal(socket, refusal.httpStatus, refusal.text)
          return
        }
        const q = (k: string): boolean => queryBool(url.searchParams.get(k))
        wss.handleUpgrade(req, socket, head, (ws) => { serveAttachFailure(ws, { stdout: q('stdout'), stderr: q('stderr') }, translatorFailureStatus(refusal.text)) })
        return
      }
      const { proc, opts } = target
      wss.handleUpgrade(req, socket, head, (ws) => {
        serveAttach(ws, proc, opts)
      })
    } catch (err) {
      writeSocketError(socket, err)
    }
  }
  httpServer.on('upgrade', onUpgrade)
  httpsServer.on('upgrade', onUpgrade)

  return {
    server,
    shutdown () {
      for (const c of [...watchClosers]) c()
      watchClosers.clear()
      for (const ws of wss.clients) ws.terminate()
      wss.close()
      for (const s of sockets) s.destroy()
    }
  }
}
