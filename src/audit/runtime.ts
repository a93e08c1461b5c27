// The audit log of a gateway process with everything around it: the rotating
// file, the forwarders (their acknowledged seqs hold retention back), the
// anchor publisher, their readiness checks and metrics, and the order of
// shutdown (the log closes first so its last records are forwarded and
// anchored; forwarders get a bounded time to drain — preStop).
import { Counter, Gauge, type Registry } from 'prom-client'
import type { AuditConfig, AuditSinkConfig } from './config-schema.ts'
import { createAuditLog, type GroupCommitAuditLog } from './writer.ts'
import { Forwarder } from './forward/forwarder.ts'
import { webhookDelivery } from './forward/webhook.ts'
import { streamDelivery, type LineWriter } from './forward/stdout.ts'
import { AuditAnchor } from './anchor.ts'
import type { LeaseClient } from '../kube/lease-client.ts'
import type { ReadinessCheck } from '../readiness.ts'

export interface AuditRuntimeOptions {
  config: AuditConfig
  replica: string
  /** Where hmacKeyEnv keys are read from. */
  env?: Record<string, string | undefined>
  /** Anchor Leases (absent: no anchoring). */
  leases?: LeaseClient
  clock?: () => number
  stdout?: LineWriter
  fetch?: typeof fetch
  /** Forwarder backoff waits (tests make them instant). */
  wait?: (ms: number, signal: AbortSignal) => Promise<void>
  onError?: (err: Error, context: string) => void
}

/** The sinks as configured, with names filled in (`audit.stdout: true` with a file is a stdout forwarder). */
export function sinksOf (config: AuditConfig): Array<AuditSinkConfig & { name: string }> {
  const list: AuditSinkConfig[] = [...config.forward]
  if (config.stdout && config.file !== null && !list.some((s) => s.type === 'stdout')) list.push({ type: 'stdout', batchMaxRecords: 500 })
  const used = new Map<string, number>()
  return list.map((s) => {
    let name = s.name ?? s.type
    const n = (used.get(name) ?? 0) + 1
    used.set(name, n)
    if (s.name === undefined && n > 1) name = `${name}-${n}`
    return { ...s, name }
  })
}

/** Audit records go to stdout (alone): the application log must then use stderr. */
export function auditUsesStdout (config: AuditConfig): boolean {
  return config.stdout || config.forward.some((s) => s.type === 'stdout')
}

export class AuditRuntime {
  readonly log: GroupCommitAuditLog
  readonly forwarders: Forwarder[]
  readonly anchor: AuditAnchor | null
  readonly #drainMs: number
  readonly #unsubscribe: () => void
  readonly #errors: { handler: (err: Error, context: string) => void }

  private constructor (log: GroupCommitAuditLog, forwarders: Forwarder[], anchor: AuditAnchor | null, drainMs: number, errors: { handler: (err: Error, context: string) => void }) {
    this.#errors = errors
    this.log = log
    this.forwarders = forwarders
    this.anchor = anchor
    this.#drainMs = drainMs
    this.#unsubscribe = log.onDurable(() => { for (const f of forwarders) f.notify() })
  }

  static async create (opts: AuditRuntimeOptions): Promise<AuditRuntime> {
    const { config, replica } = opts
    const errors = { handler: opts.onError ?? (() => {}) }
    const onError = (err: Error, context: string): void => { errors.handler(err, context) }
    const sinks = sinksOf(config)
    if (config.file === null && config.forward.length > 0) throw new Error('audit.forward needs audit.file: forwarders read the records from the files')
    const forwarders: Forwarder[] = []
    const log = await createAuditLog({
      ...(config.file !== null ? { file: config.file, rotation: config.rotation } : {}),
      stdout: config.file === null && config.stdout,
      replica,
      ...(opts.clock ? { clock: opts.clock } : {}),
      acknowledgedSeq: () => forwarders.reduce((min, f) => Math.min(min, f.acknowledgedSeq()), Infinity),
      onError: (err, context) => onError(err, `audit-${context}`)
    })
    const file = config.file
    if (file !== null) {
      for (const s of sinks) {
        const common = { name: s.name, file, head: () => log.head(), batchMaxRecords: s.batchMaxRecords, ...(opts.wait ? { wait: opts.wait } : {}), onError: (err: Error) => onError(err, 'audit-forward') }
        if (s.type === 'webhook') {
          const hmacKey = s.hmacKeyEnv === undefined ? undefined : (opts.env ?? {})[s.hmacKeyEnv]
          if (s.hmacKeyEnv !== undefined && !hmacKey) throw new Error(`audit.forward ${s.name}: the environment variable ${s.hmacKeyEnv} (hmacKeyEnv) is not set`)
          forwarders.push(new Forwarder({
            ...common,
            deliver: webhookDelivery({ config: s, replica, ...(hmacKey ? { hmacKey } : {}), ...(opts.fetch ? { fetch: opts.fetch } : {}), ...(opts.clock ? { clock: opts.clock } : {}) }),
            maxAttempts: s.maxAttempts,
            initialBackoffMs: s.initialBackoffMs,
            maxBackoffMs: s.maxBackoffMs
          }))
        } else {
          forwarders.push(new Forwarder({ ...common, deliver: streamDelivery(opts.stdout ?? process.stdout), maxAttempts: 3, initialBackoffMs: 100, maxBackoffMs: 5000 }))
        }
      }
    }
    try {
      for (const f of forwarders) await f.load()
    } catch (err) {
      await log.close()
      throw err
    }
    const anchor = opts.leases && config.anchor.intervalSeconds > 0
      ? new AuditAnchor({
        leases: opts.leases,
        namespace: config.anchor.namespace,
        replica,
        head: () => log.head(),
        intervalMs: config.anchor.intervalSeconds * 1000,
        ...(opts.clock ? { clock: opts.clock } : {}),
        onError: (err) => onError(err, 'audit-anchor'),
        onMismatch: (detail) => {
          onError(new Error(detail), 'audit-anchor')
          log.append({ requestId: 'audit', action: 'audit.anchor-mismatch', phase: 'event', actor: { user: 'system:kdebug-gateway', groups: [] }, outcome: { status: 0, error: detail } }).catch(() => {})
        }
      })
      : null
    return new AuditRuntime(log, forwarders, anchor, config.drainSeconds * 1000, errors)
  }

