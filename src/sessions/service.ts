// Reading and ending debug sessions, found from the cluster (see finder.ts),
// shown only where the caller may `list pods` — decided before any pod is read,
// so a caller without rights costs SubjectAccessReviews, never a pod LIST. Ephemeral containers cannot be
// removed (Kubernetes forbids it), so deleting one is a 409 that says how to
// end it instead.
import type { Identity, ResourceAttributes } from '../auth/identity.ts'
import { permissionsFor } from '../auth/permissions.ts'
import type { AuditLog } from '../audit/types.ts'
import { Problems, isProblemError } from '../errors.ts'
import type { CallOptions, DebugClient } from '../kube/debug-client.ts'
import { readEnvAttribution, readEnvSignature, signedEphemeralFields } from './attribution.ts'
import type { EphemeralContainerItem, EphemeralList, Session } from '../schemas/debug.ts'
import { latestRecording } from './recordings.ts'
import { auditDenied, auditOutcome, auditRequest, type AuditScope, type Caller } from '../audit/records.ts'
import type { Scope, SessionFinder } from './finder.ts'
import type { SessionLedger } from './ledger.ts'
import { isExpired, type FoundSession, type VerifyFn } from './found.ts'
import { containerView } from './state.ts'

export interface SessionServiceOptions {
  client: DebugClient
  audit: AuditLog
  authorizer: {
    authorize (who: Identity, attrs: ResourceAttributes): Promise<{ allowed: boolean }>
    authorizeAll (who: Identity, attrs: readonly ResourceAttributes[]): Promise<void>
  }
  finder: SessionFinder
  verify: VerifyFn
  callOptions: (identity: Identity) => CallOptions
  /** The app's one compiled policy (src/policy/policy.ts): a recording is judged like attaching to its session. */
  policy?: RecordingPolicy
  /** Where attach recordings are (attach.recording.dir); undefined when recording is off. */
  recordingsDir?: string
  /** The users' session ledgers: a deleted session is forgotten at once (not at its expiry or the next rebuild). */
  ledger?: Pick<SessionLedger, 'forget'>
  clock?: () => number
  onError?: (err: unknown, context: string) => void
}

const EPHEMERAL_NOT_REMOVABLE = 'Kubernetes does not allow removing an ephemeral container from a pod (existing ephemeral containers may not be removed or changed). ' +
  'End the session by exiting its process (attach and type `exit`, or send EOF); the container then stays Terminated until the pod is deleted.'

/** SubjectAccessReviews asked at once when finding the caller's namespaces. */
const SAR_BATCH = 16

function isEmpty (scope: Scope): boolean {
  return !scope.clusterWide && scope.namespaces.length === 0
}

/**
 * As much of the compiled policy as judging a recording needs, structurally (policy/ imports
 * sessions/ for attribution, so sessions/ must not import policy/).
 */
export interface RecordingPolicy {
  evaluate: (subject: { user: string, groups: string[] }, request: { action: 'attach', namespace: string, sessionOwner: string }) =>
    | { allowed: true }
    | { allowed: false, rule?: string, field: string, detail: string, violations: ReadonlyArray<{ field: string, detail: string }> }
}

export class SessionService {
  readonly #o: SessionServiceOptions
  readonly #clock: () => number

  constructor (opts: SessionServiceOptions) {
    this.#o = opts
    this.#clock = opts.clock ?? Date.now
  }

  async #mayList (identity: Identity, namespace: string | undefined): Promise<boolean> {
    return (await this.#o.authorizer.authorize(identity, { verb: 'list', resource: 'pods', ...(namespace === undefined ? {} : { namespace }) })).allowed
  }

