// Session attribution: who asked for a debug session, why and until when,
// written onto what the gateway creates (labels and annotations of copies and
// node pods, KDEBUG_* env of ephemeral containers) and signed, so any replica
// can find and verify sessions from the cluster alone. The builders write it
// (debug/kubectl), sessions read it back; this is the one definition of the format.
import type { Container, EnvVar, Pod } from '../kube/types.ts'

/** Reserved for attribution env vars: requests may not set them (custom, env). */
export const RESERVED_ENV_PREFIX = 'KDEBUG_'

/** Who and why, written where it cannot be edited later (applyEnvAttribution, applyPodAttribution). */
export interface Attribution {
  /** Must be a valid label value (≤ 63 chars, alphanumerics, '-', '_', '.'). */
  sessionId: string
  requestedBy: string
  reason?: string
  ticket?: string
  /** RFC 3339 time. */
  expiresAt?: string
  /** The Idempotency-Key header value, kept on the object so any replica can find a retry's result. */
  idempotencyKey?: string
  /** A hash of the request body, to tell a retry from a different request with the same key. */
  requestHash?: string
  /** The debug profile, so sessions found later can say which was used. */
  profile?: string
  /** The caller who delegated (a bot acting for `requestedBy`). */
  delegatedBy?: string
}

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by'
/** Our pods' managed-by value (kubectl's node pods say `kubectl-debug`). */
export const MANAGED_BY = 'kdebug-gateway'
export const KDEBUG_PREFIX = 'kdebug.io/'
export const LABEL_SESSION = 'kdebug.io/session'
/** `copy` or `node`: lets session listing select by kind. */
export const LABEL_KIND = 'kdebug.io/kind'
/** Only when the original's name fits in a label value; the annotation always has it. */
export const LABEL_COPY_OF = 'kdebug.io/copy-of'
export const ANNOTATION_REQUESTED_BY = 'kdebug.io/requested-by'
export const ANNOTATION_REASON = 'kdebug.io/reason'
export const ANNOTATION_TICKET = 'kdebug.io/ticket'
export const ANNOTATION_EXPIRES_AT = 'kdebug.io/expires-at'
export const ANNOTATION_IDEMPOTENCY_KEY = 'kdebug.io/idempotency-key'
export const ANNOTATION_REQUEST_HASH = 'kdebug.io/request-hash'
/** Which container of the pod is the debug container. */
export const ANNOTATION_CONTAINER = 'kdebug.io/container'
export const ANNOTATION_COPY_OF = 'kdebug.io/copy-of'
export const ANNOTATION_PROFILE = 'kdebug.io/profile'
export const ANNOTATION_DELEGATED_BY = 'kdebug.io/delegated-by'
/** HMAC over the attribution and what binds it to this pod (see signedPodFields). */
export const ANNOTATION_SIGNATURE = 'kdebug.io/signature'

export const ENV_SESSION = 'KDEBUG_SESSION'
export const ENV_REQUESTED_BY = 'KDEBUG_REQUESTED_BY'
export const ENV_REASON = 'KDEBUG_REASON'
export const ENV_TICKET = 'KDEBUG_TICKET'
export const ENV_EXPIRES_AT = 'KDEBUG_EXPIRES_AT'
export const ENV_IDEMPOTENCY_KEY = 'KDEBUG_IDEMPOTENCY_KEY'
export const ENV_REQUEST_HASH = 'KDEBUG_REQUEST_HASH'
export const ENV_PROFILE = 'KDEBUG_PROFILE'
export const ENV_DELEGATED_BY = 'KDEBUG_DELEGATED_BY'
/** HMAC over the attribution and what binds it to this container (see signedEphemeralFields). */
export const ENV_SIGNATURE = 'KDEBUG_SIGNATURE'

/** Computes the signature of the fields (src/security/signing.ts); the builders stay free of keys. */
export type SignFn = (fields: Readonly<Record<string, string | undefined>>) => string

/** The attribution fields, by stable names, as they go into a signature. */
function attributionFields (a: Attribution): Record<string, string | undefined> {
  return {
    sessionId: a.sessionId,
    requestedBy: a.requestedBy,
    reason: a.reason,
    ticket: a.ticket,
    expiresAt: a.expiresAt,
    idempotencyKey: a.idempotencyKey,
    requestHash: a.requestHash,
    profile: a.profile,
    delegatedBy: a.delegatedBy
  }
}

/**
 * What an ephemeral container's signature covers: all attribution plus the namespace, pod,
 * container name, image and target, so the env cannot be copied onto another container (even
 * another one of the same pod: names are unique) or onto one that runs something else.
 */
