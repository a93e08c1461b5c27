// Prometheus metrics. One Registry per app instance (tests build many apps),
// exposed at /metrics. Other modules register their own collectors on
// `app.metrics.registry` next to the code that updates them.
import fp from 'fastify-plugin'
import { Registry, Counter, Histogram, collectDefaultMetrics } from 'prom-client'
import type { FastifyInstance } from 'fastify'

export interface GatewayMetrics {
  registry: Registry
  httpRequests: Counter<'method' | 'route' | 'status'>
  httpDuration: Histogram<'method' | 'route'>
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: GatewayMetrics
  }
}

export function createMetrics (registry = new Registry()): GatewayMetrics {
  collectDefaultMetrics({ register: registry, prefix: 'kdebug_' })
  return {
    registry,
    httpRequests: new Counter({
      name: 'kdebug_http_requests_total',
      help: 'HTTP requests by route pattern, method and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry]
    }),
    httpDuration: new Histogram({
      name: 'kdebug_http_request_duration_seconds',
      help: 'HTTP request duration by route pattern',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60],
      registers: [registry]
    })
  }
}

async function metricsPlugin (app: FastifyInstance, opts: { metrics: GatewayMetrics }): Promise<void> {
  const m = opts.metrics
  app.decorate('metrics', m)
  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, never the raw URL: bounded label cardinality, no ids or tickets.
    const route = request.routeOptions.url ?? 'unmatched'
    m.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) })
    m.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000)
  })
  app.get('/metrics', { config: { auth: false }, schema: { hide: true } }, async (_request, reply) => {
    reply.type(m.registry.contentType)
    return await m.registry.metrics()
  })
}

export default fp(metricsPlugin, { name: 'kdebug-metrics', fastify: '5.x' })
