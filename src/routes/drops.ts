// GET /v1/drops and /v1/namespaces/{namespace}/drops: packet drops as a live
// Server-Sent Events stream (Accept: text/event-stream) or, for scripts and
// bots, a JSON page of the recent drops. The protocol is in openapi/drops.md.
// The namespaced route needs list+watch events there (403 before streaming);
// the cluster-wide one shows each namespace where the caller may list and
// watch events, checked as its drops arrive and rechecked periodically.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Type, type Static, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { problemResponses } from '../schemas/problem.ts'
import { permissionsFor } from '../auth/permissions.ts'
import { Problems } from '../errors.ts'
import { DropSchema } from '../drops/types.ts'
import { DropFilterSchema, compileDropFilter, type DropFilter } from '../drops/filter.ts'
import { NamespaceAccess } from '../drops/access.ts'
import type { DropHub } from '../drops/hub.ts'
import type { DropWatcher } from '../drops/watcher.ts'
import type { DropsConfig } from '../drops/config-schema.ts'
import { TicketParam } from '../schemas/stream.ts'
import { Names } from '../schemas/names.ts'
import { auditRequest, type AuditScope } from '../audit/records.ts'
import { callerOf } from '../plugins/decision-audit.ts'

export interface DropsRouteOptions {
  hub: DropHub
  watcher: DropWatcher
  config: DropsConfig
}

export const DropsQuerySchema = Type.Composite([DropFilterSchema, Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'JSON mode: most drops returned (newest first).' }),
  lastEventId: Type.Optional(Type.String({ maxLength: 64, description: 'SSE: resume after this event id, for clients that cannot send the Last-Event-ID header (the header wins).' })),
  ticket: TicketParam
})])
export type DropsQuery = Static<typeof DropsQuerySchema>

export const DropListSchema = Type.Object({
  items: Type.Array(Type.Ref(DropSchema), { description: 'Latest state of each recent drop, newest first.' }),
  resourceVersion: Type.Optional(Type.String({ description: 'resourceVersion the upstream watch has reached (single watch only).' })),
  watch: Type.Object({
    healthy: Type.Boolean({ description: 'The upstream watch is connected; when false the list may be stale.' })
  })
}, { $id: 'DropList' })
export type DropList = Static<typeof DropListSchema>

const NamespaceParamsSchema = Type.Object({
  namespace: Names.namespace()
})

// The 200 answer in both media types, so the spec shows the stream too.
const DropsResponse200 = {
  description: 'The recent drops (JSON), or the live event stream.',
  content: {
    'application/json': { schema: DropListSchema },
    'text/event-stream': {
      schema: Type.String({ description: 'Server-Sent Events: `event: drop|drop-update|reset|revoked|shutdown`, `id:`, `data:` a Drop as JSON (see openapi/drops.md).' })
    }
  }
}

const SSE_DESCRIPTION = 'With `Accept: text/event-stream`: a live stream of `drop`, `drop-update`, `reset`, `revoked` and ' +
  '`shutdown` events with ids for `Last-Event-ID` resume, a `retry:` hint and heartbeat comments (see openapi/drops.md). ' +
  'Otherwise a JSON page of the recent drops, newest first.'

function wantsEventStream (request: FastifyRequest): boolean {
  return (request.headers.accept ?? '').toLowerCase().includes('text/event-stream')
}

function lastEventIdOf (request: FastifyRequest, query: DropsQuery): string | undefined {
  const header = request.headers['last-event-id']
  const h = Array.isArray(header) ? header[0] : header
  if (h !== undefined && h !== '') return h.slice(0, 64)
  return query.lastEventId === '' ? undefined : query.lastEventId
}

