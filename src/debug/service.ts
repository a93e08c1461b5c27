// The three debug actions (ephemeral container, pod copy, node debug pod) in
// the order of work issue 4 fixes: validate → (authenticated by the auth
// plugin) → authorize every permission → read the target → build the spec →
// policy → concurrency limit → audit "request" (durable) → Kubernetes call →
// audit "outcome" → optional wait → response. Pod-independent validation runs
// before authorization; checks that need the target pod (e.g. `container`
// naming one of its containers) run after it is read, still before anything
// is written or audited as a request.
import type { Identity, Principal, ResourceAttributes } from '../auth/identity.ts'
import { permissionsFor } from '../auth/permissions.ts'
import type { CompiledPolicy, PolicyAction, PolicyRequest } from '../auth/policy.ts'
import type { AuditRequestSummary, AuditTarget, AuditLog } from '../audit/types.ts'
import { Problems, isProblemError, type ProblemError } from '../errors.ts'
import type { DebugClient, CallOptions } from '../kube/debug-client.ts'
import {
  buildEphemeralContainer, buildNodeDebugPod, buildPodCopy, checkCommon, DEFAULT_PROFILE, isSpecError,
  type Attribution, type Container, type EphemeralPatch, type Pod, type SpecWarning
} from '../kube/spec/index.ts'
import type { CopyRequest, CreateResponse, EphemeralRequest, NodeDebugRequest, Session } from '../schemas/debug.ts'
import { auditDenied, auditOutcome, auditRequest, type AuditScope, type Caller } from './audit.ts'
import type { SessionFinder } from './finder.ts'
import { idempotencyKeyHash, newSessionId, requestHash, sessionCreatedAt } from './ids.ts'
import { policyInput } from './policy-input.ts'
import { ephemeralSessions, podSession, type FoundSession } from './sessions.ts'
import { containerView, isSettled } from './state.ts'

export type { Caller } from './audit.ts'

export const ATTACH_PROTOCOLS = ['kdebug.v1', 'v5.channel.k8s.io', 'v4.channel.k8s.io']
/** How long an Idempotency-Key is honoured. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 3600 * 1000

export interface DebugServiceOptions {
  client: DebugClient
  audit: AuditLog
  /** `authorizeAll(identity, attrs)`: throws 403 naming the first missing permission. */
  authorizer: { authorizeAll (who: Identity, attrs: readonly ResourceAttributes[]): Promise<void> }
  policy: CompiledPolicy
  finder: SessionFinder
  nodeDebugNamespace: string
  defaultTtlSeconds: number
  /** authorization.mode impersonate: cluster calls carry Impersonate-* headers of the effective user. */
  impersonate: boolean
  /** External base URL for attach links; relative links without it. */
  publicUrl?: string
  clock?: () => number
  rand?: () => number
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

/** Request body fields that are ours, not the spec builders'. */
interface SessionFields { reason?: string, ticket?: string, ttlSeconds?: number, wait?: number, profile?: string }

interface Built {
  /** The debug container, if any (a setImage-only copy has none). */
  container?: Container
  containerName?: string
  /** Pod the session lives in: the target (ephemeral) or the one to create. */
  podName: string
  pod?: Pod
  patch?: EphemeralPatch
  warnings: SpecWarning[]
  policy: PolicyRequest
}

