// Debug sessions over HTTP: list, get, delete, and a pod's ephemeral containers
// with their attribution. Thin: schema → service → reply (service.ts).
import { createReadStream } from 'node:fs'
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

  app.get('/sessions/:id/recording', {
    schema: {
      tags: ['debug'],
      operationId: 'getSessionRecording',
      summary: 'The newest attach recording of a session (asciicast v2), from the replica that relayed it',
      description: 'Found like GET /sessions/{id} (RBAC first), then judged like attaching to the session: its requester, or a policy rule with attachOthers. Recordings are files on the replica that relayed the attach (attach.recording); another replica answers 404.',
      params: SessionParamsSchema,
      querystring: SessionQuerySchema,
      response: {
        200: { description: 'asciicast v2: a JSON header line, then one [seconds, "o"|"i"|"r", data] line per event', content: { 'application/x-asciicast': { schema: Type.String() } } },
        ...problemResponses(404)
      }
    }
  }, async (request, reply) => {
    const { file } = await sessions.recording(callerOf(request), request.params.id, request.query)
    // Streamed from disk (up to attach.recording.maxBytes); the schema's string type documents the body.
    return await reply.type('application/x-asciicast').header('cache-control', 'no-store').send(createReadStream(file) as unknown as string)
  })

  app.get('/namespaces/:namespace/pods/:pod/ephemeral-containers', {
    schema: {
      tags: ['debug'],
      operationId: 'listEphemeralContainers',
      summary: 'The pod\'s ephemeral containers with their state, and who/why for the ones the gateway added',
      params: PodParamsSchema,
      response: { 200: Type.Ref(EphemeralListSchema), ...problemResponses(404) }
    }
  }, async (request) => await sessions.ephemeralContainers(callerOf(request), request.params.namespace, request.params.pod))
}