export function signedEphemeralFields (ref: { namespace: string, pod: string }, container: Container, a: Attribution): Record<string, string | undefined> {
  return {
    ...attributionFields(a),
    kind: 'ephemeral',
    namespace: ref.namespace,
    pod: ref.pod,
    container: container.name,
    image: container.image,
    targetContainerName: (container as { targetContainerName?: string }).targetContainerName
  }
}

/**
 * What a pod's signature covers: all attribution plus namespace, pod name, kind, the debug
 * container's name and image (pod images are mutable: a changed image no longer verifies)
 * and the original's name for copies.
 */
export function signedPodFields (pod: Pod, a: PodAttribution): Record<string, string | undefined> {
  const container = a.container === undefined ? undefined : pod.spec.containers.find(c => c.name === a.container)
  return {
    ...attributionFields(a),
    kind: a.kind,
    namespace: pod.metadata.namespace,
    pod: pod.metadata.name,
    container: a.container,
    image: container?.image,
    copyOf: a.copyOf
  }
}

/**
 * Attribution of an ephemeral container, as env vars: the pod's metadata cannot be changed
 * through the ephemeralcontainers subresource, and ephemeral containers are immutable once
 * added, so this is the one place that cannot be edited afterwards. Anyone who can read the
 * pod can read env, so nothing secret goes here (reason and ticket are not secrets).
 * Any KDEBUG_* entry already present is removed first, so attribution cannot be spoofed.
 */
export function applyEnvAttribution<T extends Container> (container: T, a: Attribution): T {
  // Only env changes: a new list on a shallow copy leaves the input as it was.
  return { ...container, env: [...(container.env ?? []).filter(e => !e.name.startsWith(RESERVED_ENV_PREFIX)), ...attributionEnv(a)] }
}

function attributionEnv (a: Attribution): EnvVar[] {
  const ours: EnvVar[] = [{ name: ENV_SESSION, value: a.sessionId }, { name: ENV_REQUESTED_BY, value: a.requestedBy }]
  if (a.reason !== undefined) ours.push({ name: ENV_REASON, value: a.reason })
  if (a.ticket !== undefined) ours.push({ name: ENV_TICKET, value: a.ticket })
  if (a.expiresAt !== undefined) ours.push({ name: ENV_EXPIRES_AT, value: a.expiresAt })
  if (a.idempotencyKey !== undefined) ours.push({ name: ENV_IDEMPOTENCY_KEY, value: a.idempotencyKey })
  if (a.requestHash !== undefined) ours.push({ name: ENV_REQUEST_HASH, value: a.requestHash })
  if (a.profile !== undefined) ours.push({ name: ENV_PROFILE, value: a.profile })
  if (a.delegatedBy !== undefined) ours.push({ name: ENV_DELEGATED_BY, value: a.delegatedBy })
  return ours
}

/**
 * Signs an ephemeral container's attribution (after applyEnvAttribution, once the container is
 * final): KDEBUG_SIGNATURE over signedEphemeralFields. Any signature already present is replaced.
 */
export function signEphemeralContainer<T extends Container> (ref: { namespace: string, pod: string }, container: T, sign: SignFn): T {
  const a = readEnvAttribution(container)
  if (a === undefined) throw new Error('signEphemeralContainer: the container has no attribution')
  // Only env changes (see applyEnvAttribution); the signed fields do not include env itself.
  const out: T = { ...container }
  out.env = [...(container.env ?? []).filter(e => e.name !== ENV_SIGNATURE), { name: ENV_SIGNATURE, value: sign(signedEphemeralFields(ref, out, a)) }]
  return out
}

/** The signature an ephemeral container carries (undefined when unsigned). */
export function readEnvSignature (container: Container): string | undefined {
  return container.env?.find(e => e.name === ENV_SIGNATURE)?.value
}

