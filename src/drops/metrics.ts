// Prometheus collectors of the drop stream, registered on the app's registry.
import { Counter, Gauge, type Registry } from 'prom-client'
import type { HubMetrics } from './hub.ts'
import type { WatcherHooks, WatcherHealth } from './watcher.ts'
import type { DropEventKind } from './types.ts'

export interface DropMetrics {
  hub: HubMetrics
  watcher: WatcherHooks
}

export function createDropMetrics (registry: Registry, health: () => WatcherHealth): DropMetrics {
  const registers = [registry]
  const subscribers = new Gauge({ name: 'kdebug_drops_subscribers', help: 'Open drop SSE streams', registers })
  const received = new Counter({ name: 'kdebug_drops_received_total', help: 'Drops and drop updates received from the upstream watch (after de-duplication)', labelNames: ['kind'], registers })
  const sent = new Counter({ name: 'kdebug_drops_sent_total', help: 'Drop events written to subscribers', registers })
  const restarts = new Counter({ name: 'kdebug_drops_watch_restarts_total', help: 'Upstream event watches that ended or broke and were resumed', registers })
  const relists = new Counter({ name: 'kdebug_drops_watch_relists_total', help: 'Re-LISTs after 410 Expired', registers })
  const slow = new Counter({ name: 'kdebug_drops_slow_disconnects_total', help: 'Subscribers cut because their unsent backlog passed the limit', registers })
  // eslint-disable-next-line no-new
  new Gauge({
    name: 'kdebug_drops_watch_connected',
    help: '1 when every upstream event watch is listed and watching',
    registers,
    collect () { this.set(health().connected ? 1 : 0) }
  })
  return {
    hub: {
      sent: n => sent.inc(n),
      slowDisconnect: () => slow.inc(),
      subscribers: n => subscribers.set(n)
    },
    watcher: {
      onRestart: () => restarts.inc(),
      onRelist: () => relists.inc(),
      onReceived: (kind: DropEventKind) => received.inc({ kind })
    }
  }
}
