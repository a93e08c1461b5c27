// Upgrade requests: pods/attach over WebSocket. The API server authorizes and
// runs AttachLocation's checks, then either terminates v5 itself (the 1.30+
// stream translator) or proxies the upgrade to the kubelet.
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { WebSocketServer } from 'ws'
import { badRequest, notFoundPath } from '../apimachinery/status.ts'
import { impersonate } from '../auth/impersonation.ts'
import { pickContainer, requireHost } from '../registry/pod-strategy.ts'
import { V5_PROTOCOL, acceptsSubprotocols, negotiateSubprotocol, offeredSubprotocols, rejectHandshake, serveAttach, serveAttachFailure, translatorFailureStatus, writeKubeletRefusal } from '../kubelet/attach.ts'
import { kubeletAttach, type AttachResolution } from '../kubelet/kubelet-attach.ts'
import type { ServerContext } from './context.ts'
import { parseRequestInfo, type RequestInfo } from './request-info.ts'
import { authenticate, authorize } from './filters.ts'
import { recordUnknown } from './admin.ts'
import { queryBool, writeSocketError } from './http-util.ts'

/**
 * Resolves pods/attach: the API server's AttachLocation checks (strategy.go streamLocation:
 * container choice, a host assigned) throw a 4xx Status before any upgrade; the kubelet's
 * answer (kubeletAttach) comes back as a resolution the caller delivers per protocol.
 */
export function attachTarget (ctx: ServerContext, info: RequestInfo, url: URL): AttachResolution {
  const pod = ctx.store.mustGet('pods', info.namespace, info.name)
  const container = pickContainer(pod, url.searchParams.get('container'))
  requireHost(pod)
  const q = (k: string): boolean => queryBool(url.searchParams.get(k))
  return kubeletAttach(ctx, pod, container, { stdin: q('stdin'), stdout: q('stdout'), stderr: q('stderr'), tty: q('tty') })
}

export function createUpgradeHandler (ctx: ServerContext, wss: WebSocketServer): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (req, socket, head) => {
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
}
