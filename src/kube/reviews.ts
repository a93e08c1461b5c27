// TokenReview and SubjectAccessReview: the two calls authentication and
// authorization make to the API server, behind an interface so tests use a
// fake. Failures become ProblemErrors here and nowhere else in the auth layer:
// an unreachable or overloaded API server is a 503 with Retry-After, the
// gateway's own credentials being refused is a 502; nothing ever carries the
// reviewed token, the request headers or the upstream's error text.
//
// The calls go through the gateway's one upstream transport (transport.ts), not
// client-node's generated AuthenticationV1Api/AuthorizationV1Api: those build a
// new, non-keep-alive agent per call (KubeConfig.applySecurityAuthentication →
// createAgent), i.e. a TCP connection and a TLS handshake per review — on the
// hottest path of a gateway whose callers bring new tokens.
import type { KubeConfig, V1SubjectAccessReview, V1TokenReview } from '@kubernetes/client-node'
import { ProblemError, Problems } from '../errors.ts'
import type { Principal, ResourceAttributes } from './user-info.ts'
import { parseStatusBody, toProblem } from './errors.ts'
import { MAX_ERROR_BODY, NoClusterError, openKubeRequest, readBody, readJson } from './transport.ts'

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

/** A non-2xx answer to a review call: its code, body (a Status, normally) and Retry-After header. */
export class ReviewAnswerError extends Error {
  readonly code: number
  readonly body: string
  readonly retryAfter: string | undefined

  constructor (code: number, body: string, retryAfter?: string) {
    super(`the API server answered ${code}`)
    this.name = 'ReviewAnswerError'
    this.code = code
    this.body = body
    this.retryAfter = retryAfter
  }
}

/**
 * A failed review call → ProblemError. Unlike the general mapping, 4xx answers are
 * never passed through: a 403 here means the gateway's service account may not create
 * reviews — not that the caller is forbidden — and a 404 means the API is not served.
 */
export function reviewProblem (what: 'TokenReview' | 'SubjectAccessReview', err: unknown): ProblemError {
  if (err instanceof ProblemError) return err
  if (err instanceof ReviewAnswerError) {
    const code = err.code
    const status = parseStatusBody(err.body)
    // A sanitized cause for the logs: only the code and the Status reason.
    const cause = new Error(`${what}: the API server answered ${code}${status?.reason ? ` (${status.reason})` : ''}`)
    if (code === 429 || code >= 500) {
      const fromHeader = Number.parseInt(err.retryAfter ?? '', 10)
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
  if (err instanceof NoClusterError) return Problems.upstreamUnavailable(err.message, { retryAfter: UPSTREAM_RETRY_AFTER_SECONDS })
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

/** ReviewClient over the gateway's upstream transport, authenticated as the gateway's own service account. */
export class KubeReviewClient implements ReviewClient {
  private readonly kubeConfig: KubeConfig
  private readonly timeoutMs: number

  constructor (options: KubeReviewClientOptions) {
    this.kubeConfig = options.kubeConfig
    this.timeoutMs = options.timeoutMs ?? 10_000
  }

  async tokenReview (token: string, audiences?: string[]): Promise<TokenReviewResult> {
    const body: V1TokenReview = {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      spec: { token, ...(audiences && audiences.length > 0 ? { audiences } : {}) }
    }
    try {
      return principalFromTokenReview(await this.create<V1TokenReview>('/apis/authentication.k8s.io/v1/tokenreviews', body))
    } catch (err) {
      throw reviewProblem('TokenReview', err)
    }
  }

  async subjectAccessReview (spec: SubjectAccessReviewSpec): Promise<SubjectAccessReviewResult> {
    try {
      const review = await this.create<V1SubjectAccessReview>('/apis/authorization.k8s.io/v1/subjectaccessreviews', subjectAccessReviewBody(spec))
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

  /** POSTs a review (reviews are never stored: the answer is the object with its status). */
  private async create<T> (path: string, body: unknown): Promise<T> {
    // The whole call, answer included, is bounded: a late answer is dropped (503).
    const signal = AbortSignal.timeout(this.timeoutMs)
    const res = await openKubeRequest(this.kubeConfig, path, { method: 'POST', body, signal, idleMs: this.timeoutMs, fieldManager: false })
    // Not a 2xx: mapped by reviewProblem (a 403 here is the gateway's own RBAC, not the caller's).
    return await readJson<T>(res, async (r) => {
      const retryAfter = r.headers['retry-after']
      return new ReviewAnswerError(r.statusCode ?? 0, await readBody(r, MAX_ERROR_BODY), Array.isArray(retryAfter) ? retryAfter[0] : retryAfter)
    })
  }
}
