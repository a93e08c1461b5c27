// GET /healthz and /readyz: thin — the schema, the service, the reply. Both
// answer without authentication (probes carry no token).
import { Type } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import type { HealthService } from './service.ts'

export interface HealthRouteOptions {
  health: HealthService
}

const CheckResultSchema = Type.Object({
  name: Type.String(),
  ok: Type.Boolean(),
  critical: Type.Boolean(),
  detail: Type.Optional(Type.String())
})

export const ReadinessSchema = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('not-ready'), Type.Literal('shutting-down')]),
  checks: Type.Array(CheckResultSchema)
}, { $id: 'Readiness' })

export async function healthRoutes (app: FastifyInstance, opts: HealthRouteOptions): Promise<void> {
  app.get('/healthz', {
    config: { auth: false },
    schema: { tags: ['health'], summary: 'Liveness', security: [], response: { 200: Type.Object({ status: Type.Literal('ok') }) } }
  }, async () => ({ status: 'ok' as const }))

  app.get('/readyz', {
    config: { auth: false },
    schema: { tags: ['health'], summary: 'Readiness', security: [], response: { 200: ReadinessSchema, 503: ReadinessSchema } }
  }, async (_request, reply) => {
    const readiness = await opts.health.readiness()
    return reply.code(readiness.status === 'ready' ? 200 : 503).send(readiness)
  })
}
