// One audit record per decision. Routes and services write the records they
// know best (debug actions, attach, log reads, tickets, stream subscriptions);
// this plugin writes one for every refusal or failure that ended without any:
// authentication failures, refused impersonation, origin and ticket refusals,
// 429s, refusals of mutating and stream requests, and every 5xx (route,
// status and problem code — never the internals). It also gates each caller
// on its audit budget (src/budgets/audit-volume.ts): past it, requests get
// 429 and their refusals are summarised, not written one by one.
//
// Register `requestAuditStart` before the auth plugin (it stamps the client's
// id and starts tracking) and `auditBudgetGate` after it (it needs the identity).
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Identity } from '../auth/identity.ts'
import type { AuditActor, AuditEntry, AuditLog, AuditTarget } from '../audit/types.ts'
import { RequestAuditTracker } from '../audit/request-tracker.ts'
import { SYSTEM_ACTOR } from '../audit/writer.ts'
import { anonymousKey, tooMany, type Budgets, type BudgetKey } from '../budgets/index.ts'
import { auditActor, type Caller } from '../audit/records.ts'
import type { ProblemError } from '../errors.ts'
import { clientRequestIdOf } from './request-id.ts'

export const ANONYMOUS_ACTOR: AuditActor = Object.freeze({ user: 'system:anonymous', groups: ['system:unauthenticated'] }) as AuditActor
const BUDGET_ACTION = /^audit\.budget-/
const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

declare module 'fastify' {
  interface FastifyRequest {
    /** The client's X-Request-Id when sane (never the request's id). */
    clientRequestId: string | undefined
    /** The authenticated caller before delegation, when delegation was refused. */
    authenticatedCaller: Identity | undefined
    /** This refusal is counted into an audit-budget summary instead of written. */
    auditSuppressed: boolean
  }
  interface FastifyInstance {
    budgets: Budgets
    /** Writes the generic record of a refusal or failure that has no record yet. Never throws. */
    auditProblem: (request: FastifyRequest, problem: ProblemError) => Promise<void>
  }
  interface FastifyContextConfig {
    /** Action name of the records written for this route's refusals (default `http.request`). */
    auditAction?: string
  }
}

/** The budget keys an audit entry is charged to: the effective user and the delegating caller. */
export function entryKeys (entry: AuditEntry, delegatorFactor: number): BudgetKey[] {
  const a = entry.actor
  if (a.user === SYSTEM_ACTOR.user || BUDGET_ACTION.test(entry.action)) return []
  if (a.user === ANONYMOUS_ACTOR.user) return [anonymousKey(entry.source?.ip ?? 'unknown')]
  if (a.onBehalfOf !== undefined) return [{ key: `user:${a.onBehalfOf.user}`, factor: 1 }, { key: `user:${a.user}`, factor: delegatorFactor }]
  return [{ key: `user:${a.user}`, factor: 1 }]
}

export function createRequestAudit (opts: { audit: AuditLog, budgets: Budgets }): RequestAuditTracker {
  const { budgets } = opts
  return new RequestAuditTracker({
    audit: opts.audit,
    onEntry: (entry) => {
      const keys = entryKeys(entry, budgets.config.delegatorFactor)
      if (keys.length > 0) budgets.auditVolume.note(keys)
    }
  })
}

/** Whether a refusal/failure without a record of its own gets the generic one. */
export function needsRecord (request: FastifyRequest, problem: ProblemError): boolean {
  if (problem.status >= 500) return true
  if (request.routeOptions.config?.auth === false) return false
  // Authenticated, but the delegation it asked for was refused.
  if (request.authenticatedCaller !== undefined && !request.identity) return true
  if (problem.status === 401 || problem.status === 403 || problem.status === 429) return true
  return !READ_METHODS.has(request.method) || request.routeOptions.config?.auditAction !== undefined
}

