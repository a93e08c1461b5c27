// Packet drops as one plugin: `await app.register(dropsPlugin, { prefix: '/v1',
// onReadinessCheck })`. When config.drops is enabled it builds the shared
// watch and hub (service.ts), starts the watch once the app is ready, gives
// every stream its `shutdown` event before the server waits for connections,
// registers the routes and hands its /readyz check (not critical) to the
// caller. Disabled, it registers nothing.
import type { FastifyInstance } from 'fastify'
import type { ReadinessCheck } from '../readiness.ts'
import type { EventsUpstream } from './upstream.ts'
import { createDrops } from './service.ts'
import { dropsRoutes } from './routes.ts'

export interface DropsPluginOptions {
  /** Receives the drop watch's readiness check (for /readyz). */
  onReadinessCheck?: (check: ReadinessCheck) => void
  /** Replaces the API server (tests). */
  upstream?: EventsUpstream
  /** Milliseconds since the epoch, for `since` (tests move it; default Date.now). */
  clock?: () => number
}

export async function dropsPlugin (app: FastifyInstance, opts: DropsPluginOptions): Promise<void> {
  const config = app.config.drops
  if (!config.enabled) return
  const drops = await createDrops({
    cluster: app.cluster,
    config,
    metricsRegistry: app.metrics.registry,
    logger: app.log,
    ...(opts.upstream ? { upstream: opts.upstream } : {})
  })
  app.addHook('onReady', async () => { drops.start() })
  // Streams get their `shutdown` event and close before the server waits for connections.
  app.addHook('preClose', async () => { await drops.close() })
  opts.onReadinessCheck?.(drops.readinessCheck)
  await app.register(dropsRoutes, { hub: drops.hub, watcher: drops.watcher, config, ...(opts.clock ? { clock: opts.clock } : {}) })
}
