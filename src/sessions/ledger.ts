// The per-user session limit without reading the cluster on every create: a
// ledger of the user's sessions, kept signed in an annotation of the user's
// coordination.k8s.io/v1 Lease and changed only by an update carrying the
// resourceVersion it was read at (optimistic concurrency, as client-go's
// tools/leaderelection/resourcelock LeaseLock.Update does: a 409 means another
// replica wrote first; read again and redo).
//
// A create reserves its session in the ledger before it is sent: the
// reservation is the count's compare-and-swap, so two replicas can never both
// take the last place. The ledger can only overcount (a session that ended
// early stays listed until its expiry): when it says the user is at the limit,
// or when it is missing or does not verify, the user's sessions are read from
// the cluster (a consistent LIST: sessions/finder.ts) and the ledger is rebuilt
// from them: the live ones, plus the reservations of the last `graceMs` that
// the LIST does not show at all yet (their creates may still be in flight). So
// the cost of the limit is one small update per create, and a full LIST only
// for a user at the limit (where it was paid on every create before).
//
// A reservation must be sent within `graceMs` (the service checks, and
// refuses with a 503 past half of it), so a rebuild never drops a create that
// can still land. A definitive failure (the API server refused the create)
// releases the reservation; an ambiguous one (timeout) keeps it: overcounting
// is the safe side. A session the gateway deletes is forgotten at once; one
// deleted behind its back within `graceMs` of its reservation counts until
// that grace has passed (a rebuild cannot tell it from a create in flight).
//
// Why a signature: the ledger decides how many sessions a user may still
// open. Only the gateway's replicas hold the key, so an edited ledger (by
// someone who may write Leases in that namespace) is not trusted and the
// cluster is read instead.
//
// Rolling upgrades: earlier versions held this same Lease as a lock (holder,
// renewTime) and deleted it after each create. A lease held that way is
// waited for; one deleted is rebuilt from the cluster.
import { createHash } from 'node:crypto'
import { Problems, isProblemError } from '../errors.ts'
import type { Lease, LeaseClient } from '../kube/lease-client.ts'
import { MANAGED_BY, MANAGED_BY_LABEL } from './attribution.ts'
import type { MetadataSigner } from '../security/signing.ts'
import type { UserSession } from './finder.ts'

export const LEDGER_ANNOTATION = 'kdebug.io/sessions'
export const LEDGER_SIGNATURE_ANNOTATION = 'kdebug.io/sessions-signature'

/** One session in a user's ledger. */
export interface LedgerEntry {
  id: string
  /** When the session expires (its TTL); null: no expiry (counted until a rebuild drops it). */
  expiresAtMs: number | null
  /** When the ledger first listed it. */
  reservedAtMs: number
  /** The hashed Idempotency-Key of the create that reserved it. */
  key?: string
}

export interface ReserveRequest {
  user: string
  session: { id: string, expiresAtMs: number, key?: string }
  limit: number
  /** The user's verified sessions, live or not, from a consistent read of the cluster. */
  inCluster: () => Promise<UserSession[]>
}

export type Reservation =
  /**
   * `sendBy`: the create must be sent before this time (half the grace: a rebuild keeps the
   * reservation for the whole grace, and the send itself is bounded by the request timeout).
   * `release()` removes the reservation when the create was not made (never rejects).
   */
  | { kind: 'reserved', sendBy: number, release: () => Promise<void> }
  | { kind: 'limit', count: number, earliestExpiryMs: number | undefined }
  /** Another create with the same Idempotency-Key reserved its session less than `graceMs` ago. */
  | { kind: 'key-pending' }

export interface SessionLedgerOptions {
  leases: LeaseClient
  namespace: string
  signer: MetadataSigner
  /** How long a reservation the cluster does not show yet is kept (sessions.userLeaseSeconds). */
  graceMs: number
  /** How long to wait for a lease another version's replica holds, or through conflicts, before a 503. */
  acquireTimeoutMs: number
  /** Leases kept in memory, so a create usually writes without reading first. */
  cacheSize?: number
  clock?: () => number
  /** Waits between attempts (injectable so tests never depend on time). */
  delay?: (ms: number) => Promise<void>
}

/** Lease names are DNS subdomains; user names are anything: a hash names the user's lease. */
export function leaseName (user: string): string {
  return 'kdebug-user-' + createHash('sha256').update(user).digest('hex').slice(0, 40)
}

