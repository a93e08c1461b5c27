// TokenReview, SubjectAccessReview and SelfSubjectAccessReview as the API
// server's registries answer them (pkg/registry/authentication/tokenreview,
// pkg/registry/authorization/{subjectaccessreview,selfsubjectaccessreview},
// validation from pkg/apis/authorization/validation). Bodies are the decoded
// JSON; the returned object is the review with `status` filled.
import type { FieldError } from '../apimachinery/status.ts'
import type { KObject, NonResourceAttributes, ResourceAttributes, UserInfo } from '../apimachinery/types.ts'
import type { TokenAuthenticator } from './authn.ts'
import type { RbacAuthorizer } from './rbac.ts'
import { badRequest, invalid, StatusError } from '../apimachinery/status.ts'

/** kube-apiserver's --api-audiences default: the service account issuer of a kubeadm cluster. */
export const DEFAULT_API_AUDIENCES: readonly string[] = ['https://kubernetes.default.svc.cluster.local']

function isRecord (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function str (v: unknown): string {
  return typeof v === 'string' ? v : ''
}

function strList (v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []
}

function spec (review: KObject): Record<string, unknown> {
  return isRecord(review.spec) ? review.spec : {}
}

/** TokenReview: 400 for an empty token; unknown tokens give `{user: {}, error: "invalid bearer token"}` (authenticated is omitempty). */
export function reviewToken (review: KObject, authn: TokenAuthenticator, opts: { apiAudiences?: readonly string[] } = {}): KObject {
  const s = spec(review)
  const token = str(s.token)
  if (!token) throw badRequest('token is required for TokenReview in authentication')
  const implicit = opts.apiAudiences ?? DEFAULT_API_AUDIENCES
  const requested = strList(s.audiences)
  const wanted = requested.length > 0 ? requested : [...implicit]
  // authenticator.WrapAudienceAgnosticToken: the static tokens are valid for the API audiences only
  const auds = implicit.filter(a => wanted.includes(a))
  const user = auds.length > 0 ? authn.authenticate(token) : undefined
  let status: Record<string, unknown>
  if (!user) {
    // bearertoken.Authenticator turns "not ok, no error" into this default error
    status = { user: {}, error: 'invalid bearer token' }
  } else {
    const u: Record<string, unknown> = { username: user.username }
    if (user.uid) u.uid = user.uid
    if (user.groups.length > 0) u.groups = [...user.groups]
    if (user.extra && Object.keys(user.extra).length > 0) u.extra = structuredClone(user.extra)
    status = { authenticated: true, user: u, audiences: auds }
  }
  return { ...review, apiVersion: review.apiVersion ?? 'authentication.k8s.io/v1', kind: review.kind ?? 'TokenReview', status }
}

const UNION_DETAIL = 'exactly one of nonResourceAttributes or resourceAttributes must be specified'

function validateAttributes (s: Record<string, unknown>): FieldError[] {
  const errs: FieldError[] = []
  const hasRes = isRecord(s.resourceAttributes)
  const hasNonRes = isRecord(s.nonResourceAttributes)
  // newest apiserver: union validation on the v1 spec (field `spec`), bad value rendered as JSON
  if (hasRes && hasNonRes) {
    const nr = s.nonResourceAttributes as Record<string, unknown>
    errs.push({ type: 'FieldValueInvalid', field: 'spec', badValue: { path: str(nr.path), verb: str(nr.verb) }, detail: UNION_DETAIL })
  }
  if (!hasRes && !hasNonRes) errs.push({ type: 'FieldValueInvalid', field: 'spec', badValue: null, detail: UNION_DETAIL })
  return errs
}

function invalidReview (errs: FieldError[]): StatusError {
  // authorizationapi.Kind(obj.Kind): the decoded internal object has no Kind, so the qualified kind is ".authorization.k8s.io"
  const err = invalid('', '', errs, 'authorization.k8s.io')
  if (err.status.details && !err.status.details.kind) delete err.status.details.kind
  return err
}

function attributesFrom (s: Record<string, unknown>): ResourceAttributes | NonResourceAttributes {
  if (isRecord(s.resourceAttributes)) {
    const r = s.resourceAttributes
    const attrs: ResourceAttributes = { verb: str(r.verb), resource: str(r.resource), group: str(r.group) }
    if (str(r.namespace)) attrs.namespace = str(r.namespace)
    if (str(r.version)) attrs.version = str(r.version)
    if (str(r.subresource)) attrs.subresource = str(r.subresource)
    if (str(r.name)) attrs.name = str(r.name)
    return attrs
  }
  const n = isRecord(s.nonResourceAttributes) ? s.nonResourceAttributes : {}
  return { path: str(n.path), verb: str(n.verb) }
}

function decide (user: UserInfo, s: Record<string, unknown>, authz: RbacAuthorizer): Record<string, unknown> {
  const d = authz.authorize(user, attributesFrom(s))
  // RBAC never denies (no `denied: true`) and reports resolution problems in the reason
  const status: Record<string, unknown> = { allowed: d.allowed }
  if (d.reason) status.reason = d.reason
  return status
}

/** SubjectAccessReview: 422 unless exactly one of resource/nonResource attributes and a user or group are given. */
export function reviewSubjectAccess (review: KObject, authz: RbacAuthorizer): KObject {
  const s = spec(review)
  const errs = validateAttributes(s)
  const user = str(s.user)
  const groups = strList(s.groups)
  if (!user && groups.length === 0) {
    errs.push({ type: 'FieldValueInvalid', field: 'spec.user', badValue: '', detail: 'at least one of user or group must be specified' })
  }
  if (errs.length > 0) throw invalidReview(errs)
  // the subject is taken as given: no system:authenticated is added
  const subject: UserInfo = { username: user, groups }
  if (str(s.uid)) subject.uid = str(s.uid)
  if (isRecord(s.extra)) subject.extra = Object.fromEntries(Object.entries(s.extra).map(([k, v]) => [k, strList(v)]))
  return { ...review, apiVersion: review.apiVersion ?? 'authorization.k8s.io/v1', kind: review.kind ?? 'SubjectAccessReview', status: decide(subject, s, authz) }
}

/** SelfSubjectAccessReview: the same question for the requester (after impersonation). */
export function reviewSelfSubjectAccess (review: KObject, requester: UserInfo, authz: RbacAuthorizer): KObject {
  const s = spec(review)
  const errs = validateAttributes(s)
  if (errs.length > 0) throw invalidReview(errs)
  return { ...review, apiVersion: review.apiVersion ?? 'authorization.k8s.io/v1', kind: review.kind ?? 'SelfSubjectAccessReview', status: decide(requester, s, authz) }
}

/**
 * SelfSubjectRulesReview (pkg/registry/authorization/selfsubjectrulesreview): the requester's RBAC rules in
 * spec.namespace; 400 `no namespace on request` without one. Like the real handler the answer carries only status.
 */
export function reviewSelfSubjectRules (review: KObject, requester: UserInfo, authz: RbacAuthorizer): KObject {
  const namespace = str(spec(review).namespace)
  if (!namespace) throw badRequest('no namespace on request')
  const { rules, errors } = authz.rulesFor(requester, namespace)
  const resourceRules = rules.filter(r => (r.resources ?? []).length > 0).map(r => {
    const rule: Record<string, unknown> = { verbs: r.verbs ?? [] }
    if (r.apiGroups?.length) rule.apiGroups = r.apiGroups
    if (r.resources?.length) rule.resources = r.resources
    if (r.resourceNames?.length) rule.resourceNames = r.resourceNames
    return rule
  })
  const nonResourceRules = rules.filter(r => (r.nonResourceURLs ?? []).length > 0)
    .map(r => ({ verbs: r.verbs ?? [], nonResourceURLs: r.nonResourceURLs ?? [] }))
  const status: Record<string, unknown> = { resourceRules, nonResourceRules, incomplete: false }
  if (errors.length > 0) status.evaluationError = errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`
  return { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', metadata: {}, spec: {}, status }
}
