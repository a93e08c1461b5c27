// GET /v1/whoami: the effective identity as the gateway sees it, who
// delegated, and (with ?namespace=) what the main actions would be allowed,
// from the same SubjectAccessReviews the actions themselves use.
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { AllowedSchema, PrincipalSchema, WhoamiQuerySchema, WhoamiSchema, type Whoami } from '../schemas/identity.ts'
import { problemResponses } from '../schemas/problem.ts'
import { permissionsFor, WHOAMI_ACTIONS } from '../auth/permissions.ts'
import type { CompiledPolicy } from '../auth/policy.ts'
import { allowedIn } from '../whoami/allowed.ts'

export interface WhoamiRouteOptions {
  nodeDebugNamespace: string
  policy: CompiledPolicy
  defaultTtlSeconds: number
  /** The caller's live sessions, counted as the create path counts them (SessionFinder.liveCount). */
  liveSessions: (user: string) => Promise<number>
}

export async function whoamiRoutes (fastify: FastifyInstance, opts: WhoamiRouteOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.addSchema(PrincipalSchema)
  app.addSchema(AllowedSchema)
  app.addSchema(WhoamiSchema)

  app.get('/whoami', {
    schema: {
      tags: ['identity'],
      operationId: 'getWhoami',
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
      const can = Object.fromEntries(entries) as NonNullable<Whoami['can']>
      body.can = can
      body.allowed = await allowedIn({
        policy: opts.policy,
        subject: id,
        namespace: ns,
        can,
        defaultTtlSeconds: opts.defaultTtlSeconds,
        liveSessions: async () => await opts.liveSessions(id.user)
      })
    }
    return body
  })
}
