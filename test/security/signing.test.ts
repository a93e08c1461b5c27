// The metadata signer and the signing key's configuration: tampering with any
// field, a copy onto another object, another key, rotation, and the start-up
// refusal without a key.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { canonicalFields, createSigner, signerFromConfig } from '../../src/security/signing.ts'
import { ConfigError, loadConfig, requireSigningKey } from '../../src/config.ts'

const key = (n: number): Buffer => Buffer.alloc(32, n)
const fields = { sessionId: 's1', requestedBy: 'alice', namespace: 'demo', pod: 'web', container: 'debugger-abcde', kind: 'ephemeral', image: 'busybox:1.36' }

test('a signature verifies for exactly the signed fields', () => {
  const s = createSigner({ keys: [key(1)] })
  const sig = s.sign(fields)
  assert.match(sig, /^v1\.[A-Za-z0-9_-]{43}$/)
  assert.equal(s.verify(fields, sig), true)
  assert.equal(s.verify({ ...fields }, sig), true, 'key order does not matter')
  // hostile: each field changed, a field added, a field removed, an empty field instead of an absent one
  for (const k of Object.keys(fields)) assert.equal(s.verify({ ...fields, [k]: 'x' }, sig), false, k)
  assert.equal(s.verify({ ...fields, reason: 'x' }, sig), false)
  const { image: _i, ...noImage } = fields
  assert.equal(s.verify(noImage, sig), false)
  assert.equal(s.verify({ ...fields, ticket: '' }, sig), false)
  // hostile signatures
  for (const bad of [undefined, '', 'v1.', 'v2.' + sig.slice(3), sig.slice(0, -2), sig + 'AA', 'v1.' + 'A'.repeat(43), 'x'.repeat(10_000)]) assert.equal(s.verify(fields, bad), false, String(bad).slice(0, 20))
})

test('the encoding is unambiguous: separators inside values cannot shift fields', () => {
  assert.notEqual(canonicalFields({ a: 'b","c', d: 'e' }), canonicalFields({ a: 'b', c: '","d', d: 'e' }))
  const s = createSigner({ keys: [key(1)] })
  assert.equal(s.verify({ requestedBy: 'alice', reason: 'x' }, s.sign({ requestedBy: 'alicereason', reason: 'x' })), false)
})

test('another key does not verify; rotation keeps old signatures valid, new ones use the first key', () => {
  const old = createSigner({ keys: [key(1)] })
  const other = createSigner({ keys: [key(2)] })
  const rotated = createSigner({ keys: [key(2), key(1)] })
  const sig = old.sign(fields)
  assert.equal(other.verify(fields, sig), false)
  assert.equal(rotated.verify(fields, sig), true)
  assert.equal(rotated.sign(fields), other.sign(fields))
  assert.throws(() => createSigner({ keys: [Buffer.alloc(16)] }), /32 bytes/)
  assert.throws(() => createSigner({ keys: [] }), /no key/)
})

test('config: security.signingKey from env, too short refused (without echoing it), required by the process entry', () => {
  const k = 'k'.repeat(40)
  const c = loadConfig({ KDEBUG_SECURITY_SIGNING_KEY: k, KDEBUG_SECURITY_VERIFICATION_KEYS: 'o'.repeat(40) })
  assert.equal(c.security.signingKey, k)
  assert.deepEqual(c.security.verificationKeys, ['o'.repeat(40)])
  assert.doesNotThrow(() => requireSigningKey(c))
  const short = 'short-secret-value'
  assert.throws(() => loadConfig({ KDEBUG_SECURITY_SIGNING_KEY: short }), (err: Error) => err instanceof ConfigError && /security\.signingKey/.test(err.message) && !err.message.includes(short))
  assert.throws(() => requireSigningKey(loadConfig({})), (err: Error) => err instanceof ConfigError && /KDEBUG_SECURITY_SIGNING_KEY/.test(err.message))
  assert.doesNotThrow(() => requireSigningKey(loadConfig({ KDEBUG_SECURITY_ALLOW_EPHEMERAL_KEY: 'true' })))
  // same configured key → same signatures (replicas); none configured → a random key per process
  assert.equal(signerFromConfig(c.security).sign(fields), signerFromConfig(c.security).sign(fields))
  assert.notEqual(signerFromConfig({ verificationKeys: [] }).sign(fields), signerFromConfig({ verificationKeys: [] }).sign(fields))
  // one config object, one random key: separately wired features verify each other's signatures
  const shared = { verificationKeys: [] }
  assert.equal(signerFromConfig(shared), signerFromConfig(shared))
})
