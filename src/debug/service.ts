// The three debug actions (ephemeral container, pod copy, node debug pod) in
// this order of work: validate → (authenticated by the auth
// plugin) → authorize every permission → read the target → build the spec →
// policy → concurrency limit → audit "request" (durable) → Kubernetes call →
// audit "outcome" → optional wait → response. The session's place under the
// per-user limit is reserved (sessions/ledger.ts) while the target is read, and
// released when the create is not made. Pod-independent validation runs
// before authorization; checks that need the target pod (e.g. `container`
// naming one of its containers) run after it is read, still before anything
// is written or audited as a request.
import type { Identity, Principal, ResourceAttributes } from '../auth/identity.ts'
import type { CompiledPolicy } from '../policy/policy.ts'
import type { AuditRequestSummary, AuditLog } from '../audit/types.ts'
import { Problems, isProblemError, type ProblemError } from '../errors.ts'
import { callOptionsFor, type DebugClient, type CallOptions } from '../kube/debug-client.ts'
import { DEFAULT_PROFILE, isSpecError } from './kubectl/index.ts'
import type { Attribution } from '../sessions/attribution.ts'
import type { Pod } from '../kube/types.ts'
import type { CopyRequest, CreateResponse, EphemeralRequest, NodeDebugRequest, Session } from '../schemas/debug.ts'
import { auditActor, auditDenied, auditOutcome, auditRequest, type AuditScope, type Caller } from '../audit/records.ts'
import type { SessionFinder } from '../sessions/finder.ts'
import { idempotencyKeyHash, newSessionId, requestHash, sessionCreatedAt } from '../sessions/ids.ts'
import { copyPlan, ephemeralPlan, nodePlan, type Built, type Plan, type PlanDeps, type SessionFields } from './plans.ts'
import type { FoundSession } from '../sessions/found.ts'
import { waitForContainer } from '../sessions/wait.ts'
import type { MetadataSigner } from '../security/signing.ts'
import { earliestExpiry, type Reservation, type SessionLedger } from '../sessions/ledger.ts'
import { ATTACH_PROTOCOLS as CLIENT_PROTOCOLS } from '../attach/protocols.ts'

export type { Caller } from '../audit/records.ts'

/** What the attach links offer (the attach feature's one list). */
export const ATTACH_PROTOCOLS: string[] = [...CLIENT_PROTOCOLS]
/** Stands in for the signature in dry runs (never verifies). */
export const DRY_RUN_SIGNATURE = 'dry-run'
/** How long an Idempotency-Key is honoured. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 3600 * 1000
/** Looks (about 2.5 s in all) for another replica's create with the same key before a 409. */
const KEY_PENDING_ATTEMPTS = 16

export interface DebugServiceOptions {
  client: DebugClient
  audit: AuditLog
  /** `authorizeAll(identity, attrs)`: throws 403 naming the first missing permission. */
  authorizer: { authorizeAll (who: Identity, attrs: readonly ResourceAttributes[]): Promise<void> }
  policy: CompiledPolicy
  finder: SessionFinder
  /** The per-user session limit: a place is reserved in the user's ledger before a create is sent. */
  ledger: SessionLedger
  /** Signs the attribution of what is created; verifies what is found (idempotency). */
  signer: MetadataSigner
  nodeDebugNamespace: string
  defaultTtlSeconds: number
  /** authorization.mode impersonate: cluster calls carry Impersonate-* headers of the effective user. */
  impersonate: boolean
  /** External base URL for attach links; relative links without it. */
  publicUrl?: string
  clock?: () => number
  rand?: () => number
  /** Waits between looks for a create in flight with the same Idempotency-Key (injectable for tests). */
  delay?: (ms: number) => Promise<void>
  /** Problems after the point of no return (outcome record not written, replace failed). */
  onError?: (err: unknown, context: string) => void
}

export interface CreateOptions {
  dryRun?: boolean
  idempotencyKey?: string
  /** Aborts a `wait` when the client goes away. */
  signal?: AbortSignal
}

export interface ServiceReply<T> {
  status: number
  body: T
  headers?: Record<string, string>
}

/** kubectl's spec checks as 400s naming the body field (`custom.env[0].name` → `/body/custom/env/0/name`). */
export function specProblem (err: { field: string, message: string }): ProblemError {
  const field = '/body/' + err.field.replace(/\[(\d+)\]/g, '.$1').split('.').filter(Boolean).join('/')
  return Problems.validation(`${field}: ${err.message}`, { errors: [{ field, message: err.message }] })
}

