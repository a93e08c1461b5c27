// The audit record contract. The writer (src/audit/writer.ts) adds seq, time,
// id, replica and prevHash; callers supply the rest. Never put tokens,
// tickets or env values in here: the record is the permanent trail.

export interface AuditPrincipal {
  user: string
  groups: string[]
}

export interface AuditActor extends AuditPrincipal {
  /** Set when the caller delegated: the user the bot acted for. */
  onBehalfOf?: AuditPrincipal
}

export interface AuditTarget {
  namespace?: string
  pod?: string
  node?: string
  container?: string
  session?: string
}

export interface AuditRequestSummary {
  image?: string
  images?: string[]
  profile?: string
  capabilities?: { add?: string[], drop?: string[] }
  privileged?: boolean
  runAsUser?: number
  reason?: string
  ticket?: string
  ttlSeconds?: number
  dryRun?: boolean
  protocol?: string
  [key: string]: unknown
}

export interface AuditDecision {
  allowed: boolean
  /** The policy rule that matched, when policy decided. */
  rule?: string
  /** The missing permission or policy field when denied. */
  permission?: string
  detail?: string
}

export interface AuditOutcome {
  status: number
  kubernetesReason?: string
  error?: string
  [key: string]: unknown
}

export type AuditPhase = 'request' | 'outcome' | 'denied' | 'event'

export interface AuditEntry {
  /** The gateway's own id of the request (a UUID it generated; also the response's x-request-id). */
  requestId: string
  /** The X-Request-Id the client sent, when it looked like an id: the client's correlation, never trusted as ours. */
  clientRequestId?: string
  /** e.g. `ephemeral.create`, `copy.create`, `node.create`, `session.delete`, `attach.start`, `attach.end`, `reaper.delete`. */
  action: string
  phase: AuditPhase
  actor: AuditActor
  target?: AuditTarget
  request?: AuditRequestSummary
  decision?: AuditDecision
  outcome?: AuditOutcome
  source?: { ip?: string, userAgent?: string }
  /** Correlates an outcome with its request record (the request record's id). */
  relatesTo?: string
}

export interface AuditRecord extends AuditEntry {
  seq: number
  time: string
  id: string
  replica: string
  prevHash: string
}

export interface AuditLog {
  /** Appends and resolves once the record is durable (fdatasync for the file sink). Rejects if it cannot be written. */
  append (entry: AuditEntry): Promise<AuditRecord>
  /** False once a write failed and the sink has not recovered: mutations must be refused. */
  writable (): boolean
  close (): Promise<void>
}
