// The per-user session ledger against a lease store with the API server's
// answers (local-leases.ts): reservations by compare-and-swap, the cluster read
// only to build a missing, unverifiable or full ledger, rebuilds that keep the
// creates possibly in flight, releases, Idempotency-Key reservations, and the
// lock leases of earlier versions waited for.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SessionLedger, LEDGER_ANNOTATION, LEDGER_SIGNATURE_ANNOTATION, decodeEntries, encodeEntries, leaseName, rebuild, type LedgerEntry, type Reservation } from '../../src/sessions/ledger.ts'
import { localLeaseClient } from '../../src/sessions/local-leases.ts'
import type { Lease, LeaseClient } from '../../src/kube/lease-client.ts'
import type { UserSession } from '../../src/sessions/finder.ts'
import { createSigner } from '../../src/security/signing.ts'
import { isProblemError } from '../../src/errors.ts'

const NOW = Date.UTC(2026, 11, 6, 12, 0, 0)
const HOUR = 3600_000
const GRACE = 60_000
const signer = createSigner({ keys: [Buffer.alloc(32, 3)] })

interface Store extends LeaseClient { calls: string[], raw: LeaseClient }

function store (raw: LeaseClient = localLeaseClient()): Store {
  const calls: string[] = []
  return {
    calls,
    raw,
    get: async (ns, name) => { calls.push('get'); return await raw.get(ns, name) },
    create: async (l) => { calls.push('create'); return await raw.create(l) },
    update: async (l) => { calls.push('update'); return await raw.update(l) },
    delete: async (ns, name, rv) => { calls.push('delete'); await raw.delete(ns, name, rv) }
  }
}

function ledger (leases: LeaseClient, clock: { now: number }, o: { acquireTimeoutMs?: number } = {}): SessionLedger {
  // waiting advances the injected clock instead of time passing
  return new SessionLedger({ leases, namespace: 'kdebug', signer, graceMs: GRACE, acquireTimeoutMs: o.acquireTimeoutMs ?? 5000, clock: () => clock.now, delay: async (ms) => { clock.now += ms } })
}

/** The cluster as the LIST shows it, counting its reads. */
function cluster (sessions: UserSession[] = []): { sessions: UserSession[], reads: number, live: () => Promise<UserSession[]> } {
  const c = { sessions, reads: 0, live: async () => { c.reads++; return [...c.sessions] } }
  return c
}

/** A replica's ledger over a fresh lease store, a clock at NOW and the cluster's sessions. */
function fixture (sessions: UserSession[] = []): { s: Store, clock: { now: number }, c: ReturnType<typeof cluster>, l: SessionLedger } {
  const s = store()
  const clock = { now: NOW }
  return { s, clock, c: cluster(sessions), l: ledger(s, clock) }
}

async function reserve (l: SessionLedger, c: ReturnType<typeof cluster>, id: string, o: { limit?: number, user?: string, key?: string, expiresAtMs?: number } = {}): Promise<Reservation> {
  const session = { id, expiresAtMs: o.expiresAtMs ?? NOW + HOUR, ...(o.key === undefined ? {} : { key: o.key }) }
  return await l.reserve({ user: o.user ?? 'alice', session, limit: o.limit ?? 3, inCluster: c.live })
}

async function entries (s: Store, user = 'alice'): Promise<LedgerEntry[]> {
  const lease = await s.raw.get('kdebug', leaseName(user))
  return decodeEntries(lease.metadata.annotations?.[LEDGER_ANNOTATION] ?? '') ?? []
}

test('entries encode compactly and decode back; anything malformed decodes to undefined', () => {
  const e: LedgerEntry[] = [{ id: 'a', expiresAtMs: NOW, reservedAtMs: NOW - 5 }, { id: 'b', expiresAtMs: null, reservedAtMs: NOW, key: 'k1' }]
  assert.deepEqual(decodeEntries(encodeEntries(e)), e)
  for (const bad of ['', '{}', '[1]', '[["a"]]', '[["a","x",1]]', '[["a",1,1,2]]', '[["a",1,1,"k",5]]', '[[1,1,1]]']) assert.equal(decodeEntries(bad), undefined, bad)
})

