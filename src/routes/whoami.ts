// GET /v1/whoami: the effective identity as the gateway sees it, who
// delegated, and (with ?namespace=) what the main actions would be allowed,
// from the same SubjectAccessReviews the actions themselves use.
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { PrincipalSchema, WhoamiQuerySchema, WhoamiSchema, type Whoami } from '../schemas/identity.ts'
import { problemResponses } from '../schemas/problem.ts'
import { permissionsFor, WHOAMI_ACTIONS } from '../auth/permissions.ts'

export interface WhoamiRouteOptions {
  nodeDebugNamespace: string
}

export async function whoamiRoutes (fastify: FastifyInstance, opts: WhoamiRouteOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.addSchema(PrincipalSchema)
  app.addSchema(WhoamiSchema)

  app.get('/whoami', {
    schema: {
      tags: ['identity'],
      summary: 'The effective identity, delegation, and allowed actions in a namespace',
      querystring: WhoamiQuerySchema,
      response: { 200: WhoamiSchema, ...problemResponses() }
    }
  }, async (request) => {
    const id = request.identity
    const body: Whoami = {
      user: id.user,
      groups: id.groups,
      authenticatedBy: id.method,
      delegated: id.actor !== undefined
    }
    if (id.uid) body.uid = id.uid
    if (id.actor) body.actor = { user: id.actor.user, groups: id.actor.groups }
    const ns = request.query.namespace
    if (ns) {
      body.namespace = ns
      const entries = await Promise.all(WHOAMI_ACTIONS.map(async action => {
        const target = action === 'node' ? { namespace: opts.nodeDebugNamespace } : { namespace: ns }
        const results = await Promise.all(permissionsFor(action, target).map(a => app.authorizer.authorize(id, a)))
        return [action, results.every(r => r.allowed)] as const
      }))
      body.can = Object.fromEntries(entries) as Whoami['can']
    }
    return body
  })
}
