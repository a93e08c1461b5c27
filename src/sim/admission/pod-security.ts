// Pod Security Admission as staging/src/k8s.io/pod-security-admission does it in a v1.32 API
// server: the baseline and restricted checks of policy/check_*.go with their exact
// ForbiddenReason/ForbiddenDetail wording, the check order and overrides of policy/registry.go,
// the namespace labels of api/helpers.go (PolicyToEvaluate) and the pod decision of
// admission/admission.go (ValidatePod, EvaluatePod, isSignificantPodUpdate). Pure: callers pass
// the namespace labels and the pod; apiserver/handlers/admission.ts turns the decision into a 403 or Warning headers.
// The checks themselves live in src/lib/pod-security-standards.ts (the gateway's policy uses them too).
import type { KObject } from '../apimachinery/types.ts'
import { StatusError, forbiddenMessage, invalid, type FieldError } from '../apimachinery/status.ts'
import {
  byteOrder, evaluatePodSecurity, forbiddenDetail, forbiddenReason, goQuote, LABEL_PREFIX, levelVersionString, list, map, str, violationMessage,
  type JsonMap, type LevelVersion, type PodSecurityLevel, type PodSecurityPolicy, type PodSecurityResult
} from '../../lib/pod-security-standards.ts'

export {
  evaluatePodSecurity, forbiddenDetail, forbiddenReason, LABEL_PREFIX, LATEST_MINOR, levelVersionString, versionMinor, violationMessage,
  type LevelVersion, type PodSecurityLevel, type PodSecurityPolicy, type PodSecurityResult
} from '../../lib/pod-security-standards.ts'

/** The 403 the PodSecurity plugin returns (apierrors.NewForbidden on the pods resource). */
export function podSecurityForbidden (podName: string, lv: LevelVersion, r: PodSecurityResult): StatusError {
  const subject = podName ? `pods ${goQuote(podName)}` : 'pods'
  const details: { name?: string, kind: string } = { kind: 'pods' }
  if (podName) details.name = podName
  return forbiddenMessage(`${subject} is forbidden: ${violationMessage(lv, r)}`, details)
}

// ---- namespace labels (api/helpers.go PolicyToEvaluate) ----

function parseLevel (v: string): { level: PodSecurityLevel, ok: boolean } {
  if (v === 'privileged' || v === 'baseline' || v === 'restricted') return { level: v, ok: true }
  return { level: 'restricted', ok: false }
}
function parseVersion (v: string): { version: string, ok: boolean } {
  if (v === 'latest') return { version: 'latest', ok: true }
  if (/^v1\.(0|[1-9][0-9]*)$/.test(v)) return { version: v, ok: true }
  return { version: 'latest', ok: false }
}

/**
 * The namespace's policy from its labels over the server default (privileged:latest everywhere).
 * A bad enforce level means restricted; bad audit/warn levels fail open (privileged); a bad
 * version means latest. `errors` names the bad labels.
 */
export function policyFromLabels (labels: Record<string, string> | undefined): { policy: PodSecurityPolicy, errors: string[] } {
  const policy: PodSecurityPolicy = {
    enforce: { level: 'privileged', version: 'latest' },
    audit: { level: 'privileged', version: 'latest' },
    warn: { level: 'privileged', version: 'latest' }
  }
  const errors: string[] = []
  for (const mode of ['enforce', 'audit', 'warn'] as const) {
    const level = labels?.[LABEL_PREFIX + mode]
    if (level !== undefined) {
      const p = parseLevel(level)
      policy[mode].level = p.ok || mode === 'enforce' ? p.level : 'privileged'
      if (!p.ok) errors.push(`${LABEL_PREFIX}${mode}`)
    }
    const version = labels?.[`${LABEL_PREFIX}${mode}-version`]
    if (version !== undefined) {
      const v = parseVersion(version)
      policy[mode].version = v.version
      if (!v.ok) errors.push(`${LABEL_PREFIX}${mode}-version`)
    }
  }
  return { policy, errors }
}

