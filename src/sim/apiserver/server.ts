// The simulated API server's HTTP front: fault injection, authentication
// (bearer token), impersonation, authorization of every request with RBAC,
// then routing to discovery, storage, subresources and the review APIs.
import { createServer as createHttpServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { createServer as createNetServer } from 'node:net'
import type { Server, Socket } from 'node:net'
import { WebSocketServer } from 'ws'
import { StatusError, notFoundPath } from '../apimachinery/status.ts'
import { impersonate } from '../auth/impersonation.ts'
import { negotiateSubprotocol } from '../kubelet/attach.ts'
import type { ServerContext } from './context.ts'
import { parseRequestInfo } from './request-info.ts'
import { authenticate, authorize } from './filters.ts'
import { handleAdmin, recordUnknown } from './admin.ts'
import { handleNonResource } from './non-resource.ts'
import { handleResource } from './handlers/resource.ts'
import { createUpgradeHandler } from './attach-upgrade.ts'
import { sendError } from './http-util.ts'

export interface TlsMaterial { cert: string | Buffer, key: string | Buffer }

export interface SimServer {
  /** One listener speaking both HTTP and HTTPS (told apart by the first byte: 0x16 = TLS handshake). */
  server: Server
  /** Ends open watches and WebSocket sessions, destroys sockets. */
  shutdown (): void
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
          handleNonResource(req, res, url)
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

  const onUpgrade = createUpgradeHandler(ctx, wss)
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
