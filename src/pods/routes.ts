// The pod picker's route. Thin: schema → PodService → reply.
import type { FastifyInstance } from 'fastify'
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { problemResponses } from '../schemas/problem.ts'
import { PodListParamsSchema, PodListQuerySchema, PodListSchema } from './schemas.ts'
import type { PodService } from './service.ts'

export async function podRoutes (fastify: FastifyInstance, opts: { pods: PodService }): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.get('/namespaces/:namespace/pods', {
    schema: {
      tags: ['pods'],
      operationId: 'listPods',
      summary: 'Pods of a namespace with their containers and ephemeral containers (ours with who, why and until when)',
      description: 'Needs `list pods` in the namespace (403 otherwise). Paged like Kubernetes: pass `continue` from the previous page.',
      params: PodListParamsSchema,
      querystring: PodListQuerySchema,
      response: { 200: Type.Ref(PodListSchema), ...problemResponses(410) }
    }
  }, async (request) => await opts.pods.list(request.identity, request.params.namespace, request.query))
}