interface Plan<B extends SessionFields> {
  action: PolicyAction & ('ephemeral' | 'copy' | 'node')
  auditAction: string
  namespace: string
  target: AuditTarget
  permissions: ResourceAttributes[]
  body: B
  /** Identifies the target in the request hash. */
  targetKey: string
  prevalidate: () => void
  /** Reads what the spec needs (after authorization). */
  read: (opts: CallOptions) => Promise<void>
  existing: (keyHash: string) => Promise<FoundSession | undefined>
  build: (attribution: Attribution, rand: () => number) => Built
  /** The mutation, or its server-side dry run. */
  send: (built: Built, dryRun: boolean, opts: CallOptions) => Promise<Pod>
  /** The session as found in the pod the API server returned. */
  sessionIn: (pod: Pod, sessionId: string) => FoundSession | undefined
  /** After a successful create (copy replace). */
  after?: (built: Built, created: Pod, opts: CallOptions) => Promise<SpecWarning[]>
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
const POLICY_FIELD_TO_BODY: Record<string, string> = { hostNamespaces: 'profile', hostPathMounts: 'profile' }

function policyField (field: string): string | undefined {
  if (NON_BODY_POLICY_FIELDS.has(field)) return undefined
  return `/body/${POLICY_FIELD_TO_BODY[field] ?? field}`
}

/** The builders' options: the body without the session fields. */
function specOptions<B extends SessionFields> (body: B): Omit<B, 'reason' | 'ticket' | 'ttlSeconds' | 'wait'> {
  const { reason: _r, ticket: _t, ttlSeconds: _ttl, wait: _w, ...rest } = body
  return rest
}

/** Records the random numbers of the first build so the final build generates the same names. */
function replayableRandom (source: () => number): { record: () => number, replay: () => () => number } {
  const seen: number[] = []
  return {
    record: () => { const v = source(); seen.push(v); return v },
    replay: () => { let i = 0; return () => (i < seen.length ? seen[i++] as number : source()) }
  }
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

  constructor (opts: DebugServiceOptions) {
    this.#o = opts
    this.#clock = opts.clock ?? Date.now
    this.#rand = opts.rand ?? Math.random
  }

  attachUrl (namespace: string, pod: string, container: string): string {
    const path = `/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/attach?container=${encodeURIComponent(container)}`
    return (this.#o.publicUrl?.replace(/\/+$/, '') ?? '') + path
  }

  callOptions (identity: Principal, signal?: AbortSignal): CallOptions {
    const o: CallOptions = {}
    if (this.#o.impersonate) o.as = identity
    if (signal) o.signal = signal
    return o
  }

  async createEphemeral (caller: Caller, params: { namespace: string, pod: string }, body: EphemeralRequest, opts: CreateOptions = {}): Promise<ServiceReply<CreateResponse>> {
    const { namespace, pod: podName } = params
    let target: Pod | undefined
    const placeholder: Pod = { metadata: { name: podName, namespace }, spec: { containers: [] } }
    const plan: Plan<EphemeralRequest> = {
      action: 'ephemeral',
      auditAction: 'ephemeral.create',
      namespace,
      target: { namespace, pod: podName },
      permissions: permissionsFor('ephemeral', { namespace, pod: podName }),
      body,
      targetKey: `${namespace}/${podName}`,
      prevalidate: () => { buildEphemeralContainer(placeholder, specOptions(body)) },
      read: async (o) => { target = await this.#o.client.getPod(namespace, podName, o) },
      // The key is looked up on the target pod only: one GET we make anyway.
      existing: async (keyHash) => ephemeralSessions(target as Pod, this.#clock()).find(s => s.idempotencyKey === keyHash),
      build: (attribution, rand) => {
        const pod = target as Pod
        const r = buildEphemeralContainer(pod, specOptions(body), { attribution, rand })
        return {
          container: r.container,
          containerName: r.container.name,
          podName,
          patch: r.patch,
          warnings: r.warnings,
          policy: policyInput({ action: 'ephemeral', namespace, container: r.container, original: pod, profile: body.profile ?? DEFAULT_PROFILE, ttlSeconds: body.ttlSeconds, defaultTtlSeconds: this.#o.defaultTtlSeconds, reason: body.reason })
        }
      },
      send: async (built, dryRun, o) => await this.#o.client.addEphemeralContainer(namespace, podName, built.patch as EphemeralPatch, { ...o, dryRun }),
      sessionIn: (pod, id) => ephemeralSessions(pod, this.#clock()).find(s => s.session.id === id)
    }
    return await this.#run(caller, plan, opts)
  }

  async createCopy (caller: Caller, params: { namespace: string, pod: string }, body: CopyRequest, opts: CreateOptions = {}): Promise<ServiceReply<CreateResponse>> {
    const { namespace, pod: podName } = params
    let original: Pod | undefined
    const permissions = permissionsFor('copy', { namespace, pod: podName })
    if (body.replace === true) permissions.push({ verb: 'delete', resource: 'pods', namespace, name: podName })
    const plan: Plan<CopyRequest> = {
      action: 'copy',
      auditAction: 'copy.create',
      namespace,
      target: { namespace, pod: podName },
      permissions,
      body,
      targetKey: `${namespace}/${podName}`,
      prevalidate: () => {
        checkCommon(specOptions(body))
        if ((body as { target?: unknown }).target !== undefined) throw Problems.validation('/body/target: target is incompatible with copies. Use shareProcesses instead.')
      },
      read: async (o) => { original = await this.#o.client.getPod(namespace, podName, o) },
      existing: async (keyHash) => (await this.#o.finder.podSessions()).find(s => s.idempotencyKey === keyHash),
      build: (attribution, rand) => {
        const pod = original as Pod
        const r = buildPodCopy(pod, specOptions(body), { attribution, rand })
        const container = r.container === undefined ? undefined : r.pod.spec.containers.find(c => c.name === r.container)
        const built: Built = {
          podName: r.pod.metadata.name ?? '',
          pod: r.pod,
          warnings: r.warnings,
          policy: policyInput({ action: 'copy', namespace, container, pod: r.pod, original: pod, extraImages: Object.values(body.setImage ?? {}), profile: body.profile ?? DEFAULT_PROFILE, ttlSeconds: body.ttlSeconds, defaultTtlSeconds: this.#o.defaultTtlSeconds, reason: body.reason })
        }
        if (container !== undefined) {
          built.container = container
          built.containerName = container.name
        }
        return built
      },
      send: async (built, dryRun, o) => await this.#o.client.createPod(namespace, built.pod as Pod, { ...o, dryRun }),
      sessionIn: (pod) => podSession(pod, this.#clock()),
      after: async (_built, _created, o) => {
        if (body.replace !== true) return []
        // kubectl --replace: delete the original at once; the copy already exists, so a failure is a warning.
        try {
          const uid = (original?.metadata as { uid?: string } | undefined)?.uid
          await this.#o.client.deletePod(namespace, podName, { ...o, gracePeriodSeconds: 0, ...(uid ? { preconditions: { uid } } : {}) })
          return []
        } catch (err) {
          this.#o.onError?.(err, 'copy replace')
          return [{ code: 'REPLACE_FAILED', message: `The copy was created but the original pod could not be deleted: ${isProblemError(err) ? err.detail : 'unknown error'}` }]
        }
      }
    }
    return await this.#run(caller, plan, opts)
  }

  async createNodePod (caller: Caller, params: { node: string }, body: NodeDebugRequest, opts: CreateOptions = {}): Promise<ServiceReply<CreateResponse>> {
    const { node } = params
    const namespace = body.namespace ?? this.#o.nodeDebugNamespace
    let nodeObj: Awaited<ReturnType<DebugClient['getNode']>> | undefined
    const plan: Plan<NodeDebugRequest> = {
      action: 'node',
      auditAction: 'node.create',
      namespace,
      target: { namespace, node },
      permissions: permissionsFor('node', { node, namespace }),
      body,
      targetKey: `node/${node}/${namespace}`,
      prevalidate: () => { buildNodeDebugPod(node, { ...specOptions(body), namespace }) },
      read: async (o) => { nodeObj = await this.#o.client.getNode(node, o) },
      existing: async (keyHash) => (await this.#o.finder.podSessions()).find(s => s.idempotencyKey === keyHash),
      build: (attribution, rand) => {
        const r = buildNodeDebugPod(nodeObj ?? node, { ...specOptions(body), namespace }, { attribution, rand })
        const container = r.pod.spec.containers.find(c => c.name === r.container)
        return {
          container,
          containerName: r.container,
          podName: r.pod.metadata.name ?? '',
          pod: r.pod,
          warnings: r.warnings,
          policy: policyInput({ action: 'node', namespace, node, container, pod: r.pod, profile: body.profile ?? DEFAULT_PROFILE, ttlSeconds: body.ttlSeconds, defaultTtlSeconds: this.#o.defaultTtlSeconds, reason: body.reason })
        }
      },
      send: async (built, dryRun, o) => await this.#o.client.createPod(namespace, built.pod as Pod, { ...o, dryRun }),
      sessionIn: (pod) => podSession(pod, this.#clock())
    }
    return await this.#run(caller, plan, opts)
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
    await plan.read(callOpts)

    const keyHash = opts.idempotencyKey === undefined || dryRun ? undefined : idempotencyKeyHash(identity.user, opts.idempotencyKey)
    const hash = requestHash(plan.action, plan.targetKey, body)
    if (keyHash !== undefined) {
      const found = await plan.existing(keyHash)
      const createdAt = found === undefined ? undefined : Date.parse(found.session.createdAt ?? sessionCreatedAt(found.session.id)?.toISOString() ?? '')
      if (found !== undefined && !(Number.isFinite(createdAt) && this.#clock() - (createdAt as number) > IDEMPOTENCY_WINDOW_MS)) {
        if (found.requestHash !== hash) {
          throw Problems.idempotencyMismatch(`Idempotency-Key was first used for a different request (session ${found.session.id}).`, { session: found.session.id })
        }
        return this.#replay(scope, found)
      }
    }

    const sessionId = newSessionId(this.#clock(), this.#rand)
    const attribution: Attribution = { sessionId, requestedBy: identity.user }
    if (body.reason !== undefined && body.reason !== '') attribution.reason = body.reason
    if (body.ticket !== undefined && body.ticket !== '') attribution.ticket = body.ticket
    if (keyHash !== undefined) {
      attribution.idempotencyKey = keyHash
      attribution.requestHash = hash
    }
    const rand = replayableRandom(this.#rand)
    const draft = withSpecErrors(() => plan.build({ ...attribution, expiresAt: new Date(this.#clock()).toISOString() }, rand.record))

    const decision = this.#o.policy.evaluate({ user: identity.user, groups: identity.groups }, draft.policy)
    if (!decision.allowed) {
      const field = policyField(decision.field)
      const extras: Record<string, unknown> = { errors: decision.violations.map(v => ({ field: policyField(v.field) ?? v.field, message: v.detail })) }
      if (decision.rule !== undefined) extras.rule = decision.rule
      if (field !== undefined) extras.field = field
      await auditDenied(scope, { rule: decision.rule, detail: decision.detail }, 403)
      throw Problems.policyDenied(decision.detail, extras)
    }

    const live = await this.#o.finder.liveCount(identity.user)
    if (live.count >= decision.maxSessionsPerUser) {
      const now = this.#clock()
      const retryAfter = live.earliestExpiryMs === undefined ? 60 : Math.min(3600, Math.max(1, Math.ceil((live.earliestExpiryMs - now) / 1000)))
      const detail = `User "${identity.user}" has ${live.count} live debug sessions; rule "${decision.rule}" allows ${decision.maxSessionsPerUser}. End or delete one, or wait for one to expire.`
      await auditDenied(scope, { rule: decision.rule, detail }, 429)
      throw Problems.tooManyRequests(detail, { retryAfter, rule: decision.rule })
    }

    const expiresAt = new Date(this.#clock() + decision.ttlSeconds * 1000).toISOString()
    const built = withSpecErrors(() => plan.build({ ...attribution, expiresAt }, rand.replay()))
    scope.target = { ...plan.target, pod: built.podName, session: sessionId, ...(built.containerName ? { container: built.containerName } : {}) }
    scope.request = { ...scope.request, ttlSeconds: decision.ttlSeconds }

    const requestRecord = await auditRequest(scope, { rule: decision.rule })
    let created: Pod
    try {
      created = await plan.send(built, dryRun, callOpts)
    } catch (err) {
      const problem = isProblemError(err) ? err : Problems.internal(undefined, {}, { cause: err })
      await auditOutcome(scope, requestRecord.id, { status: problem.status, kubernetesReason: problem.extras.kubernetesReason, error: problem.detail })
        .catch(e => this.#o.onError?.(e, 'audit outcome'))
      throw problem
    }
    const warnings = [...built.warnings, ...(dryRun || plan.after === undefined ? [] : await plan.after(built, created, callOpts))]
    await auditOutcome(scope, requestRecord.id, { status: dryRun ? 200 : 201, dryRun: dryRun || undefined })
      .catch(e => this.#o.onError?.(e, 'audit outcome'))

    const session = this.#sessionOf(plan, created, sessionId, built, body)
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

    const found = plan.sessionIn(created, sessionId)
    if (found !== undefined) this.#o.finder.noteCreated(found)
    let status = 201
    let latest = created
    if ((body.wait ?? 0) > 0 && built.containerName !== undefined) {
      const waited = await this.#wait(session.namespace, built.podName, built.containerName, created, body.wait as number, callOpts, opts.signal)
      latest = waited.pod
      if (!waited.settled) status = 202
    }
    const final = this.#sessionOf(plan, latest, sessionId, built, body)
    const out: CreateResponse = { session: final, warnings }
    if (built.containerName !== undefined) out.attach = { url: this.attachUrl(final.namespace, final.pod, built.containerName), protocols: ATTACH_PROTOCOLS }
    if (plan.action === 'ephemeral') out.ephemeralContainer = built.container as Record<string, unknown>
    return { status, body: out }
  }

  #sessionOf (plan: Plan<SessionFields>, pod: Pod, sessionId: string, built: Built, body: SessionFields): Session {
    const found = plan.sessionIn(pod, sessionId)?.session
    const session: Session = found ?? {
      id: sessionId,
      kind: plan.action,
      namespace: pod.metadata.namespace ?? plan.namespace,
      pod: built.podName,
      state: 'pending',
      requestedBy: ''
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
    void this.#o.audit.append({
      requestId: scope.caller.requestId,
      action: scope.action,
      phase: 'event',
      actor: { user: scope.caller.identity.user, groups: scope.caller.identity.groups },
      target: scope.target,
      outcome: { status: 201, idempotentReplay: true }
    }).catch(e => this.#o.onError?.(e, 'audit replay'))
    const out: CreateResponse = { session: s, warnings: [], idempotentReplay: true }
    if (s.container !== undefined) out.attach = { url: this.attachUrl(s.namespace, s.pod, s.container), protocols: ATTACH_PROTOCOLS }
    return { status: 201, body: out, headers: { 'idempotent-replayed': 'true' } }
  }

  /** kubectl's waitForContainer on a watch: until running, terminated or failed to pull; false on timeout. */
  async #wait (namespace: string, pod: string, container: string, created: Pod, seconds: number, callOpts: CallOptions, signal?: AbortSignal): Promise<{ pod: Pod, settled: boolean }> {
    let latest = created
    if (isSettled(containerView(latest, container))) return { pod: latest, settled: true }
    const ac = new AbortController()
    const timer = setTimeout(() => ac.abort(), seconds * 1000)
    const onAbort = (): void => ac.abort()
    signal?.addEventListener('abort', onAbort, { once: true })
    let settled = false
    try {
      const rv = (created.metadata as { resourceVersion?: string }).resourceVersion ?? '0'
      await this.#o.client.watchPod(namespace, pod, { resourceVersion: rv, timeoutSeconds: seconds, signal: ac.signal }, (event) => {
        if (event.type === 'BOOKMARK') return false
        latest = event.object
        if (event.type === 'DELETED') return true
        settled = isSettled(containerView(latest, container))
        return settled
      }, { ...callOpts, signal: ac.signal })
    } catch {
      // A broken watch is not the create failing: report the state as it is now.
      latest = await this.#o.client.getPod(namespace, pod, callOpts).catch(() => latest)
      settled = isSettled(containerView(latest, container))
    } finally {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
    }
    return { pod: latest, settled }
  }
}
