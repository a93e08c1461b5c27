import { Type } from '@sinclair/typebox'

/**
 * `?ticket=` on stream routes (attach, logs, drops): a single-use ticket from
 * POST /v1/stream-tickets, for browsers whose WebSocket and EventSource cannot
 * send an Authorization header. Long enough for an identity with many groups.
 */
export const TicketParam = Type.Optional(Type.String({ maxLength: 8192, description: 'Single-use stream ticket (POST /v1/stream-tickets) instead of the Authorization header, for browsers.' }))