test('rebuild: the cluster\'s live sessions, plus only the reservations of the grace it does not show at all yet; one it shows ended is gone at once', () => {
  const ledgerEntries: LedgerEntry[] = [
    { id: 'in-cluster', expiresAtMs: NOW + HOUR, reservedAtMs: NOW - 2 * GRACE, key: 'k' },
    { id: 'in-flight', expiresAtMs: NOW + HOUR, reservedAtMs: NOW - GRACE / 2 },
    { id: 'ended', expiresAtMs: NOW + HOUR, reservedAtMs: NOW - 2 * GRACE },
    { id: 'expired-in-flight', expiresAtMs: NOW - 1, reservedAtMs: NOW - 10 },
    { id: 'ended-at-once', expiresAtMs: NOW + HOUR, reservedAtMs: NOW - 10 }
  ]
  const out = rebuild([{ id: 'in-cluster', live: true, expiresAtMs: NOW + HOUR }, { id: 'unknown', live: true, expiresAtMs: NOW + 5 }, { id: 'no-expiry', live: true }, { id: 'ended-at-once', live: false, expiresAtMs: NOW + HOUR }], ledgerEntries, NOW, GRACE)
  assert.deepEqual(out, [
    { id: 'in-cluster', expiresAtMs: NOW + HOUR, reservedAtMs: NOW - 2 * GRACE, key: 'k' },
    { id: 'unknown', expiresAtMs: NOW + 5, reservedAtMs: NOW },
    { id: 'no-expiry', expiresAtMs: null, reservedAtMs: NOW },
    { id: 'in-flight', expiresAtMs: NOW + HOUR, reservedAtMs: NOW - GRACE / 2 }
  ])
})

test('the first create builds the ledger from the cluster; later ones write one update with the resourceVersion they know', async () => {
  const { s, c, l } = fixture([{ id: 'older', live: true, expiresAtMs: NOW + HOUR }])
  assert.equal((await reserve(l, c, 's1')).kind, 'reserved')
  assert.deepEqual(s.calls, ['get', 'create'])
  assert.equal(c.reads, 1)
  s.calls.length = 0
  assert.equal((await reserve(l, c, 's2')).kind, 'reserved')
  assert.deepEqual(s.calls, ['update'], 'no read of the lease, no LIST')
  assert.equal(c.reads, 1)
  assert.deepEqual((await entries(s)).map(e => e.id), ['older', 's1', 's2'])
  const lease = await s.raw.get('kdebug', leaseName('alice'))
  assert.equal(lease.metadata.labels?.['app.kubernetes.io/managed-by'], 'kdebug-gateway')
  assert.equal(lease.spec.holderIdentity, undefined, 'not a lock: nobody holds it')
})

test('at the limit the cluster is read: sessions that ended free their places; live ones and fresh reservations do not', async () => {
  const { s, clock, c, l } = fixture()
  for (const id of ['s1', 's2']) assert.equal((await reserve(l, c, id, { limit: 2 })).kind, 'reserved')
  c.sessions = [{ id: 's1', live: true, expiresAtMs: NOW + HOUR }]
  // s2 was reserved a moment ago and the cluster does not show it yet: its create may be in flight.
  const full = await reserve(l, c, 's3', { limit: 2 })
  assert.deepEqual(full, { kind: 'limit', count: 2, earliestExpiryMs: NOW + HOUR })
  assert.equal(c.reads, 2)
  // Past the grace, a reservation the cluster does not show was never made (or has ended).
  clock.now += GRACE + 1
  assert.equal((await reserve(l, c, 's3', { limit: 2 })).kind, 'reserved')
  assert.deepEqual((await entries(s)).map(e => e.id), ['s1', 's3'])
  // One the cluster shows ended frees its place at once, however recent.
  c.sessions = [{ id: 's1', live: true, expiresAtMs: NOW + HOUR }, { id: 's3', live: false, expiresAtMs: NOW + HOUR }]
  assert.equal((await reserve(l, c, 's4', { limit: 2 })).kind, 'reserved')
  assert.deepEqual((await entries(s)).map(e => e.id), ['s1', 's4'])
})

test('expired sessions do not count and never need the cluster', async () => {
  const { s, clock, c, l } = fixture()
  assert.equal((await reserve(l, c, 's1', { limit: 1, expiresAtMs: NOW + 1000 })).kind, 'reserved')
  clock.now += 1000
  const reads = c.reads
  assert.equal((await reserve(l, c, 's2', { limit: 1 })).kind, 'reserved')
  assert.equal(c.reads, reads)
  assert.deepEqual((await entries(s)).map(e => e.id), ['s2'])
})

