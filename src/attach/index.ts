// Interactive attach, log streaming and stream tickets as one plugin.
// createAttach() builds the pieces that must exist before the app's auth
// plugin (the ticket authenticator) and the plugin itself, which needs the
// app's config, cluster, audit, metrics and auth decorations:
//
//   const attach = createAttach({ config: config.attach, verify, policy })
//   await app.register(authPlugin, { …, ticketAuthenticator: attach.ticketAuthenticator })
//   await app.register(attach.plugin, { prefix: '/v1' })
//
// The plugin registers @fastify/websocket itself (encapsulated, with
// maxPayload and subprotocol selection) and closes sessions with 1001 in its
// preClose; close() does the same for callers that shut down differently.
import type { IncomingMessage } from 'node:http'
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import websocket from '@fastify/websocket'
import type { WebSocketServer } from 'ws'
import type { CompiledPolicy } from '../policy/policy.ts'
import { kubeDebugClient } from '../kube/debug-client.ts'
import { StreamJudge } from '../policy/stream-access.ts'
import type { VerifyFn } from '../sessions/found.ts'
import type { AttachConfig } from './config-schema.ts'
import { TicketService, streamTicketRoutes } from './tickets.ts'
import { UpstreamConnector } from './upstream.ts'
import { attachMetrics } from './metrics.ts'
import { CloseCode } from './relay.ts'
import { attachRoutes, chooseClientProtocol, offeredProtocols, SessionRegistry } from '../routes/attach.ts'
import { logsRoutes, LogStreams } from '../routes/logs.ts'

export { AttachConfigSchema, type AttachConfig } from './config-schema.ts'
export { CloseCode, KDEBUG_PROTOCOL } from './relay.ts'
export type { TicketService } from './tickets.ts'
export type { SessionRegistry, ActiveSession } from '../routes/attach.ts'

/** Kubernetes' WebSocket bearer subprotocol (apiserver/pkg/authentication/request/websocket). */
export const BEARER_PROTOCOL_PREFIX = 'base64url.bearer.authorization.k8s.io.'

/**
 * Moves a `base64url.bearer.authorization.k8s.io.<token>` subprotocol into the
 * Authorization header (when there is none) and removes it from the offered list,
 * so the auth plugin sees an ordinary bearer token and the token is never echoed
 * back as the chosen subprotocol.
 */
export function translateBearerProtocol (headers: IncomingMessage['headers']): void {
  const offered = offeredProtocols(headers['sec-websocket-protocol'])
  const bearer = offered.filter(p => p.startsWith(BEARER_PROTOCOL_PREFIX))
  if (bearer.length === 0) return
  const rest = offered.filter(p => !p.startsWith(BEARER_PROTOCOL_PREFIX))
  if (rest.length > 0) headers['sec-websocket-protocol'] = rest.join(', ')
  else delete headers['sec-websocket-protocol']
  if (headers.authorization !== undefined || bearer.length !== 1) return
  const encoded = (bearer[0] as string).slice(BEARER_PROTOCOL_PREFIX.length)
  if (!/^[A-Za-z0-9_-]+$/.test(encoded)) return
  const token = Buffer.from(encoded, 'base64url').toString('utf8')
  if (token !== '') headers.authorization = `Bearer ${token}`
}

export interface CreateAttachOptions {
  config: AttachConfig
  /** Clock for tickets and session expiry (tests). */
  now?: () => number
  /** Verifies the signature on gateway session metadata (the same signer the debug routes sign with). */
  verify: VerifyFn
  /** The app's one compiled policy: attach and logs are judged by it like the creates. */
  policy: CompiledPolicy
}

export interface Attach {
  /** Register with `{ prefix: '/v1' }` after the auth plugin. */
  plugin: FastifyPluginAsync
  /** Pass to the auth plugin as `ticketAuthenticator`. */
  ticketAuthenticator: TicketService
  sessions: SessionRegistry
  logStreams: LogStreams
  /** Ends every attach session with 1001 (audited) and every log stream. Idempotent. */
  close: () => Promise<void>
}

export function createAttach (opts: CreateAttachOptions): Attach {
  const { config } = opts
  const tickets = new TicketService({
    ttlMs: config.ticketTtlSeconds * 1000,
    maxUsed: config.maxUsedTickets,
    ...(config.ticketSecret ? { secret: config.ticketSecret } : {}),
    ...(opts.now ? { now: opts.now } : {})
  })
  const sessions = new SessionRegistry()
  const logStreams = new LogStreams()
  let closing: Promise<void> | undefined
  const close = async (): Promise<void> => {
    closing ??= (async () => {
      logStreams.closeAll()
      await sessions.closeAll(CloseCode.goingAway, 'gateway shutting down')
    })()
    await closing
  }

  const plugin: FastifyPluginAsync = async (fastify: FastifyInstance) => {
    if (fastify.hasDecorator('websocketServer')) {
      throw new Error('@fastify/websocket is already registered: the attach plugin registers it itself (maxPayload, subprotocol choice, 1001 on shutdown)')
    }
    await fastify.register(websocket, {
      options: {
        maxPayload: config.maxPayloadBytes,
        // Only called when the client offered subprotocols; the route refused unusable offers before the upgrade.
        handleProtocols: (offered: Set<string>) => chooseClientProtocol(offered)
      },
      preClose: async function () {
        await close()
        const wss = (fastify as unknown as { websocketServer: WebSocketServer }).websocketServer
        for (const c of wss.clients) c.terminate()
        await new Promise<void>(resolve => wss.close(() => resolve()))
      }
    })
    const onUpgrade = (req: IncomingMessage): void => { translateBearerProtocol(req.headers) }
    // Before @fastify/websocket routes the request, so authentication sees the header.
    fastify.server.prependListener('upgrade', onUpgrade)
    fastify.addHook('onClose', async () => { fastify.server.removeListener('upgrade', onUpgrade) })
    fastify.addHook('preClose', async () => { await close() })
    // A refusal from a hook that runs before @fastify/websocket's own (authentication at the root)
    // leaves request.ws unset, and the plugin then keeps the upgrade socket open: close it here.
    fastify.addHook('onResponse', async (request) => {
      if (request.raw.headers.upgrade !== undefined && !request.raw.socket.destroyed) request.raw.socket.destroy()
    })

    const connector = new UpstreamConnector({ kubeConfig: fastify.cluster.kubeConfig, maxPayload: config.maxPayloadBytes })
    const { policy } = opts
    const client = kubeDebugClient(fastify.cluster.kubeConfig, { requestTimeoutMs: fastify.config.kube.requestTimeoutMs })
    const judge = new StreamJudge({ policy, verify: opts.verify, readPod: async (ns, name) => await client.getPod(ns, name), ...(opts.now ? { clock: opts.now } : {}) })
    const impersonate = fastify.config.authorization.mode === 'impersonate'
    const metrics = attachMetrics(fastify.metrics.registry)

    await fastify.register(streamTicketRoutes, { tickets })
    await fastify.register(attachRoutes, { config, connector, policy, impersonate, metrics, judge, registry: sessions, client })
    await fastify.register(logsRoutes, { connector, policy, impersonate, metrics, judge, streams: logStreams, heartbeatMs: config.pingIntervalSeconds * 1000 })
  }

  return { plugin, ticketAuthenticator: tickets, sessions, logStreams, close }
}
