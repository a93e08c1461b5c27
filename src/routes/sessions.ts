// Debug sessions over HTTP: list, get, delete. Thin; see src/debug/session-service.ts.
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { problemResponses } from '../schemas/problem.ts'
import { SessionListSchema, SessionParamsSchema, SessionSchema, SessionsQuerySchema, SessionQuerySchema } from '../schemas/debug.ts'
import type { SessionService } from '../debug/session-service.ts'
import { callerOf } from './debug.ts'

export interface SessionRouteOptions {
  sessions: SessionService
}

export async function sessionRoutes (fastify: FastifyInstance, opts: SessionRouteOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { sessions } = opts

  app.get('/sessions', {
    schema: {
      tags: ['debug'],
      operationId: 'listSessions',
      summary: 'Debug sessions the gateway created, in namespaces where you may list pods',
      querystring: SessionsQuerySchema,
      response: { 200: Type.Ref(SessionListSchema), ...problemResponses() }
    }
  }, async (request) => ({ items: await sessions.list(callerOf(request), request.query) }))

  app.get('/sessions/:id', {
    schema: {
      tags: ['debug'],
      operationId: 'getSession',
      summary: 'One debug session',
      params: SessionParamsSchema,
      querystring: SessionQuerySchema,
      response: { 200: Type.Ref(SessionSchema), ...problemResponses(404) }
    }
  }, async (request) => await sessions.get(callerOf(request), request.params.id, request.query))

  app.delete('/sessions/:id', {
    schema: {
      tags: ['debug'],
      operationId: 'deleteSession',
      summary: 'End a session: deletes a copy or node pod (ephemeral containers cannot be removed: 409)',
      params: SessionParamsSchema,
      querystring: SessionQuerySchema,
      response: { 200: Type.Ref(SessionSchema), ...problemResponses(404, 409) }
    }
  }, async (request) => await sessions.delete(callerOf(request), request.params.id, request.query))
}