test('two replicas, 10 reservations at once against a limit of 3: exactly 3, whatever the interleaving', async () => {
  const shared = localLeaseClient()
  const clock = { now: NOW }
  const c = cluster()
  const replicas = [ledger(store(shared), clock), ledger(store(shared), clock)]
  const results = await Promise.all(Array.from({ length: 10 }, async (_, i) => await reserve(replicas[i % 2] as SessionLedger, c, `s${i}`, { limit: 3 })))
  assert.equal(results.filter(r => r.kind === 'reserved').length, 3)
  assert.equal(results.filter(r => r.kind === 'limit').length, 7)
  const reserved = results.flatMap((r, i) => r.kind === 'reserved' ? [`s${i}`] : [])
  assert.deepEqual((await entries(store(shared))).map(e => e.id).sort(), reserved.sort())
})

test('a ledger that does not verify is not trusted: edited, signed with another key, or copied from another user', async () => {
  const { s, clock, c, l } = fixture()
  for (const id of ['s1', 's2']) await reserve(l, c, id, { limit: 2 })
  const name = leaseName('alice')
  // Someone who may write Leases removes alice's sessions from her ledger.
  const edited = await s.raw.get('kdebug', name)
  edited.metadata.annotations = { ...edited.metadata.annotations, [LEDGER_ANNOTATION]: '[]' }
  await s.raw.update(edited)
  c.sessions = [{ id: 's1', live: true, expiresAtMs: NOW + HOUR }, { id: 's2', live: true, expiresAtMs: NOW + HOUR }]
  const fresh = ledger(s, clock)
  const reads = c.reads
  assert.equal((await reserve(fresh, c, 's3', { limit: 2 })).kind, 'limit', 'counted from the cluster')
  assert.equal(c.reads, reads + 1)

  // bob's own (valid) ledger copied onto alice's lease does not verify for alice
  await reserve(l, cluster(), 'b1', { user: 'bob', limit: 2 })
  const bobs = await s.raw.get('kdebug', leaseName('bob'))
  const alices = await s.raw.get('kdebug', name)
  alices.metadata.annotations = { ...bobs.metadata.annotations }
  await s.raw.update(alices)
  assert.equal((await reserve(ledger(s, clock), c, 's3', { limit: 2 })).kind, 'limit')
  assert.equal(c.reads, reads + 2)

  // signed with a key the replicas do not hold
  const other = createSigner({ keys: [Buffer.alloc(32, 9)] })
  const forged = await s.raw.get('kdebug', name)
  const encoded = '[]'
  forged.metadata.annotations = { [LEDGER_ANNOTATION]: encoded, [LEDGER_SIGNATURE_ANNOTATION]: other.sign({ object: 'user-session-ledger', namespace: 'kdebug', lease: name, user: 'alice', sessions: encoded }) }
  await s.raw.update(forged)
  assert.equal((await reserve(ledger(s, clock), c, 's3', { limit: 2 })).kind, 'limit')
  assert.equal(c.reads, reads + 3)
})

test('a stale cached lease: the update gets a 409, the lease is read again and the reservation redone', async () => {
  const shared = localLeaseClient()
  const clock = { now: NOW }
  const c = cluster()
  const s1 = store(shared)
  const r1 = ledger(s1, clock)
  const r2 = ledger(store(shared), clock)
  await reserve(r1, c, 'a')
  await reserve(r2, c, 'b')
  s1.calls.length = 0
  assert.equal((await reserve(r1, c, 'c')).kind, 'reserved')
  assert.deepEqual(s1.calls, ['update', 'get', 'update'])
  assert.deepEqual((await entries(s1)).map(e => e.id), ['a', 'b', 'c'])
})

test('a deleted ledger is rebuilt from the cluster; one recreated under our update (a new uid) is counted again from the cluster', async () => {
  const { s, clock, c, l } = fixture()
  await reserve(l, c, 'a')
  const lease = await s.raw.get('kdebug', leaseName('alice'))
  await s.raw.delete('kdebug', lease.metadata.name, lease.metadata.resourceVersion as string)
  const reads = c.reads
  assert.equal((await reserve(l, c, 'b')).kind, 'reserved')
  assert.equal(c.reads, reads + 1, 'the update found nothing (404): read, then built from the cluster')

  // The lease deleted just before our update, which the API server turns into a create (as it
  // does for Leases): the answer is a new object.
  let deleteNext = false
  const recreating: LeaseClient = {
    ...s,
    update: async (l2: Lease) => {
      if (!deleteNext) return await s.update(l2)
      deleteNext = false
      const cur = await s.raw.get('kdebug', l2.metadata.name)
      await s.raw.delete('kdebug', cur.metadata.name, cur.metadata.resourceVersion as string)
      const { resourceVersion: _rv, uid: _uid, ...metadata } = l2.metadata
      return await s.raw.create({ ...l2, metadata })
    }
  }
  const r = ledger(recreating, clock)
  await r.reserve({ user: 'carol', session: { id: 'c0', expiresAtMs: NOW + HOUR }, limit: 3, inCluster: c.live })
  const before = c.reads
  c.sessions = [{ id: 'x', live: true, expiresAtMs: NOW + HOUR }]
  deleteNext = true
  assert.equal((await r.reserve({ user: 'carol', session: { id: 'c1', expiresAtMs: NOW + HOUR }, limit: 3, inCluster: c.live })).kind, 'reserved')
  assert.equal(c.reads, before + 1, 'the new uid made it count from the cluster')
  assert.deepEqual((await entries(s, 'carol')).map(e => e.id), ['x', 'c0', 'c1'], 'what this replica knew (c0, reserved a moment ago) is kept')
})

