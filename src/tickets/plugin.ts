// Stream tickets as one plugin: `await app.register(ticketsPlugin, { prefix:
// '/v1', tickets })`. The TicketService is built by the caller, because the
// auth plugin redeems the same tickets (its `ticketAuthenticator`).
import type { FastifyInstance } from 'fastify'
import type { TicketService } from './service.ts'
import { streamTicketRoutes } from './routes.ts'

export interface TicketsPluginOptions {
  tickets: TicketService
}

export async function ticketsPlugin (app: FastifyInstance, opts: TicketsPluginOptions): Promise<void> {
  await app.register(streamTicketRoutes, { tickets: opts.tickets })
}
