// TokenReview and SubjectAccessReview: the two calls authentication and
// authorization make to the API server, behind an interface so tests use a
// fake. Failures become ProblemErrors here and nowhere else in the auth layer:
// an unreachable or overloaded API server is a 503 with Retry-After, the
// gateway's own credentials being refused is a 502; nothing ever carries the
// reviewed token, the request headers or the raw ApiException message.
import { ApiException, AuthenticationV1Api, AuthorizationV1Api, type KubeConfig, type V1SubjectAccessReview, type V1TokenReview } from '@kubernetes/client-node'
import { ProblemError, Problems } from '../errors.ts'
import type { Principal, ResourceAttributes } from './user-info.ts'
import { parseStatusBody, toProblem } from './errors.ts'

export interface TokenReviewResult {
  authenticated: boolean
  user?: Principal
  /** Audiences the token is valid for, when the API server says (it does when audiences were asked for). */
  audiences?: string[]
  error?: string
}

export interface SubjectAccessReviewSpec {
  user: string
  uid?: string
  groups: string[]
  extra?: Record<string, string[]>
  resourceAttributes: ResourceAttributes
}

export interface SubjectAccessReviewResult {
  allowed: boolean
  denied?: boolean
  reason?: string
  evaluationError?: string
}

export interface ReviewClient {
  tokenReview (token: string, audiences?: string[]): Promise<TokenReviewResult>
  subjectAccessReview (spec: SubjectAccessReviewSpec): Promise<SubjectAccessReviewResult>
}

/** Seconds a client should wait when the API server is down and said nothing better. */
export const UPSTREAM_RETRY_AFTER_SECONDS = 5

/**
 * A failed review call → ProblemError. Unlike the general mapping, 4xx answers are
 * never passed through: a 403 here means the gateway's service account may not create
 * reviews — not that the caller is forbidden — and a 404 means the API is not served.
 */
export function reviewProblem (what: 'TokenReview' | 'SubjectAccessReview', err: unknown): ProblemError {
  if (err instanceof ProblemError) return err
  if (err instanceof ApiException) {
    const code = err.code
    const status = parseStatusBody(err.body)
    const headers = (err.headers ?? {}) as Record<string, string>
    // A sanitized cause for the logs: the ApiException message embeds response headers.
    const cause = new Error(`${what}: the API server answered ${code}${status?.reason ? ` (${status.reason})` : ''}`)
    if (code === 429 || code >= 500) {
      const fromHeader = Number.parseInt(headers['retry-after'] ?? '', 10)
      const retryAfter = Number.isFinite(fromHeader) && fromHeader > 0
        ? fromHeader
        : status?.details?.retryAfterSeconds ?? UPSTREAM_RETRY_AFTER_SECONDS
      return Problems.upstreamUnavailable(undefined, { kubernetesReason: status?.reason, retryAfter }, { cause })
    }
    if (code === 401 || code === 403) {
      return Problems.badGateway(`The Kubernetes API server refused the gateway's own ${what} request; check the gateway's credentials and RBAC.`, { kubernetesReason: status?.reason }, { cause })
    }
    return Problems.badGateway(`The Kubernetes API server rejected the gateway's ${what} request.`, { kubernetesReason: status?.reason }, { cause })
  }
  const problem = toProblem(err)
  if (problem.status === 503 && problem.extras.retryAfter === undefined) {
    return Problems.upstreamUnavailable(problem.detail, { ...problem.extras, retryAfter: UPSTREAM_RETRY_AFTER_SECONDS }, { cause: problem.cause })
  }
  return problem
}

function nonEmpty (s: string | undefined): string | undefined {
  return s === undefined || s === '' ? undefined : s
}

export function principalFromTokenReview (review: V1TokenReview): TokenReviewResult {
  const status = review.status
  if (!status?.authenticated || !status.user?.username) {
    return { authenticated: false, error: status?.error }
  }
  const u = status.user
  const user: Principal = { user: u.username as string, groups: u.groups ?? [] }
  if (nonEmpty(u.uid)) user.uid = u.uid
  if (u.extra && Object.keys(u.extra).length > 0) user.extra = u.extra
  const result: TokenReviewResult = { authenticated: true, user }
  if (status.audiences) result.audiences = status.audiences
  return result
}

export function subjectAccessReviewBody (spec: SubjectAccessReviewSpec): V1SubjectAccessReview {
  const a = spec.resourceAttributes
  return {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    spec: {
      user: spec.user,
      ...(spec.uid ? { uid: spec.uid } : {}),
      groups: spec.groups,
      ...(spec.extra && Object.keys(spec.extra).length > 0 ? { extra: spec.extra } : {}),
      resourceAttributes: {
        verb: a.verb,
        group: a.group ?? '',
        ...(a.version ? { version: a.version } : {}),
        resource: a.resource,
        ...(a.subresource ? { subresource: a.subresource } : {}),
        ...(a.namespace ? { namespace: a.namespace } : {}),
        ...(a.name ? { name: a.name } : {})
      }
    }
  }
}

export interface KubeReviewClientOptions {
  kubeConfig: KubeConfig
  /** Abort a review call after this long (then 503). */
  timeoutMs?: number
}

/** ReviewClient over @kubernetes/client-node, authenticated as the gateway's own service account. */
export class KubeReviewClient implements ReviewClient {
  private readonly authn: AuthenticationV1Api
  private readonly authz: AuthorizationV1Api
  private readonly timeoutMs: number

  constructor (options: KubeReviewClientOptions) {
    this.authn = options.kubeConfig.makeApiClient(AuthenticationV1Api)
    this.authz = options.kubeConfig.makeApiClient(AuthorizationV1Api)
    this.timeoutMs = options.timeoutMs ?? 10_000
  }

  async tokenReview (token: string, audiences?: string[]): Promise<TokenReviewResult> {
    const body: V1TokenReview = {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      spec: { token, ...(audiences && audiences.length > 0 ? { audiences } : {}) }
    }
    try {
      return principalFromTokenReview(await withTimeout(this.timeoutMs, () => this.authn.createTokenReview({ body })))
    } catch (err) {
      throw reviewProblem('TokenReview', err)
    }
  }

  async subjectAccessReview (spec: SubjectAccessReviewSpec): Promise<SubjectAccessReviewResult> {
    try {
      const review = await withTimeout(this.timeoutMs, () => this.authz.createSubjectAccessReview({ body: subjectAccessReviewBody(spec) }))
      const s = review.status
      const result: SubjectAccessReviewResult = { allowed: s?.allowed === true }
      if (s?.denied !== undefined) result.denied = s.denied
      if (nonEmpty(s?.reason)) result.reason = s?.reason
      if (nonEmpty(s?.evaluationError)) result.evaluationError = s?.evaluationError
      return result
    } catch (err) {
      throw reviewProblem('SubjectAccessReview', err)
    }
  }
}

// client-node 2.0.1 takes an AbortSignal only through middleware; a race is
// enough here because a late answer is simply dropped.
async function withTimeout<T> (ms: number, call: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`no answer within ${ms} ms`), { name: 'TimeoutError' })), ms)
  })
  try {
    return await Promise.race([call(), timeout])
  } finally {
    clearTimeout(timer)
  }
}
