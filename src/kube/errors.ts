// The one place where failures of calls to the Kubernetes API server become
// gateway problems. Kubernetes' own answers (403/404/409/422/429) pass through
// with their reason; an unreachable or failing API server is a 503 with
// Retry-After; nothing upstream-internal (headers, URLs with tokens) leaks.
import { Problems, ProblemError, type FieldProblem } from '../errors.ts'

/** metav1.Status as it arrives in an error body. */
export interface KubeStatus {
  kind?: string
  status?: string
  message?: string
  reason?: string
  code?: number
  details?: {
    name?: string
    group?: string
    kind?: string
    causes?: Array<{ reason?: string, message?: string, field?: string }>
    retryAfterSeconds?: number
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED'
])

/** An error body (JSON text, or already parsed) as a Status, if it is one. */
export function parseStatusBody (body: unknown): KubeStatus | undefined {
  let value = body
  if (typeof value === 'string') {
    try { value = JSON.parse(value) } catch { return undefined }
  }
  if (typeof value === 'object' && value !== null && ('reason' in value || 'message' in value || (value as KubeStatus).kind === 'Status')) {
    return value as KubeStatus
  }
  return undefined
}

/**
 * The network error code in an error's cause chain. Only errors that carry one
 * (or are an abort/timeout) are "unreachable"; a local TypeError or RangeError
 * (a programming error, e.g. on an input shape nobody expected) is a 500 and
 * must never be reported as an API server outage.
 */
function networkCode (err: unknown): string | undefined {
  let e: unknown = err
  for (let depth = 0; depth < 4 && typeof e === 'object' && e !== null; depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code
    if ((e as Error).name === 'AbortError' || (e as Error).name === 'TimeoutError') return 'ETIMEDOUT'
    e = (e as { cause?: unknown }).cause
  }
  return undefined
}

export function isUpstreamUnreachable (err: unknown): boolean {
  return networkCode(err) !== undefined
}

function fieldProblems (status: KubeStatus): FieldProblem[] | undefined {
  const causes = status.details?.causes
  if (!causes || causes.length === 0) return undefined
  return causes.map(c => ({ field: c.field ?? '', message: c.message ?? c.reason ?? 'invalid' }))
}

/** Maps an upstream HTTP status + Status body to a problem. */
export function problemFromStatus (code: number, status: KubeStatus | undefined, retryAfterHeader?: string): ProblemError {
  const message = status?.message ?? `the API server answered ${code}`
  const base = { kubernetesReason: status?.reason, errors: fieldProblems(status ?? {}) }
  switch (code) {
    case 400: return Problems.badRequest(message, base)
    case 401: // our own credentials were refused: an operator problem, not the caller's
      return Problems.badGateway('The gateway\'s credentials were rejected by the Kubernetes API server.', { kubernetesReason: status?.reason })
    case 403: return Problems.forbidden(message, base)
    case 404: return Problems.notFound(message, base)
    case 405: return Problems.methodNotAllowed(message, base)
    case 409: return Problems.conflict(message, base)
    case 410: return Problems.gone(message, base)
    case 415: return Problems.badGateway('The Kubernetes API server rejected the request encoding.', base)
    case 422: return Problems.unprocessable(message, base)
    case 429: return Problems.tooManyRequests(message, { ...base, retryAfter: retryAfterSeconds(status, retryAfterHeader) })
    // The API server answered, so it is reachable: its own failure (InternalError,
    // e.g. a panic on an input it did not expect) is a 502, never "cannot be reached".
    case 500: return Problems.badGateway('The Kubernetes API server failed to process the request.', { kubernetesReason: status?.reason })
    case 502: // a proxy in front of the API server could not reach it
    case 503: return Problems.upstreamUnavailable(undefined, { kubernetesReason: status?.reason, retryAfter: retryAfterSeconds(status, retryAfterHeader) })
    case 504: return Problems.upstreamTimeout(undefined, { kubernetesReason: status?.reason })
    default:
      return Problems.badGateway(undefined, { kubernetesReason: status?.reason })
  }
}

function retryAfterSeconds (status: KubeStatus | undefined, header?: string): number {
  const fromHeader = header ? Number.parseInt(header, 10) : Number.NaN
  if (Number.isFinite(fromHeader) && fromHeader > 0) return fromHeader
  return status?.details?.retryAfterSeconds ?? 1
}

/** Any error thrown by a call to the API server → ProblemError. Never rethrows the raw error. */
export function toProblem (err: unknown): ProblemError {
  if (err instanceof ProblemError) return err
  if (isUpstreamUnreachable(err)) return Problems.upstreamUnavailable(undefined, { retryAfter: 5 }, { cause: err })
  return Problems.internal(undefined, {}, { cause: err })
}
