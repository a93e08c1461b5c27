// The packet drop stream of one replica: one upstream watch feeding one hub,
// their metrics, and the /readyz check. The plugin (plugin.ts) starts it when
// the app is ready and closes it before the server waits for connections.
import type { Registry } from 'prom-client'
import type { Cluster } from '../kube/cluster.ts'
import type { ReadinessCheck } from '../readiness.ts'
import type { DropsConfig } from './config-schema.ts'
import { DropHub } from './hub.ts'
import { DropWatcher, type WatcherHealth } from './watcher.ts'
import { kubeEventsUpstream, type EventsUpstream } from './upstream.ts'
import { createDropMetrics } from './metrics.ts'

interface LoggerLike {
  info: (obj: object, msg: string) => void
  warn: (obj: object, msg: string) => void
  debug: (obj: object, msg: string) => void
}

export interface CreateDropsOptions {
  cluster: Pick<Cluster, 'kubeConfig'>
  config: DropsConfig
  metricsRegistry: Registry
  logger: LoggerLike
  /** Replaces the API server (tests). */
  upstream?: EventsUpstream
  /** Event id prefix (default random per process). */
  epoch?: string
  now?: () => number
}

export interface Drops {
  hub: DropHub
  watcher: DropWatcher
  readinessCheck: ReadinessCheck
  start: () => void
  close: () => Promise<void>
}

function describeHealth (h: WatcherHealth, now: number): string {
  const parts = [h.connected ? 'watching' : `not connected${h.lastError ? ` (${h.lastError})` : ''}`]
  if (h.lastEventAt !== null) parts.push(`last event ${Math.round((now - h.lastEventAt) / 1000)} s ago`)
  parts.push(`restarts ${h.restarts}`, `relists ${h.relists}`)
  return parts.join('; ')
}

export async function createDrops (opts: CreateDropsOptions): Promise<Drops> {
  const { config, logger } = opts
  const now = opts.now ?? Date.now
  const health = (): WatcherHealth => watcher.health()
  const metrics = createDropMetrics(opts.metricsRegistry, health)
  const hub = new DropHub({
    bufferSize: config.bufferSize,
    heartbeatSeconds: config.heartbeatSeconds,
    retryMs: config.retryMs,
    maxBacklogBytes: config.maxBacklogBytes,
    permissionRecheckSeconds: config.permissionRecheckSeconds,
    maxSubscribers: config.maxSubscribers,
    epoch: opts.epoch,
    metrics: metrics.hub,
    logger
  })
  const watcher: DropWatcher = new DropWatcher({
    upstream: opts.upstream ?? kubeEventsUpstream(opts.cluster.kubeConfig),
    sink: (kind, drop) => { hub.publish(kind, drop) },
    namespaces: config.namespaces,
    reasons: config.reasons,
    dedupeEntries: config.dedupeEntries,
    watchTimeoutSeconds: config.watchTimeoutSeconds,
    listPageSize: config.listPageSize,
    backoff: config.backoff,
    hooks: metrics.watcher,
    logger,
    now
  })
  const w = watcher
  return {
    hub,
    watcher: w,
    // not critical: without the drop watch the debugging endpoints still work
    readinessCheck: {
      name: 'drop-watch',
      critical: false,
      check: async () => config.enabled
        ? { ok: w.health().connected, detail: describeHealth(w.health(), now()) }
        : { ok: true, detail: 'disabled' }
    },
    start: () => { if (config.enabled) w.start() },
    close: async () => {
      await Promise.all([hub.close(), w.close()])
    }
  }
}