/** Reads back what applyEnvAttribution wrote (for session listing). Unverified: see signedEphemeralFields. */
export function readEnvAttribution (container: Container): Attribution | undefined {
  const get = (name: string): string | undefined => container.env?.find(e => e.name === name)?.value
  const sessionId = get(ENV_SESSION)
  const requestedBy = get(ENV_REQUESTED_BY)
  if (sessionId === undefined || requestedBy === undefined) return undefined
  return dropUndefined({
    sessionId,
    requestedBy,
    reason: get(ENV_REASON),
    ticket: get(ENV_TICKET),
    expiresAt: get(ENV_EXPIRES_AT),
    idempotencyKey: get(ENV_IDEMPOTENCY_KEY),
    requestHash: get(ENV_REQUEST_HASH),
    profile: get(ENV_PROFILE),
    delegatedBy: get(ENV_DELEGATED_BY)
  })
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/

export function isLabelValue (value: string): boolean {
  return value.length <= 63 && LABEL_VALUE.test(value)
}

export interface PodAttributionTarget {
  kind: 'copy' | 'node'
  /** The debug container of the pod, if there is one (a setImage-only copy has none). */
  container?: string
  /** For copies: the original pod's name. */
  copyOf?: string
}

/**
 * Attribution of a pod we create: labels to find it (managed-by, session, kind) and
 * annotations for who/why/until when. Inherited `kdebug.io/*` labels and annotations (a copy
 * of a copy) are dropped first, and managed-by is overwritten, so the copy is ours alone.
 */
export function applyPodAttribution (pod: Pod, a: Attribution, target: PodAttributionTarget): Pod {
  if (!isLabelValue(a.sessionId) || a.sessionId === '') {
    throw new Error(`session id ${JSON.stringify(a.sessionId)} is not a valid label value`)
  }
  const out = structuredClone(pod)
  const labels = withoutOurs(out.metadata.labels)
  labels[MANAGED_BY_LABEL] = MANAGED_BY
  labels[LABEL_SESSION] = a.sessionId
  labels[LABEL_KIND] = target.kind
  if (target.copyOf !== undefined && isLabelValue(target.copyOf)) labels[LABEL_COPY_OF] = target.copyOf
  const annotations = withoutOurs(out.metadata.annotations)
  annotations[ANNOTATION_REQUESTED_BY] = a.requestedBy
  if (a.reason !== undefined) annotations[ANNOTATION_REASON] = a.reason
  if (a.ticket !== undefined) annotations[ANNOTATION_TICKET] = a.ticket
  if (a.expiresAt !== undefined) annotations[ANNOTATION_EXPIRES_AT] = a.expiresAt
  if (a.idempotencyKey !== undefined) annotations[ANNOTATION_IDEMPOTENCY_KEY] = a.idempotencyKey
  if (a.requestHash !== undefined) annotations[ANNOTATION_REQUEST_HASH] = a.requestHash
  if (a.profile !== undefined) annotations[ANNOTATION_PROFILE] = a.profile
  if (a.delegatedBy !== undefined) annotations[ANNOTATION_DELEGATED_BY] = a.delegatedBy
  if (target.container !== undefined) annotations[ANNOTATION_CONTAINER] = target.container
  if (target.copyOf !== undefined) annotations[ANNOTATION_COPY_OF] = target.copyOf
  out.metadata.labels = labels
  out.metadata.annotations = annotations
  return out
}

export interface PodAttribution extends Attribution {
  kind?: string
  container?: string
  copyOf?: string
}

/** Signs a pod's attribution (after applyPodAttribution, once the pod is final): the kdebug.io/signature annotation. */
export function signPod (pod: Pod, sign: SignFn): Pod {
  const a = readPodAttribution(pod)
  if (a === undefined) throw new Error('signPod: the pod has no attribution')
  // Only metadata.annotations changes: a copy of metadata, not of the whole pod (the spec of a copy can be large).
  const out: Pod = { ...pod, metadata: { ...pod.metadata } }
  out.metadata.annotations = { ...out.metadata.annotations, [ANNOTATION_SIGNATURE]: sign(signedPodFields(out, a)) }
  return out
}

/** The signature a pod carries (undefined when unsigned). */
export function readPodSignature (pod: Pod): string | undefined {
  return pod.metadata.annotations?.[ANNOTATION_SIGNATURE]
}

/** Reads back what applyPodAttribution wrote; undefined for pods that are not ours. Unverified: see signedPodFields. */
export function readPodAttribution (pod: Pod): PodAttribution | undefined {
  const labels = pod.metadata.labels ?? {}
  const annotations = pod.metadata.annotations ?? {}
  const sessionId = labels[LABEL_SESSION]
  const requestedBy = annotations[ANNOTATION_REQUESTED_BY]
  if (labels[MANAGED_BY_LABEL] !== MANAGED_BY || sessionId === undefined || requestedBy === undefined) return undefined
  return dropUndefined({
    sessionId,
    requestedBy,
    reason: annotations[ANNOTATION_REASON],
    ticket: annotations[ANNOTATION_TICKET],
    expiresAt: annotations[ANNOTATION_EXPIRES_AT],
    idempotencyKey: annotations[ANNOTATION_IDEMPOTENCY_KEY],
    requestHash: annotations[ANNOTATION_REQUEST_HASH],
    profile: annotations[ANNOTATION_PROFILE],
    delegatedBy: annotations[ANNOTATION_DELEGATED_BY],
    kind: labels[LABEL_KIND],
    container: annotations[ANNOTATION_CONTAINER],
    copyOf: annotations[ANNOTATION_COPY_OF]
  })
}

function withoutOurs (map: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(map ?? {})) if (!k.startsWith(KDEBUG_PREFIX)) out[k] = v
  return out
}

function dropUndefined<T extends object> (value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T
}