  /** Where failures of the writer, forwarders and anchor are reported (the app's logger). */
  onError (handler: (err: Error, context: string) => void): void {
    this.#errors.handler = handler
  }

  /** Starts forwarding and anchoring (the first anchor is published now). */
  start (): void {
    for (const f of this.forwarders) f.start()
    if (this.anchor) {
      this.anchor.publish().catch(() => {})
      this.anchor.start()
    }
  }

  readinessChecks (): ReadinessCheck[] {
    const log = this.log
    const checks: ReadinessCheck[] = [{
      name: 'audit-log',
      check: async () => {
        const reason = log.unavailableReason()
        return reason === null ? { ok: true, detail: `head seq ${log.head().seq}` } : { ok: false, detail: reason }
      }
    }]
    if (this.forwarders.length > 0) {
      checks.push({
        name: 'audit-forward',
        critical: false,
        check: async () => {
          const all = this.forwarders.map((f) => f.status())
          const detail = all.map((s) => `${s.name}: ${s.up ? 'up' : 'down'}, backlog ${s.backlog} records, acknowledged seq ${s.acknowledgedSeq}${s.lastError ? ` (${s.lastError})` : ''}`).join('; ')
          return { ok: all.every((s) => s.up), detail }
        }
      })
    }
    if (this.anchor) {
      const anchor = this.anchor
      checks.push({
        name: 'audit-anchor',
        critical: false,
        check: async () => {
          const s = anchor.status()
          if (s.mismatch) return { ok: false, detail: s.mismatch }
          const last = s.published ? `seq ${s.published.seq} at ${s.published.time}` : 'nothing yet'
          return s.lastError ? { ok: false, detail: `last anchored ${last}; ${s.lastError}` } : { ok: true, detail: `last anchored ${last} (Lease ${anchor.leaseName})` }
        }
      })
    }
    return checks
  }

  registerMetrics (registry: Registry): void {
    const forwarders = this.forwarders
    const log = this.log
    const anchor = this.anchor
    const registers = [registry]
    const metrics: unknown[] = [
      new Gauge({ name: 'kdebug_audit_head_seq', help: 'seq of the last durable audit record', registers, collect () { this.set(log.head().seq) } }),
      new Gauge({ name: 'kdebug_audit_budget_reached', help: '1 while the audit disk budget is reached (mutations refused with 503)', registers, collect () { this.set(log.budgetReached() ? 1 : 0) } }),
      new Gauge({ name: 'kdebug_audit_rotated_files', help: 'Rotated audit files on disk besides the active one', registers, collect () { this.set(log.rotatedFiles()) } })
    ]
    if (forwarders.length > 0) {
      metrics.push(
        new Gauge({ name: 'kdebug_audit_forward_backlog_records', help: 'Audit records written but not yet acknowledged by the sink', labelNames: ['sink'], registers, collect () { for (const f of forwarders) this.set({ sink: f.name }, f.status().backlog) } }),
        new Gauge({ name: 'kdebug_audit_forward_acknowledged_seq', help: 'Last seq the sink acknowledged (its persisted cursor)', labelNames: ['sink'], registers, collect () { for (const f of forwarders) this.set({ sink: f.name }, f.acknowledgedSeq()) } }),
        new Gauge({ name: 'kdebug_audit_forward_up', help: '0 after maxAttempts failed deliveries in a row, 1 once one succeeds', labelNames: ['sink'], registers, collect () { for (const f of forwarders) this.set({ sink: f.name }, f.status().up ? 1 : 0) } }),
        new Counter({ name: 'kdebug_audit_forward_failures_total', help: 'Failed delivery attempts', labelNames: ['sink'], registers, collect () { this.reset(); for (const f of forwarders) this.inc({ sink: f.name }, f.status().failures) } })
      )
    }
    if (anchor) {
      metrics.push(new Gauge({ name: 'kdebug_audit_anchor_seq', help: 'seq of the last chain head published to the anchor Lease', registers, collect () { this.set(anchor.status().published?.seq ?? 0) } }))
    }
  }

  /** Closes the log, publishes the final anchor, lets forwarders drain (bounded), stops them. */
  async close (): Promise<void> {
    await this.log.close()
    this.#unsubscribe()
    for (const f of this.forwarders) f.notify()
    await Promise.all([
      this.anchor?.stop(),
      ...this.forwarders.map(async (f) => { await f.close(this.#drainMs) })
    ])
  }
}
