// GET /v1/namespaces/{namespace}/pods/{pod}/attach — interactive attach over
// WebSocket. Thin: (the Origin is checked for every upgrade by
// src/plugins/cors.ts) AttachService.prepare before the
// upgrade (every refusal a problem response) and AttachService.start after it.
// WebSocket routes are hidden from the generated OpenAPI: openapi/attach.md
// documents protocols and close codes.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { WebSocket } from 'ws'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Problems } from '../errors.ts'
import { callerOf } from '../plugins/decision-audit.ts'
import { AttachParamsSchema, AttachQuerySchema, type AttachParams, type AttachQuery } from './schemas.ts'
import type { AttachService, PreparedSession } from './service.ts'
import { CloseCode } from './relay/close-codes.ts'

export interface AttachRouteOptions {
  service: AttachService
}

export async function attachRoutes (fastify: FastifyInstance, opts: AttachRouteOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { service } = opts
  const prepared = new WeakMap<FastifyRequest, PreparedSession>()

  app.get('/namespaces/:namespace/pods/:pod/attach', {
    websocket: true,
    // Refusals before the upgrade (origin, ticket, protocol, shutdown, budget) are audited under this action.
    config: { ticket: true, auditAction: 'attach.start' },
    schema: { params: AttachParamsSchema, querystring: AttachQuerySchema },
    preHandler: async (request) => {
      if (!request.ws) throw Problems.badRequest('Upgrade request required: attach is a WebSocket endpoint (see openapi/attach.md).')
      const { namespace, pod } = request.params as AttachParams
      prepared.set(request, await service.prepare({
        caller: callerOf(request),
        namespace,
        pod,
        query: request.query as AttachQuery,
        protocols: request.headers['sec-websocket-protocol'],
        socket: request.raw.socket
      }, request.log))
    }
  }, (socket: WebSocket, request: FastifyRequest) => {
    const p = prepared.get(request)
    if (!p?.claim()) { p?.release(); socket.close(CloseCode.upstreamError, 'session not prepared'); return }
    // The upgraded connection ws writes to (the 'upgrade' event's socket is the request's).
    service.start(p, socket, request.log.child({ stream: 'attach', namespace: p.request.namespace, pod: p.request.pod, session: p.id }), request.raw.socket)
  })
}
