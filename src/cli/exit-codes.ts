// Exit codes of the kdebug CLI. Commands that run a process (debug/copy/node
// with -it or `-- COMMAND`, attach) exit with that process's code instead, as
// `kubectl exec` and `kubectl run -i` do; the one-line error on stderr tells a
// CLI failure from a process that happened to exit with the same number.
export const EXIT = {
  ok: 0,
  /** The gateway refused the request (400, 404, 409, 410, 422, 429 …), or a session ended abnormally. */
  failed: 1,
  /** Bad flags or arguments (also: no --server). */
  usage: 2,
  /** Not authenticated: 401, or no credentials found. */
  unauthenticated: 3,
  /** Forbidden: 403 from Kubernetes RBAC (`permission`) or the gateway policy (`rule`). */
  forbidden: 4,
  /** The gateway or the cluster behind it is unavailable: 5xx, connection refused, timeout. */
  unavailable: 5
} as const

/** The exit code for a failed HTTP answer of the gateway. */
export function exitCodeForStatus (status: number): number {
  if (status === 401) return EXIT.unauthenticated
  if (status === 403) return EXIT.forbidden
  if (status >= 500) return EXIT.unavailable
  return EXIT.failed
}
