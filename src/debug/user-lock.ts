// Serializes one user's creates, so "count live sessions, then create" cannot
// interleave: on this replica with an in-process queue per user, across
// replicas with a coordination.k8s.io/v1 Lease per user held around the count
// and the create (taken while the create reads its target, released after the
// answer: debug/service.ts; the way client-go's leaderelection LeaseLock takes a lease:
// create it, or take it over by an update carrying the resourceVersion it read
// when it is free or expired; a 409 means another replica was first). Unlike
// leaderelection (tools/leaderelection/leaderelection.go tryAcquireOrRenew
// reads first, because its lease lives on) we create first: our leases are
// deleted on release, so the create usually succeeds and the read is skipped;
// the API server's create is atomic (AlreadyExists when the name is taken),
// so two replicas can never both create it. A
// recount-and-roll-back cannot work for ephemeral containers (Kubernetes never
// removes them), so the lock must come first.
//
// The lease is deleted on release (with the resourceVersion precondition), so
// users leave no objects behind. It outlives a crashed holder by
// `leaseSeconds`, after which another replica takes it over; that duration
// must exceed the longest count+create (audit write + one API call, each
// bounded by their timeouts). Expiry is judged by this replica's clock against
// the holder's renewTime, as leaderelection does; clock skew between replicas
// shortens or lengthens the wait, never lets two holders in while the holder
// is within its duration on both clocks.
import { createHash, randomUUID } from 'node:crypto'
import { Problems, isProblemError } from '../errors.ts'
import type { Lease, LeaseClient } from '../kube/lease-client.ts'
import { MANAGED_BY, MANAGED_BY_LABEL } from '../sessions/attribution.ts'

export interface UserLockOptions {
  /** Without a lease client only this replica's creates are serialized (one replica, tests). */
  leases?: LeaseClient
  namespace: string
  /** This replica, in holderIdentity. */
  identity: string
  leaseSeconds: number
  /** How long to wait for another replica's lease before a 503. */
  acquireTimeoutMs: number
  clock?: () => number
  /** Waits between attempts (injectable so tests never depend on time). */
  delay?: (ms: number) => Promise<void>
}

/** Lease names are DNS subdomains; user names are anything: a hash names the user's lease. */
export function leaseName (user: string): string {
  return 'kdebug-user-' + createHash('sha256').update(user).digest('hex').slice(0, 40)
}

function microTime (ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '000Z')
}

/** A user's lock, held (UserLock.hold). */
export interface HeldLock {
  /** Renews the Lease when it was taken more than a quarter of its duration ago (one update); a 503 when another replica took it over meanwhile. */
  fresh: () => Promise<void>
  /** Lets the next holder in: deletes the Lease; resolves when that is done and never rejects (a failed delete only delays the next create until the lease expires). */
  release: () => Promise<void>
}

/** A bound that holds even with a clock that never moves. */
const MAX_ATTEMPTS = 1000

const defaultDelay = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

export class UserLock {
  readonly #o: UserLockOptions
  readonly #clock: () => number
  readonly #delay: (ms: number) => Promise<void>
  /** Per user: settles when that user's last queued run has released its lease. */
  readonly #queues = new Map<string, Promise<void>>()

  constructor (opts: UserLockOptions) {
    this.#o = opts
    this.#clock = opts.clock ?? Date.now
    this.#delay = opts.delay ?? defaultDelay
  }

