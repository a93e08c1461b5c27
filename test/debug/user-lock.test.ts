// The per-user lock's Lease protocol against a scripted lease store: create,
// take over an expired lease (never a live one), release by delete with the
// resourceVersion, a 503 when another holder keeps it, one user never blocks
// another on this replica.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { UserLock, leaseName } from '../../src/debug/user-lock.ts'
import type { Lease, LeaseClient } from '../../src/kube/lease-client.ts'
import { Problems, isProblemError } from '../../src/errors.ts'

const NOW = Date.UTC(2026, 11, 6, 4, 0, 0)

/** What the create path does with a hold: work under it, answer, release off the answer's path. */
async function runLocked<T> (l: UserLock, user: string, fn: () => Promise<T>): Promise<T> {
  const held = await l.hold(user)
  try {
    const value = await fn()
    held.release().catch(() => undefined)
    return value
  } catch (err) {
    await held.release()
    throw err
  }
}

function store (): LeaseClient & { leases: Map<string, Lease>, calls: string[] } {
  const leases = new Map<string, Lease>()
  const calls: string[] = []
  let rv = 1
  return {
    leases,
    calls,
    async get (_ns, name) {
      calls.push('get')
      const l = leases.get(name)
      if (!l) throw Problems.notFound('not found', { kubernetesReason: 'NotFound' })
      return structuredClone(l)
    },
    async create (lease) {
      calls.push('create')
      if (leases.has(lease.metadata.name)) throw Problems.conflict('exists', { kubernetesReason: 'AlreadyExists' })
      const l = { ...structuredClone(lease), metadata: { ...lease.metadata, resourceVersion: String(++rv) } }
      leases.set(l.metadata.name, l)
      return structuredClone(l)
    },
    async update (lease) {
      calls.push('update')
      const cur = leases.get(lease.metadata.name)
      if (!cur || cur.metadata.resourceVersion !== lease.metadata.resourceVersion) throw Problems.conflict('modified', { kubernetesReason: 'Conflict' })
      const l = { ...structuredClone(lease), metadata: { ...lease.metadata, resourceVersion: String(++rv) } }
      leases.set(l.metadata.name, l)
      return structuredClone(l)
    },
    async delete (_ns, name, resourceVersion) {
      calls.push('delete')
      const cur = leases.get(name)
      if (!cur || cur.metadata.resourceVersion !== resourceVersion) throw Problems.conflict('modified', { kubernetesReason: 'Conflict' })
      leases.delete(name)
    }
  }
}

function held (name: string, renewMs: number, holder = 'other-replica_x'): Lease {
  const t = new Date(renewMs).toISOString()
  return { metadata: { name, namespace: 'kdebug', resourceVersion: '1' }, spec: { holderIdentity: holder, leaseDurationSeconds: 60, acquireTime: t, renewTime: t } }
}

function lock (leases: LeaseClient, clock: { now: number }): UserLock {
  // waiting advances the injected clock instead of time passing
  return new UserLock({ leases, namespace: 'kdebug', identity: 'r1', leaseSeconds: 60, acquireTimeoutMs: 5000, clock: () => clock.now, delay: async (ms) => { clock.now += ms } })
}

test('create, run, release: the lease exists exactly while the function runs', async () => {
  const s = store()
  const clock = { now: NOW }
  let during: Lease | undefined
  assert.equal(await runLocked(lock(s, clock), 'alice@example.com', async () => { during = s.leases.get(leaseName('alice@example.com')); return 7 }), 7)
  assert.match(during?.spec.holderIdentity ?? '', /^r1_/)
  assert.equal(s.leases.size, 0)
  assert.deepEqual(s.calls, ['create', 'delete'], 'a free user takes the lease with one call (create first, no read)')
  assert.match(leaseName('ALICE with spaces/../x'), /^kdebug-user-[0-9a-f]{40}$/)
})

test('a lease deleted between our AlreadyExists and our read is created again at once', async () => {
  const s = store()
  const clock = { now: NOW }
  const name = leaseName('dave')
  s.leases.set(name, held(name, NOW))
  const get = s.get.bind(s)
  s.get = async (ns, n) => { s.leases.delete(name); return await get(ns, n) } // the holder releases just then
  let waited = false
  const l = new UserLock({ leases: s, namespace: 'kdebug', identity: 'r1', leaseSeconds: 60, acquireTimeoutMs: 5000, clock: () => clock.now, delay: async () => { waited = true } })
  const holder = await runLocked(l, 'dave', async () => s.leases.get(name)?.spec.holderIdentity)
  assert.match(holder ?? '', /^r1_/)
  assert.deepEqual(s.calls, ['create', 'get', 'create', 'delete'])
  assert.equal(waited, false)
})