export async function dropsRoutes (fastify: FastifyInstance, opts: DropsRouteOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { hub, watcher, config } = opts
  app.addSchema(DropSchema)
  app.addSchema(DropListSchema)

  async function serve (request: FastifyRequest, reply: FastifyReply, query: DropsQuery, namespace?: string): Promise<DropList | undefined> {
    const { limit, lastEventId: _l, ticket: _t, ...filterQuery } = query
    const filter: DropFilter = namespace === undefined ? filterQuery : { ...filterQuery, namespace }
    const access = new NamespaceAccess({
      identity: request.identity,
      authorizer: app.authorizer,
      recheckMs: config.permissionRecheckSeconds * 1000,
      namespace
    })
    if (namespace !== undefined) {
      await app.authorize(request, permissionsFor('drops', { namespace }))
      access.grant(namespace)
    }
    const predicate = compileDropFilter(filter)
    const stream = wantsEventStream(request)
    const scope: AuditScope = {
      audit: app.audit,
      caller: callerOf(request),
      action: 'drops.subscribe',
      target: namespace !== undefined ? { namespace } : {},
      request: { mode: stream ? 'sse' : 'json', authMethod: request.identity.method }
    }

    if (!stream) {
      // Fail closed: a review that could not be decided is a 503, never an empty 200.
      await access.checkCluster()
      // A read of other people's traffic metadata: audited like any stream (refusals by the decision-audit plugin).
      await auditRequest(scope, {})
      const items = await hub.recent({ limit, filter: predicate, access })
      if (access.failed) throw Problems.unavailable('Authorization is unavailable: cannot decide which namespaces\' drops you may see. Retry shortly.', { retryAfter: 5 })
      const rv = watcher.resourceVersion
      return { items, ...(rv ? { resourceVersion: rv } : {}), watch: { healthy: watcher.health().connected } }
    }

    if (hub.closing) throw Problems.unavailable('The gateway is shutting down; reconnect to another replica.', { retryAfter: 1 })
    if (hub.full) throw Problems.unavailable('Too many drop streams are open on this replica.', { retryAfter: 5 })
    const release = app.budgets.acquireStream(request.identity)
    try {
      await auditRequest(scope, {})
    } catch (err) {
      release()
      throw err
    }

    const log = request.log.child({ stream: 'drops', namespace: namespace ?? '*' })
    const opened = Date.now()
    reply.hijack()
    const socket = request.raw.socket
    if (reply.raw.destroyed || socket.destroyed) { release(); return }
    socket.once('close', release)
    // The stream is written straight to the socket: one shared, pre-encoded
    // Buffer per event for every subscriber, without HTTP/1.1 chunk framing
    // per write (it dominated fan-out CPU). The body ends when the connection
    // closes, so the response says `connection: close` and has no length.
    const head = ['HTTP/1.1 200 OK']
    for (const [k, v] of Object.entries(reply.getHeaders())) {
      if (v === undefined || /[\r\n]/.test(String(v))) continue
      for (const one of Array.isArray(v) ? v : [v]) head.push(`${k}: ${String(one)}`)
    }
    head.push(
      'content-type: text/event-stream; charset=utf-8',
      'cache-control: no-cache',
      // nginx would otherwise buffer the stream
      'x-accel-buffering: no',
      'connection: close'
    )
    socket.write(head.join('\r\n') + '\r\n\r\n')
    // no Nagle delay between small event frames
    socket.setNoDelay(true)
    const res = socket
    log.info('drop stream opened')
    hub.subscribe({
      res,
      filter: predicate,
      access,
      lastEventId: lastEventIdOf(request, query),
      onClose: reason => log.info({ reason, durationMs: Date.now() - opened }, 'drop stream closed')
    })
  }

  app.get('/drops', {
    config: { ticket: true, auditAction: 'drops.subscribe' },
    schema: {
      tags: ['streams'],
      summary: 'Packet drops in every namespace where you may list and watch events (SSE or JSON)',
      description: SSE_DESCRIPTION,
      querystring: DropsQuerySchema,
      response: { 200: DropsResponse200, ...problemResponses(429) }
    }
  }, async (request, reply) => await serve(request, reply, request.query))

  app.get('/namespaces/:namespace/drops', {
    config: { ticket: true, auditAction: 'drops.subscribe' },
    schema: {
      tags: ['streams'],
      summary: 'Packet drops in one namespace (SSE or JSON)',
      description: SSE_DESCRIPTION,
      params: NamespaceParamsSchema,
      querystring: DropsQuerySchema,
      response: { 200: DropsResponse200, ...problemResponses(429) }
    }
  }, async (request, reply) => await serve(request, reply, request.query, request.params.namespace))
}
