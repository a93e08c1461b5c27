// The guard that keeps secrets out of the audit trail. The entry types have
// no secret fields, but `request` and `outcome` are open-ended, so a caller
// could pass a body through by mistake. A record is permanent and replicated,
// so this strips rather than trusts:
// - keys that name credentials (token, authorization, password, cookie,
//   secret, api keys, stream-ticket values…) are dropped at any depth;
// - `env` keeps variable names only (values and valueFrom are dropped);
// - strings that look like bearer credentials (`Bearer …`, JWTs) are masked.
// A change ticket reference (`ticket`, e.g. "JIRA-123") is not a secret and stays.

const SECRET_KEY = /^(?:token|authorization|proxy[-_]?authorization|password|passwd|passphrase|secret|client[-_]?secret|cookie|set[-_]?cookie|api[-_]?key|x[-_]?api[-_]?key|(?:access|refresh|id|bearer|auth|session|stream)[-_]?token|ticket[-_]?value|stream[-_]?ticket|private[-_]?key|credentials?)$/i
/** Deeper than any real entry; also what stops a cyclic object. */
const MAX_DEPTH = 32

// Long enough not to eat prose ("the Bearer of bad news" is a reason, not a credential).
// The gateway takes Bearer tokens only; headers named authorization are dropped whole anyway.
const BEARER = /\b(Bearer)\s+[A-Za-z0-9._~+/=-]{20,}/gi
const JWT = /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g
const MASK = '[REDACTED]'

// Records repeat the same few dozen keys, so the regex verdict is remembered
// per key; the bound keeps caller-chosen keys from growing it without limit.
const secretKeyVerdicts = new Map<string, boolean>()
const MAX_REMEMBERED_KEYS = 4096

export function isSecretKey (key: string): boolean {
  let secret = secretKeyVerdicts.get(key)
  if (secret === undefined) {
    secret = SECRET_KEY.test(key)
    if (secretKeyVerdicts.size < MAX_REMEMBERED_KEYS) secretKeyVerdicts.set(key, secret)
  }
  return secret
}

const MAYBE_CREDENTIAL = /bearer|eyJ/i

function maskString (s: string): string {
  if (s.length < 16 || !MAYBE_CREDENTIAL.test(s)) return s
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

/**
 * A deep copy of `value` with secrets removed. Pure; anything nested
 * deeper than 32 levels (e.g. a cycle) becomes `"[Too deep]"`. Like chain.sortKeysDeep, objects come out with sorted keys
 * and no `undefined` members, so the writer can serialise the copy directly.
 */
export function redactSecrets<T> (value: T): T {
  return redactValue(value, 0) as T
}

/**
 * redactSecrets of one member of an object (what `redactSecrets(obj)[key]`
 * would hold), or undefined when the member is dropped. Lets the writer build
 * a record's top level in canonical order without copying the entry twice.
 */
export function redactMember (key: string, value: unknown): unknown {
  return redactMemberAt(key, value, 1)
}

/** One object member at `depth`: dropped (undefined) when absent or secret-named; env shows names only. */
function redactMemberAt (key: string, value: unknown, depth: number): unknown {
  if (value === undefined || isSecretKey(key)) return undefined
  return key === 'env' ? envNames(value) : redactValue(value, depth)
}

function redactValue (value: unknown, depth: number): unknown {
  if (typeof value === 'string') return maskString(value)
  if (typeof value === 'bigint') return value.toString()
  if (value === null || typeof value !== 'object') return value
  if (depth >= MAX_DEPTH) return '[Too deep]'
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1))
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return redactValue((value as { toJSON: () => unknown }).toJSON(), depth + 1)
  }
  const obj: Record<string, unknown> = {}
  for (const key of Object.keys(value).sort()) {
    const v = redactMemberAt(key, (value as Record<string, unknown>)[key], depth + 1)
    if (v !== undefined) obj[key] = v
  }
  return obj
}
