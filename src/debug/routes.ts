// The debug actions over HTTP: thin — schema, then the service, then the reply.
// Paths are relative: the plugin is registered with prefix /v1.
import type { FastifyInstance, FastifyReply } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type, type TSchema } from '@sinclair/typebox'
import { problemResponses } from '../schemas/problem.ts'
import {
  CopyRequestSchema, CreateResponseSchema, DryRunQuerySchema, EphemeralRequestSchema, NodeDebugRequestSchema,
  NodeParamsSchema, PodParamsSchema
} from '../schemas/debug.ts'
import type { CreateOptions, DebugService, ServiceReply } from './service.ts'
import { callerOf } from '../plugins/decision-audit.ts'

export interface DebugRouteOptions {
  debug: DebugService
}

const IdempotencyHeadersSchema = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'A retry with the same key and body returns the first result (24 h).' }))
})

const createResponses = {
  200: Type.Ref(CreateResponseSchema, { description: 'Dry run: nothing was created.' }),
  201: Type.Ref(CreateResponseSchema, { description: 'Created (or an Idempotency-Key replay).' }),
  202: Type.Ref(CreateResponseSchema, { description: 'Created; `wait` timed out before the container ran.' }),
  ...problemResponses(404, 409, 422, 429)
}

/** Aborted when the client goes away before the reply is sent (ends a `wait`). */
function clientGone (reply: FastifyReply): AbortSignal {
  const ac = new AbortController()
  reply.raw.once('close', () => { if (!reply.raw.writableFinished) ac.abort() })
  return ac.signal
}

function createOptions (request: { query: { dryRun?: boolean }, headers: { 'idempotency-key'?: string } }, reply: FastifyReply): CreateOptions {
  const o: CreateOptions = { signal: clientGone(reply) }
  if (request.query.dryRun === true) o.dryRun = true
  const key = request.headers['idempotency-key']
  if (key !== undefined) o.idempotencyKey = key
  return o
}

function send<T> (reply: FastifyReply, r: ServiceReply<T>): FastifyReply {
  if (r.headers) reply.headers(r.headers)
  return reply.code(r.status).send(r.body)
}

export async function debugRoutes (fastify: FastifyInstance, opts: DebugRouteOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { debug } = opts

  // The three creates share everything but their summary, path parameters and body.
  const createSchema = <P extends TSchema>(summary: string, params: P, body: TSchema) => ({
    tags: ['debug'], summary, params, querystring: DryRunQuerySchema, headers: IdempotencyHeadersSchema, body: Type.Ref(body), response: createResponses
  })

  app.post('/namespaces/:namespace/pods/:pod/ephemeral-containers', {
    schema: createSchema('Add an ephemeral debug container (kubectl debug POD --image …)', PodParamsSchema, EphemeralRequestSchema)
  }, async (request, reply) => send(reply, await debug.createEphemeral(callerOf(request), request.params, request.body as never, createOptions(request, reply))))

  app.post('/namespaces/:namespace/pods/:pod/copies', {
    schema: createSchema('Create a debug copy of the pod (kubectl debug POD --copy-to …)', PodParamsSchema, CopyRequestSchema)
  }, async (request, reply) => send(reply, await debug.createCopy(callerOf(request), request.params, request.body as never, createOptions(request, reply))))

  app.post('/nodes/:node/debug-pods', {
    schema: createSchema('Create a node debug pod (kubectl debug node/NODE …)', NodeParamsSchema, NodeDebugRequestSchema)
  }, async (request, reply) => send(reply, await debug.createNodePod(callerOf(request), request.params, request.body as never, createOptions(request, reply))))
}
