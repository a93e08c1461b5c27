// Debug sessions as found in the cluster: copies and node pods by their labels
// and annotations, ephemeral containers by their KDEBUG_* env. Pure: any replica
// rebuilds the same view from the same objects.
import { readEnvAttribution, readPodAttribution, type Attribution, type Pod } from '../kube/spec/index.ts'
import type { Session } from '../schemas/debug.ts'
import { sessionCreatedAt } from './ids.ts'
import { containerView } from './state.ts'

export type SessionKind = Session['kind']

/** A session with what is needed to act on it (delete preconditions, idempotency). */
export interface FoundSession {
  session: Session
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

function base (pod: Pod, a: Attribution, kind: SessionKind, container: string | undefined): Session {
  const s: Session = {
    id: a.sessionId,
    kind,
    namespace: pod.metadata.namespace ?? '',
    pod: pod.metadata.name ?? '',
    state: 'pending',
    requestedBy: a.requestedBy
  }
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

/** The session of a copy or node pod we created; undefined for other pods. */
export function podSession (pod: Pod, nowMs: number): FoundSession | undefined {
  const a = readPodAttribution(pod)
  if (a === undefined) return undefined
  const kind: SessionKind = a.kind === 'node' ? 'node' : 'copy'
  const s = base(pod, a, kind, a.container)
  if (a.copyOf !== undefined) s.copyOf = a.copyOf
  const created = (pod.metadata as { creationTimestamp?: string }).creationTimestamp
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

/** Sessions of the ephemeral containers we added to this pod. */
export function ephemeralSessions (pod: Pod, nowMs: number): FoundSession[] {
  const out: FoundSession[] = []
  for (const c of pod.spec.ephemeralContainers ?? []) {
    const a = readEnvAttribution(c)
    if (a === undefined) continue
    const s = base(pod, a, 'ephemeral', c.name)
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

export function sessionsOfPod (pod: Pod, nowMs: number): FoundSession[] {
  const own = podSession(pod, nowMs)
  const eph = ephemeralSessions(pod, nowMs)
  return own === undefined ? eph : [own, ...eph]
}

/** Still counts against the per-user limit: not finished, not expired, not being deleted. */
export function isLive (s: Session): boolean {
  return s.state === 'pending' || s.state === 'waiting' || s.state === 'running' || s.state === 'image-pull-failed'
}

function withRefs (session: Session, pod: Pod, a: Attribution): FoundSession {
  const f: FoundSession = { session }
  const meta = pod.metadata as { uid?: string, resourceVersion?: string }
  if (meta.uid) f.podUid = meta.uid
  if (meta.resourceVersion) f.podResourceVersion = meta.resourceVersion
  if (a.idempotencyKey !== undefined) f.idempotencyKey = a.idempotencyKey
  if (a.requestHash !== undefined) f.requestHash = a.requestHash
  return f
}
