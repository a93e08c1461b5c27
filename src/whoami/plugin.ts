// GET /v1/whoami. Register with prefix /v1 after the auth plugin (it needs
// request.identity and app.authorizer):
// `await app.register(whoamiPlugin, { prefix: '/v1', nodeDebugNamespace })`.
import type { FastifyInstance } from 'fastify'
import { PrincipalSchema, WhoamiSchema } from '../schemas/identity.ts'
import { whoamiRoutes } from './routes.ts'
import { WhoamiService } from './service.ts'

export interface WhoamiPluginOptions {
  nodeDebugNamespace: string
}

export async function whoamiPlugin (app: FastifyInstance, opts: WhoamiPluginOptions): Promise<void> {
  app.addSchema(PrincipalSchema)
  app.addSchema(WhoamiSchema)
  const whoami = new WhoamiService({ authorizer: app.authorizer, nodeDebugNamespace: opts.nodeDebugNamespace })
  await app.register(whoamiRoutes, { whoami })
}
