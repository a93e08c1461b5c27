import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { GENESIS_HASH, canonicalBody, canonicalJson, canonicalRecord, hashLine, headFromLine, serializeRecord } from '../../src/audit/chain.ts'
import { redactMember, redactSecrets, isSecretKey } from '../../src/audit/redact.ts'
import { uuidV7 } from '../../src/audit/uuid-v7.ts'
import type { AuditRecord } from '../../src/audit/types.ts'

const base: AuditRecord = {
  prevHash: GENESIS_HASH,
  replica: 'r1',
  id: 'x',
  time: '2026-11-27T10:00:00.000Z',
  seq: 1,
  requestId: 'req-1',
  action: 'ephemeral.create',
  phase: 'request',
  actor: { user: 'alice', groups: ['dev'] },
  request: { image: 'busybox', capabilities: { drop: ['ALL'], add: ['NET_ADMIN'] } }
}

describe('chain serialisation', () => {
  test('genesis is 64 zeros', () => {
    assert.equal(GENESIS_HASH, '0'.repeat(64))
  })

  test('fixed top-level order, prevHash last, nested keys sorted', () => {
    const line = serializeRecord(base)
    assert.ok(line.startsWith('{"seq":1,"time":"2026-11-27T10:00:00.000Z","id":"x","replica":"r1","requestId":"req-1","action":"ephemeral.create","phase":"request","actor":{"groups":["dev"],"user":"alice"}'))
    assert.ok(line.endsWith(`"prevHash":"${GENESIS_HASH}"}`))
    assert.ok(line.includes('"capabilities":{"add":["NET_ADMIN"],"drop":["ALL"]}'))
    assert.deepEqual(JSON.parse(line), base)
  })

  test('the same record in any key order gives the same bytes', () => {
    const shuffled = Object.fromEntries(Object.entries(base).reverse()) as unknown as AuditRecord
    assert.equal(serializeRecord(shuffled), serializeRecord(base))
  })

  test('undefined members are omitted; unknown top-level keys go before prevHash, sorted', () => {
    const line = serializeRecord({ ...base, target: undefined, zeta: 1, alpha: 2 } as unknown as AuditRecord)
    assert.ok(!line.includes('target'))
    assert.ok(line.includes('"alpha":2,"zeta":1,"prevHash"'))
  })

  test('canonicalJson handles nested arrays, null and non-finite numbers', () => {
    assert.equal(canonicalJson({ b: [1, { d: 1, c: null }], a: Infinity }), '{"a":null,"b":[1,{"c":null,"d":1}]}')
  })

  test("the writer's record (canonicalBody of the redacted members, canonicalRecord) serialises to serializeRecord's line", () => {
    const messy = { ...base, outcome: { status: 201, z: 1, a: { y: [{ b: 1, a: 2 }], x: undefined }, 10: 'ten', 2: 'two' }, source: { userAgent: 'curl', ip: '::1' }, zeta: 1, 7: 'seven', alpha: 2, target: undefined } as unknown as AuditRecord
    const reversed = Object.fromEntries(Object.entries(messy).reverse()) as unknown as AuditRecord
    assert.equal(serializeRecord(messy), serializeRecord(reversed), 'key order of the input does not matter')
    const { seq, time, id, replica, prevHash } = messy
    const record = canonicalRecord(seq, time, id, replica, canonicalBody({ ...reversed, seq: 99, prevHash: 'x' }, redactMember), prevHash)
    assert.equal(JSON.stringify(record), serializeRecord(messy))
    assert.equal(JSON.stringify(canonicalRecord(seq, time, id, replica, canonicalBody({ ...messy, token: 'abc' }, redactMember), prevHash)), serializeRecord(messy), 'secret members are dropped')
  })

  test('bigints become strings; Dates ISO strings', () => {
    assert.equal(canonicalJson({ n: 10n, d: new Date(0) }), '{"d":"1970-01-01T00:00:00.000Z","n":"10"}')
    assert.deepEqual(redactSecrets({ n: 10n, d: new Date(0) }), { d: '1970-01-01T00:00:00.000Z', n: '10' })
  })

  test('hashLine is SHA-256 hex of the bytes', () => {
    assert.equal(hashLine('abc'), createHash('sha256').update('abc').digest('hex'))
  })

  test('headFromLine reads seq and hashes the line; rejects non-records', () => {
    const line = serializeRecord(base)
    assert.deepEqual(headFromLine(line), { seq: 1, hash: hashLine(line) })
    assert.throws(() => headFromLine('{"seq":1'), /not valid JSON/)
    assert.throws(() => headFromLine('{"prevHash":"' + GENESIS_HASH + '"}'), /seq/)
    assert.throws(() => headFromLine('{"seq":3,"prevHash":"abc"}'), /prevHash/)
  })
})

describe('secret guard', () => {
  test('drops credential keys at any depth, keeps change tickets', () => {
    const out = redactSecrets({
      request: { token: 't', Authorization: 'Bearer x', password: 'p', ticket: 'JIRA-1', nested: { access_token: 'a', ok: 1 } },
      outcome: { status: 200, headers: { cookie: 'c', 'x-api-key': 'k' } }
    })
    assert.deepEqual(out, { request: { ticket: 'JIRA-1', nested: { ok: 1 } }, outcome: { status: 200, headers: {} } })
    assert.ok(isSecretKey('streamTicket'))
    assert.ok(isSecretKey('ticket_value'))
    assert.ok(!isSecretKey('ticket'))
  })

  test('env keeps names only (list and map forms, also nested in custom)', () => {
    const out = redactSecrets({
      env: [{ name: 'A', value: 's3cret' }, { name: 'B', valueFrom: { secretKeyRef: { name: 'x', key: 'y' } } }],
      custom: { env: { C: 'v' } }
    })
    assert.deepEqual(out, { env: [{ name: 'A' }, { name: 'B' }], custom: { env: [{ name: 'C' }] } })
    assert.ok(!JSON.stringify(out).includes('s3cret'))
  })

  test('masks bearer credentials and JWTs inside strings', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXZhbHVl'
    const out = redactSecrets({ error: `upstream said: Authorization: Bearer abcdefghijklmnopqrstuvwxyz and ${jwt} too` })
    assert.equal(out.error, 'upstream said: Authorization: Bearer [REDACTED] and [REDACTED] too')
    const prose = 'Basic connectivity test, the Bearer of bad news'
    assert.equal(redactSecrets({ reason: prose }).reason, prose)
  })

  test('cycles and absurd depth are cut, not followed', () => {
    const a: Record<string, unknown> = { name: 'a' }
    a.self = a
    const out = JSON.stringify(redactSecrets(a))
    assert.ok(out.includes('[Too deep]'))
  })

  test('returns a copy: the input is not changed', () => {
    const input = { request: { token: 'x' } }
    redactSecrets(input)
    assert.equal(input.request.token, 'x')
  })
})

test('uuidV7 carries the millisecond timestamp and version 7', () => {
  const id = uuidV7(0x0123456789ab)
  assert.match(id, /^01234567-89ab-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  assert.ok(uuidV7(1000) < uuidV7(2000))
})
