// Liveness and readiness. /healthz says the process serves HTTP; /readyz says
// this replica should get traffic: API server reachable, audit log writable,
// not shutting down, plus any checks other components register (drop watch).
import type { ReadinessCheck } from '../readiness.ts'
import { Type } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'

export interface HealthRouteOptions {
  checks: ReadinessCheck[]
  isShuttingDown: () => boolean
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
    schema: { tags: ['health'], operationId: 'getLiveness', summary: 'Liveness', security: [], response: { 200: Type.Object({ status: Type.Literal('ok') }) } }
  }, async () => ({ status: 'ok' as const }))

  app.get('/readyz', {
    config: { auth: false },
    schema: { tags: ['health'], operationId: 'getReadiness', summary: 'Readiness', security: [], response: { 200: ReadinessSchema, 503: ReadinessSchema } }
  }, async (_request, reply) => {
    if (opts.isShuttingDown()) {
      return reply.code(503).send({ status: 'shutting-down', checks: [] })
    }
    const checks = await Promise.all(opts.checks.map(async c => {
      const r = await c.check().catch((err: Error) => ({ ok: false, detail: err.message }))
      return { name: c.name, ok: r.ok, critical: c.critical !== false, ...(r.detail ? { detail: r.detail } : {}) }
    }))
    const ready = checks.every(c => c.ok || !c.critical)
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not-ready', checks })
  })
}