test('release takes back only its own reservation; a release that fails leaves it (counted until a rebuild) and never rejects', async () => {
  const s = store()
  const clock = { now: NOW }
  const c = cluster()
  let broken = false
  const flaky: LeaseClient = {
    get: async (ns, name) => { if (broken) throw new Error('down'); return await s.get(ns, name) },
    create: async (l) => { if (broken) throw new Error('down'); return await s.create(l) },
    update: async (l) => { if (broken) throw new Error('down'); return await s.update(l) },
    delete: async () => { throw new Error('not used') }
  }
  const l = ledger(flaky, clock)
  const a = await reserve(l, c, 'a')
  await reserve(l, c, 'b')
  assert.equal(a.kind, 'reserved')
  if (a.kind === 'reserved') await a.release()
  assert.deepEqual((await entries(s)).map(e => e.id), ['b'])
  const x = await reserve(l, c, 'x')
  broken = true
  assert.equal(x.kind, 'reserved')
  if (x.kind === 'reserved') await assert.doesNotReject(x.release())
  await l.idle()
  assert.deepEqual((await entries(s)).map(e => e.id), ['b', 'x'])
})

test('the same Idempotency-Key reserved less than the grace ago is pending; older, it is over', async () => {
  const { clock, c, l } = fixture()
  assert.equal((await reserve(l, c, 'first', { key: 'k1' })).kind, 'reserved')
  assert.deepEqual(await reserve(l, c, 'retry', { key: 'k1' }), { kind: 'key-pending' })
  assert.equal((await reserve(l, c, 'other', { key: 'k2' })).kind, 'reserved')
  clock.now += GRACE + 1
  assert.equal((await reserve(l, c, 'retry', { key: 'k1' })).kind, 'reserved')
})

test('a lease an earlier version holds as a lock is waited for; an expired one is not; a 503 when it is held past the wait', async () => {
  const s = store()
  const clock = { now: NOW }
  const c = cluster()
  const t = (ms: number): string => new Date(ms).toISOString()
  await s.raw.create({ metadata: { name: leaseName('alice'), namespace: 'kdebug' }, spec: { holderIdentity: 'old-replica_1', leaseDurationSeconds: 60, acquireTime: t(NOW - 70_000), renewTime: t(NOW - 70_000) } })
  assert.equal((await reserve(ledger(s, clock), c, 'a')).kind, 'reserved', 'expired: the old holder is gone')

  await s.raw.create({ metadata: { name: leaseName('bob'), namespace: 'kdebug' }, spec: { holderIdentity: 'old-replica_2', leaseDurationSeconds: 60, acquireTime: t(NOW), renewTime: t(NOW) } })
  const l = ledger(s, clock, { acquireTimeoutMs: 2000 })
  await assert.rejects(reserve(l, c, 'b', { user: 'bob' }), (err: unknown) => isProblemError(err) && err.status === 503 && err.extras.retryAfter === 1)
  assert.ok(clock.now >= NOW + 2000, 'it waited')

  // The old replica releases (deletes) its lease while we wait: we take the place.
  clock.now = NOW
  const deleting: LeaseClient = {
    ...s,
    get: async (ns, name) => {
      const cur = await s.raw.get(ns, name)
      if (clock.now > NOW + 100 && cur.spec.holderIdentity) { await s.raw.delete(ns, name, cur.metadata.resourceVersion as string); return await s.raw.get(ns, name) }
      return cur
    }
  }
  assert.equal((await reserve(ledger(deleting, clock, { acquireTimeoutMs: 5000 }), c, 'b', { user: 'bob' })).kind, 'reserved')
})