/** Entries as stored: `[id, expiresAtMs|null, reservedAtMs]` or with the key as a fourth element. */
type Stored = [string, number | null, number] | [string, number | null, number, string]

export function encodeEntries (entries: readonly LedgerEntry[]): string {
  return JSON.stringify(entries.map((e): Stored => e.key === undefined ? [e.id, e.expiresAtMs, e.reservedAtMs] : [e.id, e.expiresAtMs, e.reservedAtMs, e.key]))
}

/** undefined for anything but a well-formed list. */
export function decodeEntries (text: string): LedgerEntry[] | undefined {
  let raw: unknown
  try { raw = JSON.parse(text) } catch { return undefined }
  if (!Array.isArray(raw)) return undefined
  const out: LedgerEntry[] = []
  for (const r of raw) {
    if (!Array.isArray(r) || r.length < 3 || r.length > 4) return undefined
    const [id, exp, reserved, key] = r as unknown[]
    if (typeof id !== 'string' || (exp !== null && typeof exp !== 'number') || typeof reserved !== 'number') return undefined
    if (key !== undefined && typeof key !== 'string') return undefined
    out.push(key === undefined ? { id, expiresAtMs: exp, reservedAtMs: reserved } : { id, expiresAtMs: exp, reservedAtMs: reserved, key })
  }
  return out
}

function signedFields (namespace: string, name: string, user: string, encoded: string): Record<string, string> {
  return { object: 'user-session-ledger', namespace, lease: name, user, sessions: encoded }
}

function isLive (e: LedgerEntry, now: number): boolean {
  return e.expiresAtMs === null || e.expiresAtMs > now
}

/**
 * The ledger after a consistent read of the cluster: the sessions it shows live, plus the
 * reservations of the last `graceMs` it does not show at all yet (creates possibly in
 * flight). One it shows ended is gone, however recent. Pure.
 */
export function rebuild (cluster: readonly UserSession[], ledger: readonly LedgerEntry[], now: number, graceMs: number): LedgerEntry[] {
  const known = new Map(ledger.map(e => [e.id, e]))
  const seen = new Set(cluster.map(s => s.id))
  const out = new Map<string, LedgerEntry>()
  for (const s of cluster) {
    if (!s.live) continue
    const e: LedgerEntry = { id: s.id, expiresAtMs: s.expiresAtMs ?? null, reservedAtMs: known.get(s.id)?.reservedAtMs ?? now }
    const key = known.get(s.id)?.key
    if (key !== undefined) e.key = key
    if (isLive(e, now)) out.set(s.id, e)
  }
  for (const e of ledger) if (!seen.has(e.id) && e.reservedAtMs > now - graceMs && isLive(e, now)) out.set(e.id, e)
  return [...out.values()]
}

/** The soonest expiry among sessions (for Retry-After); undefined when none expires. */
export function earliestExpiry (sessions: ReadonlyArray<{ expiresAtMs?: number | null }>): number | undefined {
  let earliest: number | undefined
  for (const { expiresAtMs: e } of sessions) if (e !== undefined && e !== null && (earliest === undefined || e < earliest)) earliest = e
  return earliest
}

/** A bound that holds even with a clock that never moves. */
const MAX_ATTEMPTS = 1000
const RELEASE_ATTEMPTS = 5

const defaultDelay = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

function isStatus (err: unknown, ...codes: number[]): boolean {
  return isProblemError(err) && codes.includes(err.status)
}

export class SessionLedger {
  readonly #o: SessionLedgerOptions
  readonly #clock: () => number
  readonly #delay: (ms: number) => Promise<void>
  readonly #cacheSize: number
  /** The last lease read or written, by name: a create writes with its resourceVersion without reading (a 409 when stale). */
  readonly #cache = new Map<string, Lease>()
  /** Per user on this replica: ledger changes run one after another (no conflicts with ourselves). */
  readonly #queues = new Map<string, Promise<unknown>>()
  /** Releases in flight (shutdown waits for them). */
  readonly #releases = new Set<Promise<void>>()
  /**
   * The entries of leases the API server answered our own write with, unchanged: known without
   * verifying and decoding again (the next create of the user starts from that answer).
   */
  readonly #written = new WeakMap<Lease, { user: string, entries: LedgerEntry[] }>()

  constructor (opts: SessionLedgerOptions) {
    this.#o = opts
    this.#clock = opts.clock ?? Date.now
    this.#delay = opts.delay ?? defaultDelay
    this.#cacheSize = opts.cacheSize ?? 10_000
  }

