// The per-caller budgets of one replica and their metrics: concurrent streams,
// stream-ticket issuance and audit volume. Routes ask; the 429 problems are
// made here so every budget answers the same way (Retry-After, the budget
// named, never another caller's numbers).
import { Counter, Gauge, type Registry } from 'prom-client'
import type { Identity } from '../auth/identity.ts'
import { Problems, type ProblemError } from '../errors.ts'
import { AuditVolumeBudget } from './audit-volume.ts'
import type { LimitsConfig } from './config-schema.ts'
import { budgetKeys, type BudgetKey } from './keys.ts'
import { StreamBudget } from './streams.ts'
import { TokenBuckets } from './token-bucket.ts'

export { LimitsConfigSchema, type LimitsConfig } from './config-schema.ts'
export { budgetKeys, anonymousKey, type BudgetKey } from './keys.ts'
export type { RefusalSummary } from './audit-volume.ts'

export type BudgetName = 'streams' | 'tickets' | 'audit'

export interface BudgetsOptions {
  config: LimitsConfig
  registry: Registry
  clock?: () => number
}

export class Budgets {
  readonly config: LimitsConfig
  readonly streams: StreamBudget
  readonly tickets: TokenBuckets
  readonly auditVolume: AuditVolumeBudget
  readonly #refusals: Counter<'budget'>
  readonly #suppressed: Counter

  constructor (opts: BudgetsOptions) {
    const clock = opts.clock ?? Date.now
    this.config = opts.config
    this.streams = new StreamBudget(opts.config.streamsPerUser)
    this.tickets = new TokenBuckets({ ratePerMinute: opts.config.ticketsPerMinute, burst: opts.config.ticketBurst, clock })
    this.auditVolume = new AuditVolumeBudget({ limitPerMinute: opts.config.auditRecordsPerUserPerMinute, clock })
    this.#refusals = new Counter({ name: 'kdebug_budget_refusals_total', help: 'Requests refused with 429 because a per-caller budget was spent, by budget (streams, tickets, audit)', labelNames: ['budget'], registers: [opts.registry] })
    this.#suppressed = new Counter({ name: 'kdebug_audit_refusals_summarised_total', help: 'Refusals of callers past their audit budget that were counted into a summary record instead of written one by one', registers: [opts.registry] })
    const streams = this.streams
    opts.registry.registerMetric(new Gauge({ name: 'kdebug_budget_streams_open', help: 'Streams (attach, followed logs, drop SSE) counted against per-user stream budgets on this replica', registers: [], collect () { this.set(streams.total) } }))
    opts.registry.registerMetric(new Gauge({ name: 'kdebug_budget_stream_holders', help: 'Callers holding at least one stream on this replica', registers: [], collect () { this.set(streams.callers) } }))
  }

  keys (identity: Identity): BudgetKey[] {
    return budgetKeys(identity, this.config.delegatorFactor)
  }

  refused (budget: BudgetName): void { this.#refusals.inc({ budget }) }
  summarised (): void { this.#suppressed.inc() }

  /** Takes a stream slot for the caller; the release function must run when the stream ends. Throws 429 when full. */
  acquireStream (identity: Identity): () => void {
    const release = this.streams.tryAcquire(this.keys(identity))
    if (release) return release
    this.refused('streams')
    throw tooMany(`You have ${this.config.streamsPerUser} streams open on this replica (limits.streamsPerUser); close one and retry.`, 'streams', this.config.retryAfterSeconds)
  }

  /** Spends one stream ticket of the caller's rate. Throws 429 when the bucket is empty. */
  takeTicket (identity: Identity): void {
    const wait = this.tickets.take(this.keys(identity))
    if (wait === 0) return
    this.refused('tickets')
    throw tooMany(`Stream tickets are limited to ${this.config.ticketsPerMinute} per minute (burst ${this.config.ticketBurst}) per user (limits.ticketsPerMinute).`, 'tickets', wait)
  }
}

export function tooMany (detail: string, budget: BudgetName, retryAfter: number): ProblemError {
  return Problems.tooManyRequests(detail, { budget, retryAfter })
}