// ---- the pod admission decision (admission/admission.go) ----

/** Pod subresources PodSecurity never evaluates (ignoredPodSubresources). */
export const IGNORED_POD_SUBRESOURCES = new Set(['exec', 'attach', 'binding', 'eviction', 'log', 'portforward', 'proxy', 'status'])

function image (c: JsonMap): string {
  return str(c.image)
}

/** isSignificantPodUpdate: only image changes, added containers or ephemeral containers and seccomp annotations re-evaluate. */
export function isSignificantPodUpdate (pod: KObject, oldPod: KObject): boolean {
  const spec = map(pod.spec) ?? {}
  const oldSpec = map(oldPod.spec) ?? {}
  const ann = map(pod.metadata.annotations) ?? {}
  const oldAnn = map(oldPod.metadata.annotations) ?? {}
  const changed = (c: JsonMap, o: JsonMap): boolean => {
    if (image(c) !== image(o)) return true
    const key = `container.seccomp.security.alpha.kubernetes.io/${str(c.name)}`
    return ann[key] !== oldAnn[key]
  }
  for (const k of ['containers', 'initContainers'] as const) {
    const now = list(spec[k])
    const before = list(oldSpec[k])
    if (now.length !== before.length) return true
    if (now.some((c, i) => changed(c, before[i] ?? {}))) return true
  }
  const oldEph = list(oldSpec.ephemeralContainers)
  for (const c of list(spec.ephemeralContainers)) {
    const o = oldEph.find(x => x.name === c.name)
    if (!o || changed(c, o)) return true
  }
  return false
}

export interface PodAdmission {
  /** Set when the enforce level refuses the pod (403 Forbidden). */
  error?: StatusError
  /** `would violate PodSecurity ...` texts for Warning headers (only on allowed requests). */
  warnings: string[]
  /** What the audit level says (the pod-security.kubernetes.io/audit-violations annotation). */
  auditViolation?: string
}

/**
 * ValidatePod + EvaluatePod for a pod create or update (`oldPod` set) of the main resource or
 * the ephemeralcontainers subresource; `subresource` in IGNORED_POD_SUBRESOURCES is never evaluated.
 */
export function admitPod (opts: { namespaceLabels: Record<string, string> | undefined, pod: KObject, oldPod?: KObject, subresource?: string }): PodAdmission {
  const none: PodAdmission = { warnings: [] }
  if (opts.subresource && IGNORED_POD_SUBRESOURCES.has(opts.subresource)) return none
  const { policy, errors } = policyFromLabels(opts.namespaceLabels)
  const privileged = (lv: LevelVersion): boolean => lv.level === 'privileged'
  if (errors.length === 0 && privileged(policy.enforce) && privileged(policy.audit) && privileged(policy.warn)) return none
  if (opts.oldPod && !isSignificantPodUpdate(opts.pod, opts.oldPod)) return none
  const out: PodAdmission = { warnings: [] }
  const cache = new Map<string, PodSecurityResult>()
  const evaluate = (lv: LevelVersion): PodSecurityResult => {
    const key = levelVersionString(lv)
    let r = cache.get(key)
    if (!r) {
      r = evaluatePodSecurity(lv, opts.pod)
      cache.set(key, r)
    }
    return r
  }
  const enforced = evaluate(policy.enforce)
  if (!enforced.allowed) out.error = podSecurityForbidden(opts.pod.metadata.name ?? '', policy.enforce, enforced)
  const audited = evaluate(policy.audit)
  if (!audited.allowed) out.auditViolation = `would violate PodSecurity ${goQuote(levelVersionString(policy.audit))}: ${forbiddenDetail(audited)}`
  if (!out.error) {
    const warned = evaluate(policy.warn)
    if (!warned.allowed) out.warnings.push(`would violate PodSecurity ${goQuote(levelVersionString(policy.warn))}: ${forbiddenDetail(warned)}`)
  }
  return out
}

