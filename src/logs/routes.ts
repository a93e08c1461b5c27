// GET /v1/namespaces/{ns}/pods/{pod}/containers/{c}/logs — a container's
// output, streamed from the API server's `pods/{pod}/log`, for bots that
// cannot hold a WebSocket (run `ss -tanp` in an ephemeral container, read
// this). Chunked text/plain, or Server-Sent Events (`event: log` per line)
// with `Accept: text/event-stream`. Thin: schema → LogsService → reply.
import type { FastifyInstance } from 'fastify'
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { problemResponses } from '../schemas/problem.ts'
import { callerOf } from '../plugins/decision-audit.ts'
import { SSE_HEADERS, wantsEventStream } from '../lib/sse.ts'
import { LogsParamsSchema, LogsQuerySchema } from './schemas.ts'
import type { LogsService } from './service.ts'

export async function logsRoutes (fastify: FastifyInstance, opts: { service: LogsService }): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.get('/namespaces/:namespace/pods/:pod/containers/:container/logs', {
    config: { ticket: true, auditAction: 'logs.read' },
    schema: {
      tags: ['streams'],
      operationId: 'readContainerLogs',
      summary: 'Stream a container\'s output (chunked text/plain, or SSE with Accept: text/event-stream)',
      description: 'Authorized as `get pods/log`, then judged like attaching: the container\'s effective privilege in its pod against the caller\'s policy rule, gateway sessions only for their requester (or `attachOthers`), 410 after a session\'s expiry. With `follow=true` the stream stays open until the container exits or the client disconnects.',
      params: LogsParamsSchema,
      querystring: LogsQuerySchema,
      response: {
        200: { description: 'The output', content: { 'text/plain': { schema: Type.String() }, 'text/event-stream': { schema: Type.String() } } },
        ...problemResponses(404, 410, 429)
      }
    }
  }, async (request, reply) => {
    const sse = wantsEventStream(request.headers.accept)
    const { body, contentType } = await opts.service.open({ ...request.params, query: request.query, caller: callerOf(request), sse }, request.log)
    if (sse) reply.headers(SSE_HEADERS)
    else reply.header('cache-control', 'no-cache')
    reply.type(contentType)
    // The 200 schema documents text; the body is a stream of it.
    return await reply.send(body as unknown as string)
  })
}
