import { Gauge, type Registry } from 'prom-client'

/** Open log streams, registered once per registry (an app registering the plugin twice reuses it). */
export function logStreamsGauge (registry: Registry): Gauge {
  const name = 'kdebug_log_streams_active'
  return (registry.getSingleMetric(name) as Gauge | undefined) ?? new Gauge({ name, help: 'Container log streams currently open', registers: [registry] })
}
