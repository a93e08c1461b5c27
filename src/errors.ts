// One catalogue of the gateway's errors. Routes and services just `throw`;
// the error handler (src/plugins/problem.ts) renders every one of them as
// application/problem+json (RFC 9457). Codes are GW_SNAKE_CASE and double as
// the last segment of the problem `type` URI, so clients can branch on them.

export const PROBLEM_TYPE_BASE = 'https://kdebug.dev/problems/'

export interface FieldProblem {
  /** JSON pointer-ish path of the offending field, e.g. `/body/capabilities/add/0`. */
  field: string
  message: string
}

export interface ProblemExtras {
  errors?: FieldProblem[]
  /** Kubernetes `Status.reason` when the problem came from the API server. */
  kubernetesReason?: string
  /** The permission that was missing (`patch pods/ephemeralcontainers in demo`). */
  permission?: string
  /** The policy rule that decided. */
  rule?: string
  /** Seconds, rendered as the Retry-After header. */
  retryAfter?: number
  /** Extra headers to send (e.g. WWW-Authenticate). */
  headers?: Record<string, string>
  [key: string]: unknown
}

export class ProblemError extends Error {
  readonly code: string
  readonly status: number
  readonly title: string
  readonly detail: string
  readonly extras: ProblemExtras

  constructor (code: string, status: number, title: string, detail: string, extras: ProblemExtras = {}, options?: { cause?: unknown }) {
    super(detail, options)
    this.name = 'ProblemError'
    this.code = code
    this.status = status
    this.title = title
    this.detail = detail
    this.extras = extras
  }

  get type (): string { return PROBLEM_TYPE_BASE + this.code.toLowerCase().replace(/^gw_/, '').replaceAll('_', '-') }
}

type Factory = (detail?: string, extras?: ProblemExtras, options?: { cause?: unknown }) => ProblemError

function define (code: string, status: number, title: string, defaultDetail: string): Factory & { code: string, status: number } {
  const f = (detail?: string, extras?: ProblemExtras, options?: { cause?: unknown }) =>
    new ProblemError(code, status, title, detail ?? defaultDetail, extras, options)
  return Object.assign(f, { code, status })
}

export const Problems = {
  validation: define('GW_VALIDATION', 400, 'Invalid request', 'The request is not valid.'),
  badRequest: define('GW_BAD_REQUEST', 400, 'Bad request', 'The request cannot be processed.'),
  unauthenticated: define('GW_UNAUTHENTICATED', 401, 'Authentication required', 'A valid bearer token is required.'),
  forbidden: define('GW_FORBIDDEN', 403, 'Forbidden', 'You are not allowed to do this.'),
  impersonationForbidden: define('GW_IMPERSONATION_FORBIDDEN', 403, 'Impersonation not allowed', 'You may not act on behalf of this user or group.'),
  policyDenied: define('GW_POLICY_DENIED', 403, 'Denied by policy', 'The gateway policy does not allow this request.'),
  originForbidden: define('GW_ORIGIN_FORBIDDEN', 403, 'Origin not allowed', 'This origin may not open streams.'),
  notFound: define('GW_NOT_FOUND', 404, 'Not found', 'The resource does not exist.'),
  routeNotFound: define('GW_ROUTE_NOT_FOUND', 404, 'Not found', 'No such endpoint.'),
  methodNotAllowed: define('GW_METHOD_NOT_ALLOWED', 405, 'Method not allowed', 'This method is not supported on this endpoint.'),
  notAcceptable: define('GW_NOT_ACCEPTABLE', 406, 'Not acceptable', 'The requested media type cannot be produced.'),
  conflict: define('GW_CONFLICT', 409, 'Conflict', 'The request conflicts with the current state.'),
  containerNotRunning: define('GW_CONTAINER_NOT_RUNNING', 409, 'Container not running', 'The container is not running, so it cannot be attached to.'),
  gone: define('GW_GONE', 410, 'Gone', 'The resource is gone.'),
  requestTimeout: define('GW_REQUEST_TIMEOUT', 408, 'Request timeout', 'The request was not received in time.'),
  payloadTooLarge: define('GW_PAYLOAD_TOO_LARGE', 413, 'Payload too large', 'The request body is too large.'),
  uriTooLong: define('GW_URI_TOO_LONG', 414, 'URI too long', 'The request URL is too long.'),
  unsupportedMediaType: define('GW_UNSUPPORTED_MEDIA_TYPE', 415, 'Unsupported media type', 'The request body must be application/json.'),
  unprocessable: define('GW_UNPROCESSABLE', 422, 'Unprocessable request', 'The request is well-formed but cannot be applied.'),
  idempotencyMismatch: define('GW_IDEMPOTENCY_KEY_REUSED', 422, 'Idempotency key reused', 'This Idempotency-Key was used with a different request body.'),
  tooManyRequests: define('GW_TOO_MANY_REQUESTS', 429, 'Too many requests', 'Try again later.'),
  headersTooLarge: define('GW_HEADERS_TOO_LARGE', 431, 'Request headers too large', 'The request headers are too large.'),
  internal: define('GW_INTERNAL', 500, 'Internal error', 'The gateway failed to process the request.'),
  badGateway: define('GW_UPSTREAM_ERROR', 502, 'Upstream error', 'The Kubernetes API server returned an unexpected answer.'),
  unavailable: define('GW_UNAVAILABLE', 503, 'Service unavailable', 'The service is temporarily unavailable.'),
  upstreamUnavailable: define('GW_UPSTREAM_UNAVAILABLE', 503, 'Kubernetes API unavailable', 'The Kubernetes API server cannot be reached.'),
  auditUnavailable: define('GW_AUDIT_UNAVAILABLE', 503, 'Audit log unavailable', 'The audit log cannot be written; mutating requests are refused.'),
  upstreamTimeout: define('GW_UPSTREAM_TIMEOUT', 504, 'Upstream timeout', 'The Kubernetes API server did not answer in time.')
} as const

export function isProblemError (err: unknown): err is ProblemError {
  return err instanceof ProblemError
}