test('an expired lease (crashed holder) is taken over; a live one is waited for and then a 503', async () => {
  const s = store()
  const clock = { now: NOW }
  const name = leaseName('alice')
  s.leases.set(name, held(name, NOW - 61_000))
  assert.equal(await runLocked(lock(s, clock), 'alice', async () => 'ran'), 'ran')
  assert.ok(s.calls.includes('update'))

  s.leases.set(name, held(name, NOW + 3_600_000))
  let ran = false
  await assert.rejects(runLocked(lock(s, clock), 'alice', async () => { ran = true }), (err: unknown) => isProblemError(err) && err.status === 503 && err.extras.retryAfter === 1)
  assert.equal(ran, false)
  assert.equal(s.leases.get(name)?.spec.holderIdentity, 'other-replica_x', 'a live lease is never taken')
})

test('a lease released by its holder while we wait is then taken', async () => {
  const s = store()
  const clock = { now: NOW }
  const name = leaseName('bob')
  s.leases.set(name, held(name, NOW))
  const l = new UserLock({ leases: s, namespace: 'kdebug', identity: 'r1', leaseSeconds: 60, acquireTimeoutMs: 5000, clock: () => clock.now, delay: async () => { s.leases.delete(name) } })
  assert.equal(await runLocked(l, 'bob', async () => 'after release'), 'after release')
})

test('the function\'s error propagates and the lease is still released; users do not block each other', async () => {
  const s = store()
  const clock = { now: NOW }
  const l = lock(s, clock)
  await assert.rejects(runLocked(l, 'alice', async () => { throw new Error('boom') }), /boom/)
  assert.equal(s.leases.size, 0)
  let release!: () => void
  const gate = new Promise<void>(resolve => { release = resolve })
  const order: string[] = []
  const slow = runLocked(l, 'alice', async () => { await gate; order.push('first') })
  const second = runLocked(l, 'alice', async () => { order.push('second') })
  assert.equal(await runLocked(l, 'carol', async () => 'carol'), 'carol', 'carol is not queued behind alice')
  assert.deepEqual(order, [], 'alice\'s second create waits for her first')
  release()
  await Promise.all([slow, second])
  assert.deepEqual(order, ['first', 'second'])
})

test('the result does not wait for the lease delete; the same user\'s next run does, and idle() waits for it', async () => {
  const s = store()
  const clock = { now: NOW }
  const l = lock(s, clock)
  let landDelete!: () => void
  const deleteGate = new Promise<void>(resolve => { landDelete = resolve })
  const del = s.delete.bind(s)
  s.delete = async (ns, name, rv) => { await deleteGate; await del(ns, name, rv) }
  const name = leaseName('erin')
  const answered: string[] = []
  const first = runLocked(l, 'erin', async () => 'created').then(v => { answered.push(v) })
  for (let turn = 0; turn < 100 && answered.length === 0; turn++) await new Promise(resolve => setImmediate(resolve))
  assert.deepEqual(answered, ['created'], 'answered while the lease is still being released')
  assert.ok(s.leases.has(name))
  const order: string[] = []
  const next = runLocked(l, 'erin', async () => { order.push('second') })
  const idle = l.idle().then(() => { order.push('idle') })
  await new Promise(resolve => setImmediate(resolve))
  assert.deepEqual(order, [], 'the next run waits for the release')
  assert.deepEqual(s.calls, ['create'])
  landDelete()
  await Promise.all([first, next, idle])
  assert.deepEqual(order, ['second', 'idle'])
  assert.deepEqual(s.calls, ['create', 'delete', 'create', 'delete'], 'no AlreadyExists: the next run found the lease gone')
  assert.equal(s.leases.size, 0)
})

test('fresh() renews a lease taken more than a quarter of its duration ago (and only then); a lease taken over meanwhile is a 503', async () => {
  const s = store()
  const clock = { now: NOW }
  const l = lock(s, clock)
  const name = leaseName('frank')
  const held = await l.hold('frank')
  await held.fresh()
  assert.deepEqual(s.calls, ['create'], 'just taken: nothing to renew')
  clock.now += 15_001 // 60 s lease
  await held.fresh()
  assert.deepEqual(s.calls, ['create', 'update'])
  assert.equal(s.leases.get(name)?.spec.renewTime, new Date(clock.now).toISOString().replace(/Z$/, '000Z'))
  await held.release()
  assert.deepEqual(s.calls, ['create', 'update', 'delete'], 'released with the renewed resourceVersion')
  assert.equal(s.leases.size, 0)

  const again = await l.hold('frank')
  clock.now += 20_000
  s.leases.set(name, held_(name, clock.now)) // another replica took it over (it judged ours expired)
  await assert.rejects(again.fresh(), (err: unknown) => isProblemError(err) && err.status === 503)
  await again.release()
  assert.equal(s.leases.get(name)?.spec.holderIdentity, 'other-replica_x', 'never deletes a lease another replica holds')
})

function held_ (name: string, renewMs: number): Lease {
  return { ...held(name, renewMs), metadata: { name, namespace: 'kdebug', resourceVersion: '99' } }
}