/** An RFC 7234 Warning header value as the API server writes it: `299 - "text"` (net.NewWarningHeader). */
export function warningHeader (text: string): string {
  return `299 - "${text.replace(/["\\]/g, c => `\\${c}`)}"`
}

// ---- namespaces (admission.go ValidateNamespace) ----

const LEVEL_ORDER: Record<PodSecurityLevel, number> = { privileged: 0, baseline: 1, restricted: 2 }

/** The label errors as field errors of NewInvalid (`metadata.labels[...]: Invalid value: ...`). */
export function labelErrors (labels: Record<string, string> | undefined): FieldError[] {
  const out: FieldError[] = []
  for (const mode of ['enforce', 'audit', 'warn'] as const) {
    for (const [key, ok, why] of [
      [LABEL_PREFIX + mode, (v: string) => parseLevel(v).ok, 'must be one of privileged, baseline, restricted'],
      [`${LABEL_PREFIX}${mode}-version`, (v: string) => parseVersion(v).ok, 'must be "latest" or "v1.x"']
    ] as const) {
      const v = labels?.[key]
      if (v !== undefined && !ok(v)) out.push({ type: 'FieldValueInvalid', field: `metadata.labels[${key}]`, badValue: v, detail: why })
    }
  }
  return out
}

/**
 * A namespace create or update: invalid PodSecurity labels are a 422 (on update only when they
 * changed); tightening `enforce` answers with warnings naming the existing pods that violate it.
 */
export function admitNamespace (opts: { namespace: KObject, oldNamespace?: KObject, pods?: KObject[] }): { error?: StatusError, warnings: string[] } {
  const name = opts.namespace.metadata.name ?? ''
  const labels = opts.namespace.metadata.labels
  const errs = labelErrors(labels)
  if (!opts.oldNamespace) return errs.length > 0 ? { error: invalid('Namespace', name, errs), warnings: [] } : { warnings: [] }
  const oldErrs = labelErrors(opts.oldNamespace.metadata.labels)
  if (errs.length > 0 && (oldErrs.length === 0 || JSON.stringify(errs) !== JSON.stringify(oldErrs))) return { error: invalid('Namespace', name, errs), warnings: [] }
  const enforce = policyFromLabels(labels).policy.enforce
  const oldEnforce = policyFromLabels(opts.oldNamespace.metadata.labels).policy.enforce
  if (enforce.level === oldEnforce.level && enforce.version === oldEnforce.version) return { warnings: [] }
  if (enforce.level === 'privileged') return { warnings: [] }
  if (enforce.version === oldEnforce.version && LEVEL_ORDER[enforce.level] <= LEVEL_ORDER[oldEnforce.level]) return { warnings: [] }
  return { warnings: existingPodWarnings(name, enforce, opts.pods ?? []) }
}

/** EvaluatePodsInNamespace: one warning per distinct ForbiddenReason, prefixed with the lexically first pod. */
function existingPodWarnings (namespace: string, enforce: LevelVersion, pods: KObject[]): string[] {
  const counts = new Map<string, { pod: string, count: number }>()
  for (const p of pods) {
    const r = evaluatePodSecurity(enforce, p)
    if (r.allowed) continue
    const warning = forbiddenReason(r)
    const podName = p.metadata.name ?? ''
    const c = counts.get(warning)
    if (!c) counts.set(warning, { pod: podName, count: 1 })
    else {
      c.count++
      if (podName < c.pod) c.pod = podName
    }
  }
  if (counts.size === 0) return []
  const decorated = [...counts].map(([warning, c]) => {
    if (c.count === 1) return `${c.pod}: ${warning}`
    if (c.count === 2) return `${c.pod} (and 1 other pod): ${warning}`
    return `${c.pod} (and ${c.count - 1} other pods): ${warning}`
  }).sort((a, b) => byteOrder(a, b))
  return [`existing pods in namespace ${goQuote(namespace)} violate the new PodSecurity enforce level ${goQuote(levelVersionString(enforce))}`, ...decorated]
}
