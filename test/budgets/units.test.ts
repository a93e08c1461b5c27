// The budget building blocks, with an injected clock.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ApiException } from '@kubernetes/client-node'
import { AuditVolumeBudget } from '../../src/budgets/audit-volume.ts'
import { StreamBudget } from '../../src/budgets/streams.ts'
import { TokenBuckets } from '../../src/budgets/token-bucket.ts'
import { budgetKeys } from '../../src/budgets/keys.ts'
import { loggableError } from '../../src/plugins/error-log.ts'
import { Problems } from '../../src/errors.ts'

const alice = [{ key: 'user:alice', factor: 1 }]

test('stream budget: the limit holds, releases are idempotent, nothing is left behind', () => {
  const b = new StreamBudget(2)
  const r1 = b.tryAcquire(alice)
  const r2 = b.tryAcquire(alice)
  assert.ok(r1 && r2)
  assert.equal(b.tryAcquire(alice), undefined)
  r1()
  r1()
  assert.equal(b.held('user:alice'), 1)
  assert.ok(b.tryAcquire([{ key: 'user:bob', factor: 1 }]), 'others are unaffected')
  r2()
  assert.equal(b.held('user:alice'), 0)
})

test('stream budget: a delegated stream needs room on both the user and the bot', () => {
  const b = new StreamBudget(1)
  const keys = budgetKeys({ user: 'alice', groups: [], method: 'tokenreview', actor: { user: 'bot', groups: [] } } as never, 2)
  assert.deepEqual(keys.map(k => k.key), ['user:alice', 'user:bot'])
  assert.ok(b.tryAcquire(keys))
  assert.equal(b.tryAcquire(keys), undefined, 'alice is full')
  assert.equal(b.held('user:bot'), 1)
})

test('token bucket: burst, then the rate; the wait is reported in whole seconds', () => {
  let now = 0
  const t = new TokenBuckets({ ratePerMinute: 60, burst: 3, clock: () => now })
  for (let i = 0; i < 3; i++) assert.equal(t.take(alice), 0)
  assert.equal(t.take(alice), 1)
  now += 500
  assert.equal(t.take(alice), 1)
  now += 500
  assert.equal(t.take(alice), 0)
  now += 3_600_000
  for (let i = 0; i < 3; i++) assert.equal(t.take(alice), 0)
  assert.equal(t.take(alice), 1, 'refill is capped at the burst')
})

test('audit volume: refusals past the budget are counted, the first flagged, summarised when the window ends', () => {
  let now = 0
  const v = new AuditVolumeBudget({ limitPerMinute: 2, clock: () => now })
  v.note(alice)
  assert.deepEqual(v.admit(alice), { ok: true })
  v.note(alice)
  assert.deepEqual(v.admit(alice), { ok: false, retryAfterSeconds: 60, first: true })
  now += 30_000
  assert.deepEqual(v.admit(alice), { ok: false, retryAfterSeconds: 30, first: false })
  assert.deepEqual(v.drain(), [])
  now += 30_000
  assert.deepEqual(v.admit(alice), { ok: true })
  assert.deepEqual(v.drain(), [{ key: 'user:alice', windowStart: 0, windowEnd: 60_000, refused: 2 }])
  assert.deepEqual(v.drain(), [])
})

test('audit volume: quiet windows are forgotten (memory stays bounded)', () => {
  let now = 0
  const v = new AuditVolumeBudget({ limitPerMinute: 2, clock: () => now })
  for (let i = 0; i < 100; i++) v.note([{ key: `user:u${i}`, factor: 1 }])
  assert.equal(v.tracked, 100)
  now += 60_000
  v.drain()
  assert.equal(v.tracked, 0)
})

test('logged errors keep their stack; ApiException messages (which embed headers) are reduced to the code', () => {
  const api = new ApiException(500, 'Message: boom\nHTTP response body: {}\nHTTP response headers: {"authorization":"Bearer abcdefghijklmnopqrstuvwxyz"}', '{}', { authorization: 'Bearer abcdefghijklmnopqrstuvwxyz' })
  const wrapped = Problems.internal(undefined, {}, { cause: api })
  const logged = loggableError(wrapped)
  assert.match(logged.stack, /\n\s+at /)
  assert.equal(logged.cause?.message, 'HTTP-Code: 500')
  assert.doesNotMatch(JSON.stringify(logged), /abcdefghijklmnop|headers/)
  const plain = loggableError(new Error('token Bearer abcdefghijklmnopqrstuvwxyz0123 leaked'))
  assert.doesNotMatch(JSON.stringify(plain), /abcdefghijklmnop/)
  assert.match(plain.stack, /\n\s+at /)
})
