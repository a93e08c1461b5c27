// OpenAPI from the route schemas (the single source of truth), served at
// /openapi.json and written to openapi/openapi.json by `npm run openapi`.
// Swagger UI at /docs only when enabled in config.
import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import { ProblemSchema } from '../schemas/problem.ts'
import { optionalDefaults } from './openapi-defaults.ts'

export const API_VERSION = '0.1.0'

async function openapiPlugin (app: FastifyInstance, opts: { docs: boolean }): Promise<void> {
  app.addSchema(ProblemSchema)
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'kdebug-gateway',
        version: API_VERSION,
        description: 'Safe Kubernetes debugging over HTTP: ephemeral debug containers, pod copies, node debug pods, ' +
          'attach over WebSocket (see openapi/attach.md), packet drops as SSE (see openapi/drops.md), with ' +
          'RBAC-checked delegation, policy and a hash-chained audit log.'
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'A Kubernetes bearer token (TokenReview), an OIDC ID token, or a static token, depending on the gateway configuration.' }
        }
      },
      security: [{ bearer: [] }],
      tags: [
        { name: 'identity', description: 'Who the gateway thinks you are' },
        { name: 'debug', description: 'Debug sessions' },
        { name: 'pods', description: 'Pods to pick from' },
        { name: 'streams', description: 'Attach, logs, drops, tickets' },
        { name: 'health', description: 'Probes and metrics' }
      ]
    },
    // Generated clients may leave out what has a default (./openapi-defaults.ts).
    transformObject: (documents) => optionalDefaults('openapiObject' in documents ? documents.openapiObject : documents.swaggerObject),
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) }
  })
  if (opts.docs) {
    // The UI is public like /openapi.json: its routes opt out of authentication.
    await app.register(async (docs) => {
      docs.addHook('onRoute', (route) => { route.config = { ...route.config, auth: false } })
      await docs.register(swaggerUi, { routePrefix: '/docs' })
    })
  }
  app.get('/openapi.json', { config: { auth: false }, schema: { hide: true } }, async () => app.swagger())
}

export default fp(openapiPlugin, { name: 'kdebug-openapi', fastify: '5.x' })
