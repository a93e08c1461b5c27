// Liveness and readiness. /healthz says the process serves HTTP; /readyz says
// this replica should get traffic: every check passes (API server reachable,
// audit log writable, what features add) and it is not shutting down.
// Register at the root: `await app.register(healthPlugin, { checks, isShuttingDown })`.
import type { FastifyInstance } from 'fastify'
import type { ReadinessCheck } from '../readiness.ts'
import { healthRoutes } from './routes.ts'
import { HealthService } from './service.ts'

export interface HealthPluginOptions {
  checks: ReadinessCheck[]
  isShuttingDown: () => boolean
}

export async function healthPlugin (app: FastifyInstance, opts: HealthPluginOptions): Promise<void> {
  const health = new HealthService({ checks: opts.checks, isShuttingDown: opts.isShuttingDown })
  await app.register(healthRoutes, { health })
}
