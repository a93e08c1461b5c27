// Interactive attach as one plugin: register after the auth plugin with
// `await app.register(attachPlugin, { prefix: '/v1', verify })`. It decorates
// the app with `attachSessions` (the live sessions: shutdown, tests) and
// registers, in its own scope, @fastify/websocket (maxPayload, subprotocol
// choice, 1001 to every session on shutdown), the bearer-subprotocol
// translation and the route. Needs the decorations of buildApp (config,
// cluster, audit, budgets, metrics) and of the auth plugin.
import type { IncomingMessage } from 'node:http'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import websocket from '@fastify/websocket'
import type { WebSocketServer } from 'ws'
import type { CompiledPolicy } from '../policy/policy.ts'
import { kubeDebugClient } from '../kube/debug-client.ts'
import { StreamJudge } from '../policy/stream-access.ts'
import type { VerifyFn } from '../sessions/found.ts'
import { chooseClientProtocol, translateBearerProtocol } from './protocols.ts'
import { UpstreamConnector } from './upstream.ts'
import { attachMetrics } from './metrics.ts'
import { CloseCode } from './relay/close-codes.ts'
import { SessionRegistry } from './registry.ts'
import { AttachService } from './service.ts'
import { attachRoutes } from './routes.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** Live attach sessions of this replica. */
    attachSessions: SessionRegistry
  }
}

export interface AttachPluginOptions {
  /** The app's one compiled policy: streams are judged by it like the creates. */
  policy: CompiledPolicy
  /** Verifies the signature on gateway session metadata (the same signer the debug routes sign with). */
  verify: VerifyFn
  /** Clock of session expiry (tests). */
  clock?: () => number
  /** Route prefix (the plugin decorates the app, so it applies the prefix to its routes itself). */
  prefix?: string
}

async function attachScope (fastify: FastifyInstance, opts: AttachPluginOptions & { sessions: SessionRegistry }): Promise<void> {
  const config = fastify.config.attach
  const { sessions } = opts
  let closing: Promise<void> | undefined
  const close = async (): Promise<void> => {
    closing ??= sessions.closeAll(CloseCode.goingAway, 'gateway shutting down')
    await closing
  }
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

  const kubeConfig = fastify.cluster.kubeConfig
  const client = kubeDebugClient(kubeConfig, { requestTimeoutMs: fastify.config.kube.requestTimeoutMs })
  const judge = new StreamJudge({
    policy: opts.policy,
    verify: opts.verify,
    readPod: async (ns, name) => await client.getPod(ns, name),
    ...(opts.clock ? { clock: opts.clock } : {})
  })
  const service = new AttachService({
    config,
    connector: new UpstreamConnector({ kubeConfig, maxPayload: config.maxPayloadBytes }),
    judge,
    client,
    audit: fastify.audit,
    authorizer: fastify.authorizer,
    budgets: fastify.budgets,
    registry: sessions,
    metrics: attachMetrics(fastify.metrics.registry),
    impersonate: fastify.config.authorization.mode === 'impersonate'
  })
  await fastify.register(attachRoutes, { service })
}

async function attach (app: FastifyInstance, opts: AttachPluginOptions): Promise<void> {
  const sessions = new SessionRegistry()
  app.decorate('attachSessions', sessions)
  await app.register(attachScope, { ...opts, sessions, prefix: opts.prefix ?? '' })
}

export const attachPlugin = fp<AttachPluginOptions>(attach, { name: 'kdebug-attach', fastify: '5.x', dependencies: ['kdebug-auth'] })
export default attachPlugin
