// Finds debug sessions in the cluster, so any replica answers for all.
//
// Cost: copies and node pods carry labels, but ephemeral containers cannot
// (the ephemeralcontainers subresource keeps only spec.ephemeralContainers), so
// finding them means reading every pod: one cluster-wide LIST. Listing and
// lookups by id use a consistent LIST; the per-user concurrency count, which
// runs on every create, uses a snapshot at most `snapshotMaxAgeMs` old (served
// from the API server's watch cache with resourceVersion=0), single-flight,
// plus the sessions this replica created since.
import type { DebugClient } from '../kube/debug-client.ts'
import { LABEL_SESSION, MANAGED_BY, MANAGED_BY_LABEL } from '../kube/spec/index.ts'
import { isLive, podSession, sessionsOfPod, type FoundSession, type VerifyFn } from './sessions.ts'

export const MANAGED_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY}`

export interface SessionFinderOptions {
  client: DebugClient
  /** Checks the signatures of what is found (src/security/signing.ts). */
  verify: VerifyFn
  clock?: () => number
  /** Default 2000. */
  snapshotMaxAgeMs?: number
}

export interface LiveCount {
  count: number
  /** The soonest expiry among the live sessions (for Retry-After). */
  earliestExpiryMs?: number
}

export class SessionFinder {
  readonly #client: DebugClient
  readonly #verify: VerifyFn
  readonly #clock: () => number
  readonly #maxAgeMs: number
  #snapshot: { at: number, sessions: FoundSession[] } | undefined
  #inflight: Promise<FoundSession[]> | undefined

  constructor (opts: SessionFinderOptions) {
    this.#client = opts.client
    this.#verify = opts.verify
    this.#clock = opts.clock ?? Date.now
    this.#maxAgeMs = opts.snapshotMaxAgeMs ?? 2000
  }

  /** Every session in the cluster (consistent read). */
  async all (namespace?: string): Promise<FoundSession[]> {
    const list = await this.#client.listPods(namespace === undefined ? {} : { namespace })
    const now = this.#clock()
    return list.items.flatMap(p => sessionsOfPod(p, now, this.#verify))
  }

  /** Copies and node pods only: one LIST by label (in one namespace when given). */
  async podSessions (where: { namespace?: string } = {}): Promise<FoundSession[]> {
    const list = await this.#client.listPods({ labelSelector: MANAGED_SELECTOR, ...(where.namespace === undefined ? {} : { namespace: where.namespace }) })
    const now = this.#clock()
    return list.items.flatMap(p => podSession(p, now, this.#verify) ?? [])
  }

  /**
   * The session with this id. Ids are not secret and labels are writable, so a planted object
   * may claim a real session's id: a verified match always wins over unverified ones.
   */
  async byId (id: string): Promise<FoundSession | undefined> {
    const byLabel = await this.#client.listPods({ labelSelector: `${MANAGED_SELECTOR},${LABEL_SESSION}=${id}` })
    const now = this.#clock()
    const pods = byLabel.items.flatMap(p => podSession(p, now, this.#verify) ?? []).filter(s => s.session.id === id)
    const verifiedPod = pods.find(s => s.verified)
    if (verifiedPod !== undefined) return verifiedPod
    const all = (await this.all()).filter(s => s.session.id === id)
    return all.find(s => s.verified) ?? all[0]
  }

  /** Live sessions requested by `user` (concurrency limit). */
  async liveCount (user: string): Promise<LiveCount> {
    const sessions = await this.#recent()
    let count = 0
    let earliest: number | undefined
    const now = this.#clock()
    for (const { session: s } of sessions) {
      if (s.requestedBy !== user || !isLive(s)) continue
      const exp = s.expiresAt === undefined ? undefined : Date.parse(s.expiresAt)
      if (exp !== undefined && exp <= now) continue
      count++
      if (exp !== undefined && (earliest === undefined || exp < earliest)) earliest = exp
    }
    return earliest === undefined ? { count } : { count, earliestExpiryMs: earliest }
  }

  /** A session this replica just created counts at once, before the next snapshot sees it. */
  noteCreated (found: FoundSession): void {
    if (this.#snapshot) this.#snapshot.sessions.push(found)
  }

  /** A session this replica just deleted stops counting at once. */
  noteDeleted (id: string): void {
    if (this.#snapshot) this.#snapshot.sessions = this.#snapshot.sessions.filter(s => s.session.id !== id)
  }

  async #recent (): Promise<FoundSession[]> {
    const snap = this.#snapshot
    if (snap && this.#clock() - snap.at < this.#maxAgeMs) return snap.sessions
    this.#inflight ??= (async () => {
      try {
        const list = await this.#client.listPods({ resourceVersion: '0' })
        const now = this.#clock()
        const sessions = list.items.flatMap(p => sessionsOfPod(p, now, this.#verify))
        this.#snapshot = { at: now, sessions }
        return sessions
      } finally {
        this.#inflight = undefined
      }
    })()
    return await this.#inflight
  }
}