  /** Reserves a place for `session` when the user has fewer than `limit` live sessions. */
  async reserve (req: ReserveRequest): Promise<Reservation> {
    return await this.#serial(req.user, async () => await this.#reserve(req))
  }

  /**
   * A lease as the API server now has it (ledger-watch.ts: another replica's write). Replaces a
   * cached one, so this replica's next create writes with the current resourceVersion instead of
   * a 409, a read and a second write; never adds one (the cache keeps to the users this replica
   * serves). Freshness only: every write is still conditional, so an event that arrives late
   * (even one older than our own write's answer) costs a 409, never a wrong count.
   */
  observe (lease: Lease): void {
    const name = lease.metadata.name
    const cached = this.#cache.get(name)
    if (cached !== undefined && cached.metadata.resourceVersion !== lease.metadata.resourceVersion) this.#cache.set(name, lease)
  }

  /** A lease deleted in the cluster: the next create reads it (and counts from the cluster). */
  observeDeleted (name: string): void {
    this.#cache.delete(name)
  }

  /** Resolves when every release in flight has landed (shutdown, tests). */
  async idle (): Promise<void> {
    while (this.#releases.size > 0 || this.#queues.size > 0) await Promise.all([...this.#releases, ...this.#queues.values()].map(async p => await p.catch(() => undefined)))
  }

  async #serial<T> (user: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(user) ?? Promise.resolve()
    const mine = previous.catch(() => undefined).then(fn)
    this.#queues.set(user, mine)
    try {
      return await mine
    } finally {
      if (this.#queues.get(user) === mine) this.#queues.delete(user)
    }
  }

  async #reserve (req: ReserveRequest): Promise<Reservation> {
    const name = leaseName(req.user)
    const deadline = this.#clock() + this.#o.acquireTimeoutMs
    // What we wrote onto a lease that turned out to be a new object (see below): counted again
    // from the cluster, with these entries as the ledger.
    let carried: LedgerEntry[] | undefined
    for (let attempt = 0; ; attempt++) {
      const lease = this.#cache.get(name) ?? await this.#read(name)
      if (lease !== undefined && this.#lockedByAnotherVersion(lease)) {
        this.#cache.delete(name)
        await this.#wait(attempt, deadline)
        continue
      }
      const now = this.#clock()
      // Our own id is never counted against us (a retry after a write whose answer showed a
      // recreated lease: see below).
      const ledger = (carried ?? (lease === undefined ? undefined : this.#entries(lease, req.user)))?.filter(e => e.id !== req.session.id)
      let live = carried === undefined ? ledger?.filter(e => isLive(e, now)) : undefined
      if (req.session.key !== undefined && live?.some(e => e.key === req.session.key && e.reservedAtMs > now - this.#o.graceMs)) return { kind: 'key-pending' }
      if (live === undefined || live.length >= req.limit) {
        live = rebuild(await req.inCluster(), ledger ?? [], this.#clock(), this.#o.graceMs).filter(e => e.id !== req.session.id)
        if (live.length >= req.limit) {
          return { kind: 'limit', count: live.length, earliestExpiryMs: earliestExpiry(live) }
        }
      }
      const reservedAtMs = this.#clock()
      const entry: LedgerEntry = { id: req.session.id, expiresAtMs: req.session.expiresAtMs, reservedAtMs }
      if (req.session.key !== undefined) entry.key = req.session.key
      const next = [...live, entry]
      let written: Lease
      try {
        written = await this.#write(name, req.user, lease, next)
      } catch (err) {
        // 409: another replica wrote (or created) it first; 404: it was deleted. Read again.
        if (!isStatus(err, 409, 404)) throw err
        this.#cache.delete(name)
        if (attempt > 0) await this.#wait(attempt, deadline)
        continue
      }
      // A Lease update creates the object when it is gone (the lease strategy allows create on
      // update: kubernetes pkg/registry/coordination/lease/strategy.go AllowCreateOnUpdate), so
      // a deleted ledger can come back holding only what we knew: entries another replica
      // added meanwhile would be lost. A new uid tells; count again from the cluster.
      if (lease !== undefined && written.metadata.uid !== undefined && lease.metadata.uid !== undefined && written.metadata.uid !== lease.metadata.uid) {
        carried = next
        this.#remember(name, written)
        await this.#wait(attempt, deadline)
        continue
      }
      this.#remember(name, written)
      return { kind: 'reserved', sendBy: reservedAtMs + this.#o.graceMs / 2, release: async () => { await this.forget(req.user, req.session.id) } }
    }
  }

  /**
   * Removes a session from its user's ledger: a reservation whose create was not made, or a
   * session the gateway deleted. Never rejects: a failed removal only overcounts until a rebuild.
   */
  async forget (user: string, id: string): Promise<void> {
    const done = this.#serial(user, async () => {
      const name = leaseName(user)
      for (let attempt = 0; attempt < RELEASE_ATTEMPTS; attempt++) {
        const lease = this.#cache.get(name) ?? await this.#read(name)
        if (lease === undefined) return
        const entries = this.#entries(lease, user)
        if (entries === undefined || !entries.some(e => e.id === id)) return
        try {
          this.#remember(name, await this.#write(name, user, lease, entries.filter(e => e.id !== id)))
          return
        } catch (err) {
          if (!isStatus(err, 409, 404)) return
          this.#cache.delete(name)
        }
      }
    }).catch(() => undefined)
    this.#releases.add(done)
    try {
      await done
    } finally {
      this.#releases.delete(done)
    }
  }

  async #read (name: string): Promise<Lease | undefined> {
    try {
      const lease = await this.#o.leases.get(this.#o.namespace, name)
      this.#remember(name, lease)
      return lease
    } catch (err) {
      if (isStatus(err, 404)) return undefined
      throw err
    }
  }

  async #write (name: string, user: string, lease: Lease | undefined, entries: readonly LedgerEntry[]): Promise<Lease> {
    const encoded = encodeEntries(entries)
    const annotations = {
      ...lease?.metadata.annotations,
      [LEDGER_ANNOTATION]: encoded,
      [LEDGER_SIGNATURE_ANNOTATION]: this.#o.signer.sign(signedFields(this.#o.namespace, name, user, encoded))
    }
    const written = lease === undefined
      ? await this.#o.leases.create({ metadata: { name, namespace: this.#o.namespace, labels: { [MANAGED_BY_LABEL]: MANAGED_BY }, annotations }, spec: {} })
      : await this.#o.leases.update({ ...lease, metadata: { ...lease.metadata, annotations } })
    const echoed = written.metadata.annotations
    if (echoed?.[LEDGER_ANNOTATION] === encoded && echoed[LEDGER_SIGNATURE_ANNOTATION] === annotations[LEDGER_SIGNATURE_ANNOTATION]) {
      this.#written.set(written, { user, entries: [...entries] })
    }
    return written
  }

  /** The verified entries, or undefined when the ledger is missing, malformed or not signed by us. */
  #entries (lease: Lease, user: string): LedgerEntry[] | undefined {
    const known = this.#written.get(lease)
    if (known !== undefined && known.user === user) return known.entries
    const encoded = lease.metadata.annotations?.[LEDGER_ANNOTATION]
    if (encoded === undefined) return undefined
    const signature = lease.metadata.annotations?.[LEDGER_SIGNATURE_ANNOTATION]
    if (!this.#o.signer.verify(signedFields(this.#o.namespace, lease.metadata.name, user, encoded), signature)) return undefined
    return decodeEntries(encoded)
  }

  /** Held as a lock by an earlier version's replica (a holder within its duration). */
  #lockedByAnotherVersion (lease: Lease): boolean {
    const holder = lease.spec.holderIdentity
    if (holder === undefined || holder === null || holder === '') return false
    const renewed = Date.parse(lease.spec.renewTime ?? lease.spec.acquireTime ?? '')
    const duration = (lease.spec.leaseDurationSeconds ?? 0) * 1000
    return Number.isFinite(renewed) && renewed + duration > this.#clock()
  }

  async #wait (attempt: number, deadline: number): Promise<void> {
    if (this.#clock() >= deadline || attempt >= MAX_ATTEMPTS) {
      throw Problems.unavailable('Another request of yours is being created on another replica; retry shortly.', { retryAfter: 1 })
    }
    await this.#delay(Math.min(500, 25 * 2 ** Math.min(attempt, 4)) * (0.5 + Math.random()))
  }

  #remember (name: string, lease: Lease): void {
    this.#cache.delete(name)
    this.#cache.set(name, lease)
    if (this.#cache.size > this.#cacheSize) this.#cache.delete(this.#cache.keys().next().value as string)
  }
}
