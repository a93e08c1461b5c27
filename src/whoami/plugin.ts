// GET /v1/whoami. Register with prefix /v1 after the auth plugin (it needs
// request.identity and app.authorizer):
// `await app.register(whoamiPlugin, { prefix: '/v1', nodeDebugNamespace })`.
import type { FastifyInstance } from 'fastify'
import { AllowedSchema, PrincipalSchema, WhoamiSchema } from '../schemas/identity.ts'
import { whoamiRoutes } from './routes.ts'
import { WhoamiService, type WhoamiServiceOptions } from './service.ts'

export type WhoamiPluginOptions = Omit<WhoamiServiceOptions, 'authorizer'>

export async function whoamiPlugin (app: FastifyInstance, opts: WhoamiPluginOptions): Promise<void> {
  app.addSchema(PrincipalSchema)
  app.addSchema(AllowedSchema)
  app.addSchema(WhoamiSchema)
  const whoami = new WhoamiService({ ...opts, authorizer: app.authorizer })
  await app.register(whoamiRoutes, { whoami })
}
