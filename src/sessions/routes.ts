// Debug sessions over HTTP: list, get, delete, and a pod's ephemeral containers
// with their attribution. Thin: schema → service → reply (service.ts).
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { problemResponses } from '../schemas/problem.ts'
import { EphemeralListSchema, PodParamsSchema, SessionListSchema, SessionParamsSchema, SessionSchema, SessionsQuerySchema, SessionQuerySchema } from '../schemas/debug.ts'
import type { SessionService } from './service.ts'
import { callerOf } from '../plugins/decision-audit.ts'

export interface SessionRouteOptions {
  sessions: SessionService
}

export async function sessionRoutes (fastify: FastifyInstance, opts: SessionRouteOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { sessions } = opts

  app.get('/sessions', {
    schema: {
      tags: ['debug'],
      summary: 'Debug sessions the gateway created, in namespaces where you may list pods',
      querystring: SessionsQuerySchema,
      response: { 200: Type.Ref(SessionListSchema), ...problemResponses() }
    }
  }, async (request) => ({ items: await sessions.list(callerOf(request), request.query) }))

  app.get('/sessions/:id', {
    schema: {
      tags: ['debug'],
      summary: 'One debug session',
      params: SessionParamsSchema,
      querystring: SessionQuerySchema,
      response: { 200: Type.Ref(SessionSchema), ...problemResponses(404) }
    }
  }, async (request) => await sessions.get(callerOf(request), request.params.id, request.query))

  app.delete('/sessions/:id', {
    schema: {
      tags: ['debug'],
      summary: 'End a session: deletes a copy or node pod (ephemeral containers cannot be removed: 409)',
      params: SessionParamsSchema,
      querystring: SessionQuerySchema,
      response: { 200: Type.Ref(SessionSchema), ...problemResponses(404, 409) }
    }
  }, async (request) => await sessions.delete(callerOf(request), request.params.id, request.query))

  app.get('/namespaces/:namespace/pods/:pod/ephemeral-containers', {
    schema: {
      tags: ['debug'],
      summary: 'The pod\'s ephemeral containers with their state, and who/why for the ones the gateway added',
      params: PodParamsSchema,
      response: { 200: Type.Ref(EphemeralListSchema), ...problemResponses(404) }
    }
  }, async (request) => await sessions.ephemeralContainers(callerOf(request), request.params.namespace, request.params.pod))
}
