// POST /v1/stream-tickets: a single-use ticket for one stream URL (service.ts
// says what a ticket is). Thin: schema → budget → issue → the ticket.issue
// record (no record, no ticket) → reply.
import type { FastifyInstance } from 'fastify'
import { Type, type Static, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Problems } from '../errors.ts'
import { problemResponses } from '../schemas/problem.ts'
import type { AuditTarget } from '../audit/types.ts'
import { auditRequest } from '../audit/records.ts'
import { callerOf } from '../plugins/decision-audit.ts'
import { bindingOf, type TicketBinding, type TicketService } from './service.ts'

export const StreamTicketRequestSchema = Type.Object({
  url: Type.String({ minLength: 4, maxLength: 2048, description: 'The stream the ticket is for: a path such as `/v1/namespaces/demo/pods/web/attach?container=debugger-abcde` or `/v1/drops` (an absolute URL is accepted; only its path and `container` parameter are bound).' })
}, { additionalProperties: false })
export type StreamTicketRequest = Static<typeof StreamTicketRequestSchema>

export const StreamTicketSchema = Type.Object({
  ticket: Type.String({ description: 'Pass as `?ticket=` to the stream URL. Single use; a secret.' }),
  expiresAt: Type.String({ format: 'date-time' }),
  path: Type.String({ description: 'The path the ticket is bound to.' }),
  container: Type.Optional(Type.String({ description: 'The `container` query parameter the ticket is bound to.' }))
}, { additionalProperties: false })

const NAMESPACED = /^\/v1\/namespaces\/([^/]+)(?:\/pods\/([^/]+))?/

function safeDecode (s: string): string {
  try { return decodeURIComponent(s) } catch { return s }
}

/** The namespace and pod of a bound stream path, for the issuance record. */
export function ticketTarget (binding: TicketBinding): AuditTarget {
  const m = NAMESPACED.exec(binding.path)
  const t: AuditTarget = {}
  if (m?.[1] !== undefined) t.namespace = safeDecode(m[1])
  if (m?.[2] !== undefined) t.pod = safeDecode(m[2])
  if (binding.container !== undefined) t.container = binding.container
  return t
}

export async function streamTicketRoutes (fastify: FastifyInstance, opts: { tickets: TicketService }): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.post('/stream-tickets', {
    config: { auditAction: 'ticket.issue' },
    schema: {
      tags: ['streams'],
      operationId: 'createStreamTicket',
      summary: 'A single-use, short-lived ticket for one stream URL (for browsers: WebSocket and EventSource cannot send headers)',
      body: StreamTicketRequestSchema,
      response: { 201: StreamTicketSchema, ...problemResponses(429) }
    }
  }, async (request, reply) => {
    const binding = bindingOf(request.body.url)
    if (!binding) {
      throw Problems.validation('url must be a gateway stream path such as /v1/namespaces/NS/pods/POD/attach.', { errors: [{ field: '/body/url', message: 'not a /v1/ path' }] })
    }
    app.budgets.takeTicket(request.identity)
    const { ticket, expiresAt } = opts.tickets.issue(request.identity, binding)
    // Who got a ticket for which stream — never the ticket itself. No record, no ticket.
    await auditRequest({
      audit: app.audit,
      caller: callerOf(request),
      action: 'ticket.issue',
      target: ticketTarget(binding),
      request: { path: binding.path, ...(binding.container !== undefined ? { container: binding.container } : {}), expiresAt: expiresAt.toISOString() }
    }, {})
    reply.code(201).header('cache-control', 'no-store')
    return { ticket, expiresAt: expiresAt.toISOString(), ...binding }
  })
}
