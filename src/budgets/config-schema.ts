// Per-caller budgets, embedded by src/config.ts as `limits`. Each one is per
// replica: a caller spread over N replicas gets N times the budget, the same
// bound the API server's own per-instance max-requests-inflight gives.
import { Type, type Static } from '@sinclair/typebox'

export const LimitsConfigSchema = Type.Object({
  streamsPerUser: Type.Integer({ minimum: 1, default: 32, description: 'Open streams (attach WebSockets, followed log streams and drop SSE streams together) one user may hold on one replica; the next gets 429 with Retry-After.' }),
  ticketsPerMinute: Type.Integer({ minimum: 1, default: 60, description: 'Stream tickets one user may be issued per minute (token bucket refill rate).' }),
  ticketBurst: Type.Integer({ minimum: 1, default: 20, description: 'Stream tickets one user may be issued at once before the per-minute rate applies (token bucket size).' }),
  auditRecordsPerUserPerMinute: Type.Integer({ minimum: 1, default: 1200, description: 'Audit records one user may cause per minute on one replica; further requests get 429 until the minute ends, and their refusals are written as one summary record rather than one record each.' }),
  delegatorFactor: Type.Integer({ minimum: 1, default: 8, description: 'A caller that delegates (Impersonate-*) is also counted as itself, against this many times each per-user budget, so one bot cannot spread unbounded load over the users it acts for.' }),
  retryAfterSeconds: Type.Integer({ minimum: 1, default: 5, description: 'Retry-After sent when the stream budget is full (a stream ending frees a slot at an unknown time).' })
}, { additionalProperties: false, default: {} })
export type LimitsConfig = Static<typeof LimitsConfigSchema>