function targetOf (request: FastifyRequest): AuditTarget | undefined {
  const p = (request.params ?? {}) as Record<string, unknown>
  const q = (request.query ?? {}) as Record<string, unknown>
  const t: AuditTarget = {}
  if (typeof p.namespace === 'string') t.namespace = p.namespace
  if (typeof p.pod === 'string') t.pod = p.pod
  if (typeof p.node === 'string') t.node = p.node
  if (typeof p.container === 'string') t.container = p.container
  else if (typeof q.container === 'string') t.container = q.container
  if (typeof p.id === 'string') t.session = p.id
  return Object.keys(t).length > 0 ? t : undefined
}

/** The audit caller of a request (for routes that write their own records). */
export function callerOf (request: FastifyRequest): Caller {
  return { identity: request.identity, requestId: request.id, source: sourceOf(request) }
}

function sourceOf (request: FastifyRequest): { ip?: string, userAgent?: string } {
  const ua = request.headers['user-agent']
  return { ip: request.ip, ...(typeof ua === 'string' ? { userAgent: ua.slice(0, 256) } : {}) }
}

function actorOf (request: FastifyRequest): AuditActor {
  const who = request.identity ?? request.authenticatedCaller
  return who ? auditActor(who) : ANONYMOUS_ACTOR
}

/** The generic record of a refusal (4xx) or failure (5xx). */
export function refusalEntry (request: FastifyRequest, problem: ProblemError): AuditEntry {
  const route = request.routeOptions.url ?? 'unmatched'
  const e: AuditEntry = {
    requestId: request.id,
    action: request.routeOptions.config?.auditAction ?? 'http.request',
    phase: problem.status >= 500 ? 'outcome' : 'denied',
    actor: actorOf(request),
    request: { method: request.method, route },
    outcome: { status: problem.status, code: problem.code },
    source: sourceOf(request)
  }
  if (request.clientRequestId !== undefined) e.clientRequestId = request.clientRequestId
  const target = targetOf(request)
  if (target) e.target = target
  // A 5xx says only route, status and code; a refusal says why (the problem's detail is written for the caller).
  if (problem.status < 500) {
    const { permission, rule } = problem.extras
    e.decision = { allowed: false, detail: problem.detail, ...(typeof permission === 'string' ? { permission } : {}), ...(typeof rule === 'string' ? { rule } : {}) }
  }
  return e
}

interface StartOptions { tracker: RequestAuditTracker }

async function requestAuditStartPlugin (app: FastifyInstance, opts: StartOptions): Promise<void> {
  const { tracker } = opts
  app.decorateRequest('clientRequestId', undefined)
  app.decorateRequest('authenticatedCaller', undefined)
  app.decorateRequest('auditSuppressed', false)

  app.addHook('onRequest', async (request, reply) => {
    request.clientRequestId = clientRequestIdOf(request.headers)
    const id = request.id
    tracker.begin(id, request.clientRequestId)
    // onResponse does not run for hijacked streams (drops SSE), upgraded WebSockets or
    // responses the client abandoned: stop tracking when the connection or response closes.
    // An upgraded socket lives as long as its session, so attach.end still gets the client's id.
    const end = (): void => { setImmediate(() => { tracker.end(id) }) }
    if (request.raw.headers.upgrade !== undefined) request.raw.socket.once('close', end)
    else reply.raw.once('close', end)
  })

  // Called by the error handler before the problem is sent: the record is durable before the caller sees the refusal.
  app.decorate('auditProblem', async function auditProblem (request: FastifyRequest, problem: ProblemError): Promise<void> {
    if (!request.auditSuppressed && tracker.records(request.id) === 0 && needsRecord(request, problem)) {
      await writeRefusal(app, request, problem)
    }
  })

  // An allowed request that wrote no record of its own (whoami, session and audit reads, …) gets
  // one before its answer is sent: every decision, allowed or denied, is one record.
  app.addHook('onSend', async (request, reply, payload) => {
    if (reply.statusCode < 400 && request.identity && request.routeOptions.config?.auth !== false &&
      request.raw.headers.upgrade === undefined && tracker.records(request.id) === 0) {
      await app.audit.append(allowedEntry(request, reply.statusCode)).catch((err: unknown) => {
        request.log.error({ err: { type: (err as Error)?.name, message: (err as Error)?.message } }, 'audit record of an allowed request could not be written')
      })
    }
    return payload
  })

  app.addHook('onResponse', async (request) => {
    if (request.raw.headers.upgrade === undefined) tracker.end(request.id)
  })
}

