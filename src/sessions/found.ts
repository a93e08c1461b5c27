// Debug sessions as found in the cluster: copies and node pods by their labels
// and annotations, ephemeral containers by their KDEBUG_* env. Pure: any replica
// rebuilds the same view from the same objects (and the same signing keys).
//
// Anyone with `create pods` can write our labels and annotations, and anyone
// who may patch pods/ephemeralcontainers can write KDEBUG_* env: such objects
// are found (and listed, so people see them) but are `verified: false` unless
// their signature checks out, and then they are nobody's: no requestedBy, not
// counted, never replayed, never reaped.
import { readEnvAttribution, readEnvSignature, readPodAttribution, readPodSignature, signedEphemeralFields, signedPodFields, type Attribution } from './attribution.ts'
import type { Pod } from '../kube/types.ts'
import type { Session } from '../schemas/debug.ts'
import { sessionCreatedAt } from './ids.ts'
import { containerView } from './state.ts'

export type SessionKind = Session['kind']

/** MetadataSigner.verify (src/security/signing.ts). */
export type VerifyFn = (fields: Readonly<Record<string, string | undefined>>, signature: string | undefined) => boolean

/** A session with what is needed to act on it (delete preconditions, idempotency). */
export interface FoundSession {
  session: Session
  /**
   * The gateway's signature over the attribution and the object it sits on checks out. Only
   * verified sessions have a requester, count against limits, are replayed or reaped.
   */
  verified: boolean
  /** uid and resourceVersion of the pod the session lives in. */
  podUid?: string
  podResourceVersion?: string
  idempotencyKey?: string
  requestHash?: string
}

export function isExpired (expiresAt: string | undefined, nowMs: number): boolean {
  if (expiresAt === undefined) return false
  const t = Date.parse(expiresAt)
  return Number.isFinite(t) && t <= nowMs
}

function base (pod: Pod, a: Attribution, kind: SessionKind, container: string | undefined, verified: boolean): Session {
  const s: Session = {
    id: a.sessionId,
    kind,
    namespace: pod.metadata.namespace ?? '',
    pod: pod.metadata.name ?? '',
    state: 'pending',
    // An unverified object is nobody's: the name it carries is only a claim.
    requestedBy: verified ? a.requestedBy : '',
    verified
  }
  if (!verified) s.claimedRequestedBy = a.requestedBy
  if (container !== undefined) s.container = container
  const node = pod.spec.nodeName
  if (node) s.node = node
  if (a.reason !== undefined) s.reason = a.reason
  if (a.ticket !== undefined) s.ticket = a.ticket
  if (a.expiresAt !== undefined) s.expiresAt = a.expiresAt
  if (a.profile !== undefined) s.profile = a.profile
  if (a.delegatedBy !== undefined) s.delegatedBy = a.delegatedBy
  return s
}

/**
 * A pod created after its session expired was not created by that session (the name was
 * reused after the original was deleted, with its metadata copied).
 */
function createdAfterExpiry (created: string | undefined, expiresAt: string | undefined): boolean {
  if (created === undefined || expiresAt === undefined) return false
  const c = Date.parse(created)
  const e = Date.parse(expiresAt)
  return Number.isFinite(c) && Number.isFinite(e) && c > e
}

/**
 * Which attributions a caller wants, judged on what they claim before the signature is
 * checked (a signature costs an HMAC): a verified session is one whose claims are signed, so
 * filtering claims first and verifying the rest finds the same verified sessions.
 */
export type ClaimFilter = (a: Attribution) => boolean

/** The session of a copy or node pod (ours when verified); undefined for pods without our labels (or claims `want` refuses). */
export function podSession (pod: Pod, nowMs: number, verify: VerifyFn, want?: ClaimFilter): FoundSession | undefined {
  const a = readPodAttribution(pod)
  if (a === undefined || (want !== undefined && !want(a))) return undefined
  const created = (pod.metadata as { creationTimestamp?: string }).creationTimestamp
  const verified = (a.kind === 'node' || a.kind === 'copy') && verify(signedPodFields(pod, a), readPodSignature(pod)) && !createdAfterExpiry(created, a.expiresAt)
  const kind: SessionKind = a.kind === 'node' ? 'node' : 'copy'
  const s = base(pod, a, kind, a.container, verified)
  if (a.copyOf !== undefined) s.copyOf = a.copyOf
  if (created) s.createdAt = created
  const c = a.container === undefined ? undefined : pod.spec.containers.find(x => x.name === a.container)
  if (c?.image) s.image = c.image
  if (a.container !== undefined) {
    const view = containerView(pod, a.container)
    s.state = view.state
    if (view.status) s.status = view.status
  } else if ((pod.metadata as { deletionTimestamp?: string }).deletionTimestamp) {
    s.state = 'deleting'
  }
  if (isExpired(a.expiresAt, nowMs) && s.state !== 'terminated' && s.state !== 'deleting') s.state = 'expired'
  return withRefs(s, pod, a)
}

/** Sessions of the ephemeral containers with our env in this pod (ours when verified). */
export function ephemeralSessions (pod: Pod, nowMs: number, verify: VerifyFn, want?: ClaimFilter): FoundSession[] {
  const out: FoundSession[] = []
  const ref = { namespace: pod.metadata.namespace ?? '', pod: pod.metadata.name ?? '' }
  for (const c of pod.spec.ephemeralContainers ?? []) {
    const a = readEnvAttribution(c)
    if (a === undefined || (want !== undefined && !want(a))) continue
    const verified = verify(signedEphemeralFields(ref, c, a), readEnvSignature(c))
    const s = base(pod, a, 'ephemeral', c.name, verified)
    if (c.image) s.image = c.image
    const created = sessionCreatedAt(a.sessionId)
    if (created) s.createdAt = created.toISOString()
    const view = containerView(pod, c.name)
    s.state = view.state
    if (view.status) s.status = view.status
    // Kubernetes cannot remove an ephemeral container; past its TTL it is reported, not reaped.
    if (isExpired(a.expiresAt, nowMs) && s.state !== 'terminated') s.state = 'expired'
    out.push(withRefs(s, pod, a))
  }
  return out
}

export function sessionsOfPod (pod: Pod, nowMs: number, verify: VerifyFn, want?: ClaimFilter): FoundSession[] {
  const own = podSession(pod, nowMs, verify, want)
  const eph = ephemeralSessions(pod, nowMs, verify, want)
  return own === undefined ? eph : [own, ...eph]
}

/** Still counts against the per-user limit: verified, not finished, not expired, not being deleted. */
export function isLive (s: Session): boolean {
  if (!s.verified) return false
  return s.state === 'pending' || s.state === 'waiting' || s.state === 'running' || s.state === 'image-pull-failed'
}

function withRefs (session: Session, pod: Pod, a: Attribution): FoundSession {
  const f: FoundSession = { session, verified: session.verified }
  const meta = pod.metadata as { uid?: string, resourceVersion?: string }
  if (meta.uid) f.podUid = meta.uid
  if (meta.resourceVersion) f.podResourceVersion = meta.resourceVersion
  // Idempotency data of an unverified object is never used: no key, no hash.
  if (!session.verified) return f
  if (a.idempotencyKey !== undefined) f.idempotencyKey = a.idempotencyKey
  if (a.requestHash !== undefined) f.requestHash = a.requestHash
  return f
}
