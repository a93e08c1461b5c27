// Audit records of the debug actions: who (the real caller, and the user a bot
// acted for), what was asked (a summary, never the body), and what happened.
import type { Identity } from '../auth/identity.ts'
import type { AuditActor, AuditEntry, AuditLog, AuditRecord, AuditRequestSummary, AuditTarget } from './types.ts'
import { Problems, isProblemError } from '../errors.ts'

export interface Caller {
  identity: Identity
  requestId: string
  source?: { ip?: string, userAgent?: string }
}

/** The authenticated caller; with delegation the bot, on behalf of the effective user. */
export function auditActor (id: Identity): AuditActor {
  if (id.actor === undefined) return { user: id.user, groups: [...id.groups] }
  return { user: id.actor.user, groups: [...id.actor.groups], onBehalfOf: { user: id.user, groups: [...id.groups] } }
}

export interface AuditScope {
  audit: AuditLog
  caller: Caller
  action: string
  target: AuditTarget
  request?: AuditRequestSummary
}

function entry (s: AuditScope, rest: Pick<AuditEntry, 'phase'> & Partial<AuditEntry>): AuditEntry {
  const e: AuditEntry = { requestId: s.caller.requestId, action: s.action, actor: auditActor(s.caller.identity), target: s.target, ...rest }
  if (s.request !== undefined) e.request = s.request
  if (s.caller.source !== undefined) e.source = s.caller.source
  return e
}

/** The record written before the mutation; if it cannot be written nothing happens (503). */
export async function auditRequest (s: AuditScope, decision: { rule?: string }): Promise<AuditRecord> {
  try {
    return await s.audit.append(entry(s, { phase: 'request', decision: { allowed: true, ...decision } }))
  } catch (err) {
    if (isProblemError(err) && err.status === 503) throw err
    throw Problems.auditUnavailable(undefined, {}, { cause: err })
  }
}

/** After the Kubernetes call. Failure here is logged by the caller: the action already happened. */
export async function auditOutcome (s: AuditScope, relatesTo: string, outcome: { status: number, kubernetesReason?: string, error?: string, [k: string]: unknown }): Promise<void> {
  const o = Object.fromEntries(Object.entries(outcome).filter(([, v]) => v !== undefined)) as typeof outcome
  await s.audit.append(entry(s, { phase: 'outcome', outcome: o, relatesTo }))
}

/** A refusal (RBAC, policy, limits). The refusal stands even if the record cannot be written. */
export async function auditDenied (s: AuditScope, decision: { permission?: string, rule?: string, detail?: string }, status: number): Promise<void> {
  const d = Object.fromEntries(Object.entries(decision).filter(([, v]) => v !== undefined))
  await s.audit.append(entry(s, { phase: 'denied', decision: { allowed: false, ...d }, outcome: { status } })).catch(() => undefined)
}