/** The generic record of an allowed request whose route wrote none (reads). */
export function allowedEntry (request: FastifyRequest, status: number): AuditEntry {
  const route = request.routeOptions.url ?? 'unmatched'
  const e: AuditEntry = {
    requestId: request.id,
    action: request.routeOptions.config?.auditAction ?? (READ_METHODS.has(request.method) ? 'http.read' : 'http.request'),
    phase: 'event',
    actor: actorOf(request),
    request: { method: request.method, route },
    decision: { allowed: true },
    outcome: { status },
    source: sourceOf(request)
  }
  if (request.clientRequestId !== undefined) e.clientRequestId = request.clientRequestId
  const target = targetOf(request)
  if (target) e.target = target
  return e
}

async function writeRefusal (app: FastifyInstance, request: FastifyRequest, problem: ProblemError): Promise<void> {
  const entry = refusalEntry(request, problem)
  // Callers we cannot name are budgeted by address; past it, counted not written.
  if (entry.actor.user === ANONYMOUS_ACTOR.user && !app.budgets.auditVolume.chargeOrSuppress(anonymousKey(request.ip))) {
    app.budgets.summarised()
    return
  }
  await app.audit.append(entry).catch((err: unknown) => {
    request.log.error({ err: { type: (err as Error)?.name, message: (err as Error)?.message }, problem: problem.code }, 'audit record of a refusal could not be written')
  })
}

/** Writes summary records of audit-budget windows that ended with refusals. */
export async function flushBudgetSummaries (app: FastifyInstance, all = false): Promise<void> {
  const summaries = app.budgets.auditVolume.drain(all)
  await Promise.all(summaries.map(async (s) => {
    const name = s.key.replace(/^(user|anon):/, '')
    const actor: AuditActor = s.key.startsWith('anon:') ? ANONYMOUS_ACTOR : { user: name, groups: [] }
    await app.audit.append({
      requestId: 'audit-budget',
      action: 'audit.budget-summary',
      phase: 'event',
      actor,
      ...(s.key.startsWith('anon:') ? { source: { ip: name } } : {}),
      decision: { allowed: false, detail: `${s.refused} request(s) refused with 429 past the audit budget and not written one by one` },
      outcome: { status: 429, refused: s.refused, windowStart: new Date(s.windowStart).toISOString(), windowEnd: new Date(s.windowEnd).toISOString() }
    }).catch((err: unknown) => {
      app.log.error({ err: { type: (err as Error)?.name, message: (err as Error)?.message }, refused: s.refused }, 'audit budget summary could not be written')
    })
  }))
}

async function auditBudgetGatePlugin (app: FastifyInstance): Promise<void> {
  const windowMs = 60_000
  const timer = setInterval(() => { flushBudgetSummaries(app).catch(() => {}) }, windowMs)
  timer.unref()
  app.addHook('onClose', async () => {
    clearInterval(timer)
    await flushBudgetSummaries(app, true)
  })

  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config?.auth === false || !request.identity) return
    const admission = app.budgets.auditVolume.admit(app.budgets.keys(request.identity))
    await flushBudgetSummaries(app)
    if (admission.ok) return
    app.budgets.refused('audit')
    const problem = tooMany(`Too many audited requests this minute (limits.auditRecordsPerUserPerMinute = ${app.budgets.config.auditRecordsPerUserPerMinute}); retry after the window ends.`, 'audit', admission.retryAfterSeconds)
    if (admission.first) {
      // The first refusal of the window is written; the rest go into the summary.
      await app.audit.append({ ...refusalEntry(request, problem), action: 'audit.budget-exceeded' }).catch(() => undefined)
    } else {
      request.auditSuppressed = true
      app.budgets.summarised()
    }
    throw problem
  })
}

export const requestAuditStart = fp<StartOptions>(requestAuditStartPlugin, { name: 'kdebug-request-audit', fastify: '5.x' })
export const auditBudgetGate = fp(auditBudgetGatePlugin, { name: 'kdebug-audit-budget', fastify: '5.x', dependencies: ['kdebug-request-audit'] })
