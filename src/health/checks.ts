// The readiness checks every replica has: the API server answers, the audit
// log can be written. Features add their own (the drop watch).
import type { AuditLog } from '../audit/types.ts'
import { SingleFlightCache } from '../auth/single-flight.ts'
import type { Cluster } from '../kube/cluster.ts'
import type { ReadinessCheck } from '../readiness.ts'

const API_SERVER_PING_CACHE_MS = 2000

/** Caches the API server ping briefly, single-flight, so busy probes cannot hammer a slow API server. */
export function apiServerCheck (cluster: Cluster): ReadinessCheck {
  const cache = new SingleFlightCache<string, { ok: boolean, detail?: string }>({ max: 1 })
  const ping = async (): Promise<{ ok: boolean, detail?: string }> => await cluster.ping().then(
    version => ({ ok: true, detail: version }),
    () => ({ ok: false, detail: 'API server unreachable' })
  )
  return {
    name: 'kubernetes-api',
    check: async () => await cache.get('ping', async () => ({ value: await ping(), ttlMs: API_SERVER_PING_CACHE_MS }))
  }
}

/** Nothing may mutate unaudited: a replica whose audit sink cannot be written is not ready. */
export function auditLogCheck (audit: AuditLog): ReadinessCheck {
  return {
    name: 'audit-log',
    check: async () => ({ ok: audit.writable(), detail: audit.writable() ? undefined : 'audit sink not writable' })
  }
}
