// The guard that keeps secrets out of the audit trail. The entry types have
// no secret fields, but `request` and `outcome` are open-ended, so a caller
// could pass a body through by mistake. A record is permanent and replicated,
// so this strips rather than trusts:
// - keys that name credentials (token, authorization, password, cookie,
//   secret, api keys, stream-ticket values…) are dropped at any depth;
// - `env` keeps variable names only (values and valueFrom are dropped);
// - strings that look like bearer credentials (`Bearer …`, JWTs) are masked.
// A change ticket reference (`ticket`, e.g. "JIRA-123") is not a secret and stays.

const SECRET_KEY = /^(?:token|authorization|proxy-?authorization|password|passwd|passphrase|secret|client-?secret|cookie|set-?cookie|api-?key|x-?api-?key|(?:access|refresh|id|bearer|auth|session|stream)-?token|ticket-?value|stream-?ticket|private-?key|credentials?)$/i

const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi
const JWT = /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g
const MASK = '[REDACTED]'

export function isSecretKey (key: string): boolean {
  return SECRET_KEY.test(key.replaceAll('_', '-'))
}

function maskString (s: string): string {
  if (s.length < 16) return s
  return s.replace(BEARER, `$1 ${MASK}`).replace(JWT, MASK)
}

function envNames (env: unknown): unknown {
  if (Array.isArray(env)) {
    return env.map((e) => {
      if (e !== null && typeof e === 'object' && typeof (e as { name?: unknown }).name === 'string') return { name: (e as { name: string }).name }
      return typeof e === 'string' ? e.split('=')[0] : null
    })
  }
  if (env !== null && typeof env === 'object') return Object.keys(env).map((name) => ({ name }))
  return undefined
}

/** A deep copy of `value` with secrets removed. Pure; cycles become `"[Circular]"`. */
export function redactSecrets<T> (value: T): T {
  return redactValue(value, new WeakSet()) as T
}

function redactValue (value: unknown, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return maskString(value)
  if (value === null || typeof value !== 'object') return value
  if (seen.has(value)) return '[Circular]'
  seen.add(value)
  let out: unknown
  if (Array.isArray(value)) {
    out = value.map((v) => redactValue(v, seen))
  } else if (value instanceof Date) {
    out = value.toISOString()
  } else {
    const obj: Record<string, unknown> = {}
    for (const [key, v] of Object.entries(value)) {
      if (isSecretKey(key)) continue
      obj[key] = key === 'env' ? envNames(v) : redactValue(v, seen)
    }
    out = obj
  }
  seen.delete(value)
  return out
}