  /**
   * Takes `user`'s lock: waits for this user's previous holder on this replica, then takes the
   * user's Lease (when configured). Every hold that resolves must be released; `fresh()` before
   * the guarded work renews a Lease taken a while ago, so that work has the lease's duration.
   */
  async hold (user: string): Promise<HeldLock> {
    const previous = this.#queues.get(user) ?? Promise.resolve()
    let settle!: (deleted: Promise<void>) => void
    const released = new Promise<void>(resolve => { settle = (deleted) => { deleted.then(resolve, resolve) } })
    this.#queues.set(user, released)
    released.then(() => { if (this.#queues.get(user) === released) this.#queues.delete(user) }, () => undefined)
    try {
      await previous
      const leases = this.#o.leases
      let current = leases === undefined ? undefined : await this.#acquire(leases, user)
      let renewedAt = this.#clock()
      let deleted: Promise<void> | undefined
      return {
        fresh: async () => {
          // A quarter of the duration gone (a slow read of the target): renew, so the count and
          // the create have the whole duration as when the lease was taken right before them.
          if (leases === undefined || current === undefined || this.#clock() - renewedAt < this.#o.leaseSeconds * 250) return
          const now = this.#clock()
          try {
            current = await leases.update({ ...current, spec: { ...current.spec, renewTime: microTime(now) } })
          } catch (err) {
            // 409: another replica judged it expired and took it; we no longer hold it.
            if (isProblemError(err) && err.status === 409) throw Problems.unavailable('Another request of yours is being created on another replica; retry shortly.', { retryAfter: 1 })
            throw err
          }
          renewedAt = now
        },
        release: async () => {
          const held = current
          deleted ??= leases === undefined || held === undefined
            ? Promise.resolve()
            : leases.delete(held.metadata.namespace, held.metadata.name, held.metadata.resourceVersion ?? '').then(() => undefined, () => undefined)
          settle(deleted)
          await deleted
        }
      }
    } catch (err) {
      settle(Promise.resolve())
      throw err
    }
  }

  /** Resolves when no lock is held or waited for and every lease release has finished (shutdown, tests). */
  async idle (): Promise<void> {
    while (this.#queues.size > 0) await Promise.all([...this.#queues.values()])
  }

  #isFree (lease: Lease): boolean {
    const holder = lease.spec.holderIdentity
    if (holder === undefined || holder === null || holder === '') return true
    const renewed = Date.parse(lease.spec.renewTime ?? lease.spec.acquireTime ?? '')
    const duration = (lease.spec.leaseDurationSeconds ?? this.#o.leaseSeconds) * 1000
    return !Number.isFinite(renewed) || renewed + duration <= this.#clock()
  }

  async #acquire (leases: LeaseClient, user: string): Promise<Lease> {
    const { namespace, identity, leaseSeconds } = this.#o
    const name = leaseName(user)
    const holder = `${identity}_${randomUUID()}`
    const deadline = this.#clock() + this.#o.acquireTimeoutMs
    const spec = (): Lease['spec'] => {
      const now = microTime(this.#clock())
      return { holderIdentity: holder, leaseDurationSeconds: leaseSeconds, acquireTime: now, renewTime: now }
    }
    for (let attempt = 0; ; attempt++) {
      let released = false
      try {
        // Create first: a released lease is deleted, so it usually does not exist and one
        // call takes it. AlreadyExists (409) means it is there: read it, and take it over
        // only when it is free or expired (an update carrying the resourceVersion read).
        try {
          return await leases.create({ metadata: { name, namespace, labels: { [MANAGED_BY_LABEL]: MANAGED_BY } }, spec: spec() })
        } catch (err) {
          if (!isProblemError(err) || err.status !== 409) throw err
        }
        let current: Lease | undefined
        try {
          current = await leases.get(namespace, name)
        } catch (err) {
          if (!isProblemError(err) || err.status !== 404) throw err
        }
        // Released between our create and our read: create again at once.
        if (current === undefined) released = true
        else if (this.#isFree(current)) {
          return await leases.update({ ...current, spec: { ...spec(), leaseTransitions: (current.spec.leaseTransitions ?? 0) + 1 } })
        }
      } catch (err) {
        // 409: another replica created, took or released it between our read and write. Read again.
        if (!isProblemError(err) || err.status !== 409) throw err
      }
      if (this.#clock() >= deadline || attempt >= MAX_ATTEMPTS) {
        throw Problems.unavailable('Another request of yours is being created on another replica; retry shortly.', { retryAfter: 1 })
      }
      if (!released) await this.#delay(Math.min(500, 25 * 2 ** Math.min(attempt, 4)) * (0.5 + Math.random()))
    }
  }
}