  /**
   * Where the caller may see sessions, decided before any pod is read: one namespace when
   * asked for (and allowed), the cluster for callers who may list pods cluster-wide, else the
   * namespaces where a SubjectAccessReview allows `list pods` (asked in batches; cached by the
   * authorizer). An authorizer failure rejects (503): never a guess.
   */
  async #scope (identity: Identity, namespace: string | undefined): Promise<Scope> {
    if (namespace !== undefined) return { clusterWide: false, namespaces: (await this.#mayList(identity, namespace)) ? [namespace] : [] }
    if (await this.#mayList(identity, undefined)) return { clusterWide: true }
    const all = this.#o.client.listNamespaces === undefined ? [] : await this.#o.client.listNamespaces()
    const allowed: string[] = []
    for (let i = 0; i < all.length; i += SAR_BATCH) {
      const batch = all.slice(i, i + SAR_BATCH)
      const answers = await Promise.all(batch.map(async ns => await this.#mayList(identity, ns)))
      batch.forEach((ns, j) => { if (answers[j] === true) allowed.push(ns) })
    }
    return { clusterWide: false, namespaces: allowed }
  }

  async list (caller: Caller, query: { namespace?: string, mine?: boolean }): Promise<Session[]> {
    const { identity } = caller
    const scope = await this.#scope(identity, query.namespace)
    const found = isEmpty(scope) ? [] : await this.#o.finder.all(scope)
    return found
      .map(f => f.session)
      .filter(s => query.mine !== true || (s.verified && s.requestedBy === identity.user))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  }

  async #find (identity: Identity, id: string, namespace?: string): Promise<FoundSession> {
    const scope = await this.#scope(identity, namespace)
    // Invisible and missing look the same: no probing for other teams' sessions.
    const found = isEmpty(scope) ? undefined : await this.#o.finder.byId(id, scope)
    if (found === undefined) throw Problems.notFound(`No debug session "${id}".`)
    return found
  }

  async get (caller: Caller, id: string, query: { namespace?: string } = {}): Promise<Session> {
    return (await this.#find(caller.identity, id, query.namespace)).session
  }

  /**
   * The newest attach recording of a session on this replica (asciicast v2 file path). The session
   * is found as GET /sessions/{id} finds it (RBAC first), then judged like attaching to it:
   * its requester, or a rule with attachOthers. 404 when this replica has none.
   */
  async recording (caller: Caller, id: string, query: { namespace?: string } = {}): Promise<{ session: Session, file: string }> {
    const session = await this.get(caller, id, query)
    const policy = this.#o.policy
    if (policy === undefined) throw Problems.notFound(`Session ${id} has no recording on this replica.`)
    const decision = policy.evaluate({ user: caller.identity.user, groups: caller.identity.groups }, {
      action: 'attach',
      namespace: session.namespace,
      // An unverified session has no requester: only attachOthers may read it.
      sessionOwner: session.requestedBy
    })
    if (!decision.allowed) {
      const extras: Record<string, unknown> = { field: decision.field, errors: decision.violations.map(v => ({ field: v.field, message: v.detail })) }
      if (decision.rule !== undefined) extras.rule = decision.rule
      throw Problems.policyDenied(decision.detail, extras)
    }
    const file = this.#o.recordingsDir === undefined ? undefined : await latestRecording(this.#o.recordingsDir, session.id)
    if (file === undefined) throw Problems.notFound(`Session ${id} has no recording on this replica (recordings stay on the replica that relayed the attach).`)
    return { session, file }
  }

  async delete (caller: Caller, id: string, query: { namespace?: string } = {}): Promise<Session> {
    const { identity } = caller
    let found: FoundSession
    try {
      found = await this.#find(identity, id, query.namespace)
    } catch (err) {
      if (isProblemError(err) && err.status === 404) await auditDenied({ audit: this.#o.audit, caller, action: 'session.delete', target: { session: id } }, { detail: err.detail }, 404)
      throw err
    }
    const s = found.session
    const scope: AuditScope = { audit: this.#o.audit, caller, action: 'session.delete', target: { namespace: s.namespace, pod: s.pod, session: s.id, ...(s.container ? { container: s.container } : {}) } }
    if (s.kind === 'ephemeral') {
      const conflict = Problems.conflict(EPHEMERAL_NOT_REMOVABLE, { session: s.id, kind: s.kind })
      await auditDenied(scope, { detail: conflict.detail }, 409)
      throw conflict
    }
    try {
      await this.#o.authorizer.authorizeAll(identity, permissionsFor('sessions.delete', { namespace: s.namespace, pod: s.pod }))
    } catch (err) {
      if (isProblemError(err) && err.status === 403) await auditDenied(scope, { permission: err.extras.permission as string | undefined, detail: err.detail }, 403)
      throw err
    }
    const record = await auditRequest(scope, {})
    try {
      // uid only: the pod's resourceVersion changes with every status update.
      await this.#o.client.deletePod(s.namespace, s.pod, { ...this.#o.callOptions(identity), ...(found.podUid ? { preconditions: { uid: found.podUid } } : {}) })
    } catch (err) {
      const problem = isProblemError(err) ? err : Problems.internal(undefined, {}, { cause: err })
      await auditOutcome(scope, record.id, { status: problem.status, kubernetesReason: problem.extras.kubernetesReason, error: problem.detail }).catch(e => this.#o.onError?.(e, 'audit outcome'))
      throw problem
    }
    await auditOutcome(scope, record.id, { status: 200 }).catch(e => this.#o.onError?.(e, 'audit outcome'))
    // Off the answer's path; it never rejects.
    if (s.requestedBy !== '') this.#o.ledger?.forget(s.requestedBy, s.id).catch(() => undefined)
    return { ...s, state: 'deleting' }
  }

  /** GET …/ephemeral-containers: every ephemeral container of the pod, with who/why for ours. */
  async ephemeralContainers (caller: Caller, namespace: string, podName: string): Promise<EphemeralList> {
    const { identity } = caller
    await this.#o.authorizer.authorizeAll(identity, [{ verb: 'get', resource: 'pods', namespace, name: podName }])
    const pod = await this.#o.client.getPod(namespace, podName, this.#o.callOptions(identity))
    const now = this.#clock()
    const items = (pod.spec.ephemeralContainers ?? []).map(c => {
      const view = containerView(pod, c.name)
      const item: EphemeralContainerItem = { name: c.name, state: view.state }
      if (c.image) item.image = c.image
      if (c.targetContainerName) item.targetContainerName = c.targetContainerName
      if (view.status) item.status = view.status
      const a = readEnvAttribution(c)
      if (a !== undefined) {
        const verified = this.#o.verify(signedEphemeralFields({ namespace, pod: podName }, c, a), readEnvSignature(c))
        item.session = a.sessionId
        item.verified = verified
        if (verified) item.requestedBy = a.requestedBy
        if (a.reason !== undefined) item.reason = a.reason
        if (a.ticket !== undefined) item.ticket = a.ticket
        if (a.expiresAt !== undefined) item.expiresAt = a.expiresAt
        if (isExpired(a.expiresAt, now) && item.state !== 'terminated') item.state = 'expired'
      }
      return item
    })
    return { namespace, pod: podName, items }
  }
}