function withSpecErrors<T> (fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    if (isSpecError(err)) throw specProblem(err)
    throw err
  }
}

const NON_BODY_POLICY_FIELDS = new Set(['action', 'subject'])
const BODY_POLICY_FIELDS = new Set(['image', 'capabilities', 'privileged', 'profile', 'runAsUser', 'reason', 'ttlSeconds'])

/** A request field as `/body/x`; what the resulting pod has (effective privilege) by its spec field name. */
function policyField (field: string): string | undefined {
  if (NON_BODY_POLICY_FIELDS.has(field)) return undefined
  return BODY_POLICY_FIELDS.has(field) ? `/body/${field}` : field
}

/** The request body as hashed for idempotency: without `wait`. */
function omitWait<B extends SessionFields> (body: B): Omit<B, 'wait'> {
  const { wait: _wait, ...what } = body
  return what
}

function summary (body: SessionFields & { image?: string, capabilities?: { add?: string[], drop?: string[] }, privileged?: boolean, runAsUser?: number }, images: string[], dryRun: boolean): AuditRequestSummary {
  const s: AuditRequestSummary = { profile: body.profile ?? DEFAULT_PROFILE, dryRun }
  if (body.image !== undefined) s.image = body.image
  if (images.length > 1) s.images = images
  if (body.capabilities !== undefined) s.capabilities = body.capabilities
  if (body.privileged !== undefined) s.privileged = body.privileged
  if (body.runAsUser !== undefined) s.runAsUser = body.runAsUser
  if (body.reason !== undefined) s.reason = body.reason
  if (body.ticket !== undefined) s.ticket = body.ticket
  if (body.ttlSeconds !== undefined) s.ttlSeconds = body.ttlSeconds
  return s
}

export class DebugService {
  readonly #o: DebugServiceOptions
  readonly #clock: () => number
  readonly #rand: () => number
  readonly #delay: (ms: number) => Promise<void>
  /** Requests with the same Idempotency-Key run one after another on this replica (across replicas: see report). */
  readonly #keyQueues = new Map<string, Promise<unknown>>()

  readonly #deps: PlanDeps

  constructor (opts: DebugServiceOptions) {
    this.#o = opts
    this.#clock = opts.clock ?? Date.now
    this.#rand = opts.rand ?? Math.random
    this.#delay = opts.delay ?? (async (ms) => { await new Promise(resolve => setTimeout(resolve, ms)) })
    this.#deps = { client: opts.client, finder: opts.finder, clock: this.#clock, defaultTtlSeconds: opts.defaultTtlSeconds, nodeDebugNamespace: opts.nodeDebugNamespace, verify: opts.signer.verify, expiryCommandFor: (image) => opts.policy.expiryCommandFor(image) }
    if (opts.onError) this.#deps.onError = opts.onError
  }

