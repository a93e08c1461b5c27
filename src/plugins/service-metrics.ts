// Metrics of the long-lived services: the token and SubjectAccessReview
// caches (read from their counters at scrape time) and the audit log's
// append latency (an instrumented wrapper: the latency a request waits for
// its record to be durable).
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import type { CacheStats } from '../auth/single-flight.ts'
import type { AuditEntry, AuditLog, AuditRecord } from '../audit/types.ts'

const RESULT_LABEL = { hits: 'hit', misses: 'miss', coalesced: 'coalesced' } as const

/** Exposes a cache's monotonic counters as Prometheus counters, sampled on scrape. */
export function registerCacheMetrics (registry: Registry, cache: string, stats: () => CacheStats | undefined): void {
  let last: CacheStats = { hits: 0, misses: 0, coalesced: 0, size: 0 }
  const sample = (): CacheStats => stats() ?? last
  registry.registerMetric(new Counter({
    name: `kdebug_${cache}_cache_lookups_total`,
    help: `${cache} cache lookups by result (hit, miss = asked upstream, coalesced = joined an in-flight ask)`,
    labelNames: ['result'],
    registers: [],
    collect () {
      const s = sample()
      // Counters only go up: add what happened since the last scrape.
      for (const result of ['hits', 'misses', 'coalesced'] as const) {
        const delta = s[result] - last[result]
        if (delta > 0) this.inc({ result: RESULT_LABEL[result] }, delta)
      }
      last = { ...s }
    }
  }))
  registry.registerMetric(new Gauge({
    name: `kdebug_${cache}_cache_entries`,
    help: `Entries in the ${cache} cache`,
    registers: [],
    collect () { this.set(sample().size) }
  }))
}

/** Wraps an AuditLog so every append's durability wait is measured. */
export function instrumentAudit (audit: AuditLog, registry: Registry): AuditLog {
  const latency = new Histogram({
    name: 'kdebug_audit_append_duration_seconds',
    help: 'Time from append to the record being durable (group commit + fdatasync)',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
    registers: [registry]
  })
  const failures = new Counter({ name: 'kdebug_audit_append_failures_total', help: 'Audit appends that failed (the request was refused)', registers: [registry] })
  registry.registerMetric(new Gauge({
    name: 'kdebug_audit_writable',
    help: '1 while the audit log accepts records, 0 while mutations are refused',
    registers: [],
    collect () { this.set(audit.writable() ? 1 : 0) }
  }))
  return {
    async append (entry: AuditEntry): Promise<AuditRecord> {
      const end = latency.startTimer()
      try {
        return await audit.append(entry)
      } catch (err) {
        failures.inc()
        throw err
      } finally {
        end()
      }
    },
    writable: () => audit.writable(),
    close: async () => { await audit.close() }
  }
}
