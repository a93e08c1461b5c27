// Prometheus collectors of attach sessions, registered on the app's registry
// (reused when one app registers the plugin twice on the same registry).
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

export interface AttachMetrics {
  active: Gauge
  bytes: Counter<'direction'>
  duration: Histogram
}

function reuse<T> (registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make()
}

export function attachMetrics (registry: Registry): AttachMetrics {
  const registers = [registry]
  return {
    active: reuse(registry, 'kdebug_attach_sessions_active', () => new Gauge({ name: 'kdebug_attach_sessions_active', help: 'Attach sessions currently relayed', registers })),
    bytes: reuse(registry, 'kdebug_attach_bytes_total', () => new Counter({ name: 'kdebug_attach_bytes_total', help: 'Attach payload bytes relayed: in = stdin from clients, out = output to clients', labelNames: ['direction'] as const, registers })),
    duration: reuse(registry, 'kdebug_attach_session_duration_seconds', () => new Histogram({ name: 'kdebug_attach_session_duration_seconds', help: 'Duration of ended attach sessions', buckets: [1, 10, 60, 300, 900, 1800, 3600, 7200, 14400], registers }))
  }
}
