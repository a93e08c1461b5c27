// GET /v1/whoami: thin — the schema, the service, the reply. Paths are
// relative: the plugin is registered with prefix /v1.
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { WhoamiQuerySchema, WhoamiSchema } from '../schemas/identity.ts'
import { problemResponses } from '../schemas/problem.ts'
import type { WhoamiService } from './service.ts'

export interface WhoamiRouteOptions {
  whoami: WhoamiService
}

export async function whoamiRoutes (fastify: FastifyInstance, opts: WhoamiRouteOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.get('/whoami', {
    schema: {
      tags: ['identity'],
      summary: 'The effective identity, delegation, and allowed actions in a namespace',
      querystring: WhoamiQuerySchema,
      response: { 200: WhoamiSchema, ...problemResponses() }
    }
  }, async (request) => await opts.whoami.whoami(request.identity, request.query.namespace))
}