  attachUrl (namespace: string, pod: string, container: string): string {
    const path = `/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/attach?container=${encodeURIComponent(container)}`
    return (this.#o.publicUrl?.replace(/\/+$/, '') ?? '') + path
  }

  callOptions (identity: Principal, signal?: AbortSignal): CallOptions {
    return callOptionsFor(identity, this.#o.impersonate, signal)
  }

  async createEphemeral (caller: Caller, params: { namespace: string, pod: string }, body: EphemeralRequest, opts: CreateOptions = {}): Promise<ServiceReply<CreateResponse>> {
    return await this.#run(caller, ephemeralPlan(this.#deps, params, body), opts)
  }

  async createCopy (caller: Caller, params: { namespace: string, pod: string }, body: CopyRequest, opts: CreateOptions = {}): Promise<ServiceReply<CreateResponse>> {
    return await this.#run(caller, copyPlan(this.#deps, params, body), opts)
  }

  async createNodePod (caller: Caller, params: { node: string }, body: NodeDebugRequest, opts: CreateOptions = {}): Promise<ServiceReply<CreateResponse>> {
    return await this.#run(caller, nodePlan(this.#deps, params, body), opts)
  }

  async #run<B extends SessionFields> (caller: Caller, plan: Plan<B>, opts: CreateOptions): Promise<ServiceReply<CreateResponse>> {
    const { identity } = caller
    const dryRun = opts.dryRun === true
    const body = plan.body
    const images = [(body as { image?: string }).image, ...Object.values((body as { setImage?: Record<string, string> }).setImage ?? {})].filter((x): x is string => typeof x === 'string')
    const scope: AuditScope = { audit: this.#o.audit, caller, action: plan.auditAction, target: plan.target, request: summary(body, images, dryRun) }

    withSpecErrors(plan.prevalidate)
    try {
      await this.#o.authorizer.authorizeAll(identity, plan.permissions)
    } catch (err) {
      if (isProblemError(err) && err.status === 403) await auditDenied(scope, { permission: err.extras.permission as string | undefined, detail: err.detail }, 403)
      throw err
    }
    const callOpts = this.callOptions(identity, opts.signal)

    const keyHash = opts.idempotencyKey === undefined || dryRun ? undefined : idempotencyKeyHash(identity.user, opts.idempotencyKey)
    if (keyHash === undefined) return await this.#create(plan, scope, callOpts, opts, undefined)
    // A retry sent while the first attempt is still running waits for it, then finds its result.
    const previous = this.#keyQueues.get(keyHash) ?? Promise.resolve()
    const mine = previous.catch(() => undefined).then(async () => await this.#create(plan, scope, callOpts, opts, keyHash))
    this.#keyQueues.set(keyHash, mine)
    try {
      return await mine
    } finally {
      if (this.#keyQueues.get(keyHash) === mine) this.#keyQueues.delete(keyHash)
    }
  }

  async #create<B extends SessionFields> (plan: Plan<B>, scope: AuditScope, callOpts: CallOptions, opts: CreateOptions, keyHash: string | undefined): Promise<ServiceReply<CreateResponse>> {
    const { identity } = scope.caller
    const dryRun = opts.dryRun === true
    const body = plan.body
    // `wait` changes how long the answer takes, not what is created: a retry may differ in it.
    // The hash identifies a retry: only keyed requests need it.
    const hash = keyHash === undefined ? undefined : requestHash(plan.action, plan.targetKey, omitWait(body))
    const subject = { user: identity.user, groups: identity.groups }
    // The rule that matches the subject and the place (namespace, node) gives the TTL and the
    // session limit; neither depends on the spec. So the expiry and the signature are in the
    // spec before policy judges it (one build of exactly what is sent), and the session's
    // place under the limit is reserved in the user's ledger (sessions/ledger.ts) while the
    // target is read, so the reservation is not one more round trip on the answer's path.
    // No matching rule: policy denies below, and nothing is reserved.
    const grant = this.#o.policy.sessionGrant(subject, { action: plan.action, namespace: plan.namespace, ...(plan.node !== undefined ? { node: plan.node } : {}), ttlSeconds: body.ttlSeconds, defaultTtlSeconds: this.#o.defaultTtlSeconds })
    const sessionId = newSessionId(this.#clock(), this.#rand)
    const expiry = new Date(this.#clock() + (grant?.ttlSeconds ?? 0) * 1000)
    // A TTL out of range: policy denies below; the spec just needs a valid time.
    const expiresAt = (Number.isNaN(expiry.getTime()) ? new Date(this.#clock()) : expiry).toISOString()
    const reserve = async (): Promise<Reservation> => await this.#o.ledger.reserve({
      user: identity.user,
      session: keyHash === undefined ? { id: sessionId, expiresAtMs: Date.parse(expiresAt) } : { id: sessionId, expiresAtMs: Date.parse(expiresAt), key: keyHash },
      limit: grant?.maxSessionsPerUser ?? 0,
      inCluster: async () => await this.#o.finder.userSessions(identity.user)
    })
    let reservation = dryRun || grant === undefined ? undefined : reserve()
    reservation?.catch(() => undefined) // a way out before it is awaited must not leave a rejection unhandled
    // Released on every way out except a create that was sent and not refused by the API server.
    let keep = false
    let built: Built
    let result: { created: Pod, requestRecord: { id: string }, kubernetesWarnings: string[] }
    try {
      await plan.read(callOpts)
      const earlier = keyHash === undefined ? undefined : await this.#earlierAttempt(plan, keyHash, hash as string)
      if (earlier !== undefined) return this.#replay(scope, earlier)

      const attribution: Attribution = { sessionId, requestedBy: identity.user, profile: body.profile ?? DEFAULT_PROFILE }
      if (identity.actor !== undefined) attribution.delegatedBy = identity.actor.user
      if (body.reason !== undefined && body.reason !== '') attribution.reason = body.reason
      if (body.ticket !== undefined && body.ticket !== '') attribution.ticket = body.ticket
      if (keyHash !== undefined && hash !== undefined) {
        attribution.idempotencyKey = keyHash
        attribution.requestHash = hash
      }
      // A dry run shows where the signature goes but carries none: its answer must not be a
      // valid signature someone could copy onto an object they create themselves.
      const sign = dryRun ? () => DRY_RUN_SIGNATURE : this.#o.signer.sign
      built = withSpecErrors(() => plan.build({ ...attribution, expiresAt }, this.#rand, sign))

      const decision = this.#o.policy.evaluate(subject, built.policy)
      if (!decision.allowed) {
        const field = policyField(decision.field)
        const extras: Record<string, unknown> = { errors: decision.violations.map(v => ({ field: policyField(v.field) ?? v.field, message: v.detail })) }
        if (decision.rule !== undefined) extras.rule = decision.rule
        if (field !== undefined) extras.field = field
        await auditDenied(scope, { rule: decision.rule, detail: decision.detail }, 403)
        throw Problems.policyDenied(decision.detail, extras)
      }
      // Both come from the same rule lookup; a difference would mean the spec carries an expiry,
      // or the reservation a limit, policy did not grant: refuse rather than send it.
      if (decision.ttlSeconds !== grant?.ttlSeconds || decision.maxSessionsPerUser !== grant.maxSessionsPerUser) throw Problems.internal('The session\'s policy grant could not be determined.')

      let count: { count: number, earliestExpiryMs: number | undefined } | undefined
      if (reservation === undefined) {
        // A dry run reserves nothing; it answers as the create would, from the cluster.
        const live = (await this.#o.finder.userSessions(identity.user)).filter(s => s.live)
        if (live.length >= decision.maxSessionsPerUser) count = { count: live.length, earliestExpiryMs: earliestExpiry(live) }
      } else {
        let r = await reservation
        // The same key sent to two replicas at once: the other one's create is in flight. Its
        // session appears in the target once made (replayed here); a release of its reservation
        // (it failed) lets this one reserve.
        for (let attempt = 0; r.kind === 'key-pending'; attempt++) {
          if (attempt >= KEY_PENDING_ATTEMPTS) throw Problems.conflict('A request with this Idempotency-Key is still being processed; retry shortly.', { retryAfter: 1 })
          await this.#delay(Math.min(200, 10 * 2 ** attempt))
          await plan.read(callOpts)
          const first = await this.#earlierAttempt(plan, keyHash as string, hash as string)
          if (first !== undefined) return this.#replay(scope, first)
          reservation = reserve()
          r = await reservation
        }
        if (r.kind === 'limit') count = r
        else if (this.#clock() > r.sendBy) throw Problems.unavailable('The API server was too slow to answer; retry shortly.', { retryAfter: 1 })
      }
      if (count !== undefined) {
        const now = this.#clock()
        const retryAfter = count.earliestExpiryMs === undefined ? 60 : Math.min(3600, Math.max(1, Math.ceil((count.earliestExpiryMs - now) / 1000)))
        const detail = `User "${identity.user}" has ${count.count} live debug sessions; rule "${decision.rule}" allows ${decision.maxSessionsPerUser}. End or delete one, or wait for one to expire.`
        await auditDenied(scope, { rule: decision.rule, detail }, 429)
        throw Problems.tooManyRequests(detail, { retryAfter, rule: decision.rule })
      }

      scope.target = { ...plan.target, pod: built.podName, session: sessionId, ...(built.containerName ? { container: built.containerName } : {}) }
      scope.request = { ...scope.request, ttlSeconds: decision.ttlSeconds }
      const requestRecord = await auditRequest(scope, { rule: decision.rule })
      // Admission warnings (PodSecurity `warn`, deprecations) reach the caller like kubectl prints them.
      const kubernetesWarnings: string[] = []
      try {
        keep = true
        const created = await plan.send(built, dryRun, { ...callOpts, onWarning: (text) => kubernetesWarnings.push(text) })
        result = { created, requestRecord, kubernetesWarnings }
      } catch (err) {
        const problem = isProblemError(err) ? err : Problems.internal(undefined, {}, { cause: err })
        // A 4xx is the API server refusing: nothing was made. Anything else (a timeout, a 5xx)
        // may have been made: the reservation stays, counted until a rebuild finds out.
        keep = !(problem.status >= 400 && problem.status < 500)
        await auditOutcome(scope, requestRecord.id, { status: problem.status, kubernetesReason: problem.extras.kubernetesReason, error: problem.detail })
          .catch(e => this.#o.onError?.(e, 'audit outcome'))
        throw problem
      }
    } finally {
      if (!keep) reservation?.then(async (r) => { if (r.kind === 'reserved') await r.release() }, () => undefined)
    }
    const { created, requestRecord, kubernetesWarnings } = result
    const warnings = [
      ...built.warnings,
      ...kubernetesWarnings.map(message => ({ code: 'KUBERNETES_WARNING', message })),
      ...(dryRun || plan.after === undefined ? [] : await plan.after(built, created, callOpts))
    ]
    await auditOutcome(scope, requestRecord.id, { status: dryRun ? 200 : 201, dryRun: dryRun || undefined })
      .catch(e => this.#o.onError?.(e, 'audit outcome'))

    const session = this.#sessionOf(plan, created, sessionId, built, body, identity.user)
    if (dryRun) {
      session.state = 'pending'
      delete session.status
      const out: CreateResponse = { session, warnings, dryRun: true, serverDryRun: created as unknown as Record<string, unknown> }
      if (built.containerName !== undefined) out.attach = { url: this.attachUrl(session.namespace, session.pod, built.containerName), protocols: ATTACH_PROTOCOLS }
      if (plan.action === 'ephemeral') {
        out.ephemeralContainer = built.container as Record<string, unknown>
        out.patch = built.patch as unknown as Record<string, unknown>
      } else {
        out.pod = built.pod as unknown as Record<string, unknown>
      }
      return { status: 200, body: out }
    }

    let status = 201
    let latest = created
    if ((body.wait ?? 0) > 0 && built.containerName !== undefined) {
      const waited = await waitForContainer(this.#o.client, { namespace: session.namespace, pod: built.podName, container: built.containerName, from: created, seconds: body.wait as number, callOpts, ...(opts.signal ? { signal: opts.signal } : {}) })
      latest = waited.pod
      if (!waited.settled) status = 202
    }
    const final = this.#sessionOf(plan, latest, sessionId, built, body, identity.user)
    const out: CreateResponse = { session: final, warnings }
    if (built.containerName !== undefined) out.attach = { url: this.attachUrl(final.namespace, final.pod, built.containerName), protocols: ATTACH_PROTOCOLS }
    if (plan.action === 'ephemeral') out.ephemeralContainer = built.container as Record<string, unknown>
    return { status, body: out }
  }

  /** A verified session this key already created within the idempotency window; 422 when it was for another request. */
  async #earlierAttempt<B extends SessionFields> (plan: Plan<B>, keyHash: string, hash: string): Promise<FoundSession | undefined> {
    const found = await plan.existing(keyHash)
    if (found === undefined) return undefined
    const createdAt = Date.parse(found.session.createdAt ?? sessionCreatedAt(found.session.id)?.toISOString() ?? '')
    if (Number.isFinite(createdAt) && this.#clock() - createdAt > IDEMPOTENCY_WINDOW_MS) return undefined
    if (found.requestHash !== hash) {
      throw Problems.idempotencyMismatch(`Idempotency-Key was first used for a different request (session ${found.session.id}).`, { session: found.session.id })
    }
    return found
  }

  #sessionOf (plan: Plan<SessionFields>, pod: Pod, sessionId: string, built: Built, body: SessionFields, requestedBy: string): Session {
    const found = plan.sessionIn(pod, sessionId)?.session
    const session: Session = found ?? {
      id: sessionId,
      kind: plan.action,
      namespace: pod.metadata.namespace ?? plan.namespace,
      pod: built.podName,
      state: 'pending',
      requestedBy,
      verified: true
    }
    if (session.createdAt === undefined) session.createdAt = sessionCreatedAt(sessionId)?.toISOString()
    if (session.container === undefined && built.containerName !== undefined) session.container = built.containerName
    if (session.image === undefined && built.container?.image !== undefined) session.image = built.container.image
    session.profile = body.profile ?? DEFAULT_PROFILE
    if (session.createdAt === undefined) delete session.createdAt
    return session
  }

  #replay (scope: AuditScope, found: FoundSession): ServiceReply<CreateResponse> {
    const s = found.session
    scope.target = { ...scope.target, pod: s.pod, session: s.id, ...(s.container ? { container: s.container } : {}) }
    this.#o.audit.append({
      requestId: scope.caller.requestId,
      action: scope.action,
      phase: 'event',
      actor: auditActor(scope.caller.identity),
      target: scope.target,
      outcome: { status: 201, idempotentReplay: true }
    }).catch(e => this.#o.onError?.(e, 'audit replay'))
    const out: CreateResponse = { session: s, warnings: [], idempotentReplay: true }
    if (s.container !== undefined) out.attach = { url: this.attachUrl(s.namespace, s.pod, s.container), protocols: ATTACH_PROTOCOLS }
    return { status: 201, body: out, headers: { 'idempotent-replayed': 'true' } }
  }
}
