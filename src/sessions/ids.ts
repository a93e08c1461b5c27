// Session ids and the hashes that make Idempotency-Key work across replicas.
// Pure apart from the injected clock/random source.
import { createHash } from 'node:crypto'

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789'
/** Date.now() in base 36 is 8–9 characters until the year 2059; padded so ids sort by time. */
const TIME_CHARS = 9
const RANDOM_CHARS = 7

/**
 * A short, label-safe session id: creation time (ms, base 36) then random characters. The
 * time part lets any replica tell when an ephemeral session began (containers have no
 * creation timestamp of their own).
 */
export function newSessionId (nowMs: number, rand: () => number = Math.random): string {
  let out = nowMs.toString(36).padStart(TIME_CHARS, '0')
  for (let i = 0; i < RANDOM_CHARS; i++) out += ID_ALPHABET[Math.min(ID_ALPHABET.length - 1, Math.floor(rand() * ID_ALPHABET.length))]
  return out
}

/** When the session with this id was created, or undefined for ids we did not make. */
export function sessionCreatedAt (id: string): Date | undefined {
  if (id.length !== TIME_CHARS + RANDOM_CHARS || !/^[a-z0-9]+$/.test(id)) return undefined
  const ms = Number.parseInt(id.slice(0, TIME_CHARS), 36)
  return Number.isFinite(ms) ? new Date(ms) : undefined
}

function sha256 (text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

/**
 * The Idempotency-Key as stored on the object: hashed with the user so one user's key
 * never matches another's, and the raw key (which clients may derive from secrets) is
 * never written to the cluster.
 */
export function idempotencyKeyHash (user: string, key: string): string {
  return sha256(`${user}\n${key}`).slice(0, 40)
}

/** JSON with object keys sorted, so `{a,b}` and `{b,a}` hash the same. */
export function canonicalJson (value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value)
}

/** Hash of what was asked (action, target and body): a retry must match it exactly. */
export function requestHash (action: string, target: string, body: unknown): string {
  return sha256(`${action}\n${target}\n${canonicalJson(body)}`).slice(0, 40)
}
