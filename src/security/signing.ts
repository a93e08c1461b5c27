// Signs and verifies the gateway's own metadata on cluster objects (attribution,
// idempotency, expiry). Labels, annotations and a container's env are writable
// by anyone with `create pods` (or `patch pods/ephemeralcontainers`), so the
// gateway trusts them only when they carry an HMAC made with a key that only
// its replicas hold. Pure apart from the injected random source.
import { createHmac, createSecretKey, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto'

/** Bumped when the canonical encoding changes; old signatures then stop verifying. */
const SIGNATURE_VERSION = 'v1'
/** Domain separation: a MAC made here is never valid for another use of the same key. */
const CONTEXT = 'kdebug-gateway/metadata'
/** HMAC-SHA256 keys shorter than this are guessable; refuse them (RFC 2104 §3: at least the output length). */
export const MIN_KEY_BYTES = 32

/** The signed fields: every attribution field plus what binds them to one object. Absent = undefined. */
export type SignedFields = Readonly<Record<string, string | undefined>>

export interface MetadataSigner {
  /** `v1.<base64url HMAC-SHA256>` over the canonical encoding of `fields`, with the first key. */
  sign (fields: SignedFields): string
  /** True when `signature` was made over exactly these fields with any of the keys. */
  verify (fields: SignedFields, signature: string | undefined): boolean
}

/**
 * Sorted `[name, value]` pairs as JSON: unambiguous (JSON escapes every separator), independent of
 * the order fields were added, and an absent field differs from an empty one.
 */
export function canonicalFields (fields: SignedFields): string {
  const entries = Object.entries(fields).filter((e): e is [string, string] => e[1] !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return JSON.stringify([CONTEXT, SIGNATURE_VERSION, entries])
}

function mac (key: KeyObject, fields: SignedFields): Buffer {
  return createHmac('sha256', key).update(canonicalFields(fields)).digest()
}

export interface SignerOptions {
  /** Signing key first, then keys that still verify (rotation). At least one. */
  keys: readonly Buffer[]
}

export function createSigner (opts: SignerOptions): MetadataSigner {
  if (opts.keys.length === 0) throw new Error('metadata signer: no key')
  for (const k of opts.keys) if (k.length < MIN_KEY_BYTES) throw new Error(`metadata signer: keys must have at least ${MIN_KEY_BYTES} bytes`)
  // KeyObjects, made once: createHmac turns a Buffer key into one on every call (about 5× the
  // cost of the MAC itself at these sizes), and every create signs and every session read verifies.
  const keys = opts.keys.map(k => createSecretKey(Buffer.from(k)))
  const prefix = `${SIGNATURE_VERSION}.`
  return {
    sign (fields) {
      return prefix + mac(keys[0] as KeyObject, fields).toString('base64url')
    },
    verify (fields, signature) {
      if (typeof signature !== 'string' || !signature.startsWith(prefix) || signature.length > 128) return false
      const given = Buffer.from(signature.slice(prefix.length), 'base64url')
      if (given.length !== 32) return false
      // Every key is tried (no early exit), so timing does not tell which key matched.
      let ok = false
      for (const k of keys) if (timingSafeEqual(mac(k, fields), given)) ok = true
      return ok
    }
  }
}

/** A key as configured: text (used as its UTF-8 bytes, e.g. `openssl rand -hex 32`). */
export function keyFromConfig (text: string): Buffer {
  return Buffer.from(text, 'utf8')
}

export interface SigningConfig {
  signingKey?: string
  verificationKeys: string[]
}

/** One signer per configuration object: every feature of a process signs and verifies alike. */
const signers = new WeakMap<SigningConfig, MetadataSigner>()

/**
 * The signer of this process: the configured keys, or a random per-process key when none is
 * configured (a single process: the demo, tests). main.ts refuses to start without a key unless
 * explicitly told otherwise (see requireSigningKey in config.ts), since replicas with different
 * keys cannot verify each other's sessions. The same config object always yields the same
 * signer, so features that are wired separately (debug sessions, attach policy) share the
 * random key too.
 */
export function signerFromConfig (config: SigningConfig, random: (n: number) => Buffer = randomBytes): MetadataSigner {
  const known = signers.get(config)
  if (known !== undefined) return known
  const first = config.signingKey === undefined || config.signingKey === '' ? random(MIN_KEY_BYTES) : keyFromConfig(config.signingKey)
  const signer = createSigner({ keys: [first, ...config.verificationKeys.filter(k => k !== '').map(keyFromConfig)] })
  signers.set(config, signer)
  return signer
}
