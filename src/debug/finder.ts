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
import { isLive, podSession, sessionsOfPod, type FoundSession } from './sessions.ts'

export const MANAGED_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY}`

export interface SessionFinderOptions {
  client: DebugClient
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
  readonly #clock: () => number
  readonly #maxAgeMs: number
  #snapshot: { at: number, sessions: FoundSession[] } | undefined
  #inflight: Promise<FoundSession[]> | undefined

  constructor (opts: SessionFinderOptions) {
    this.#client = opts.client
    this.#clock = opts.clock ?? Date.now
    this.#maxAgeMs = opts.snapshotMaxAgeMs ?? 2000
  }

  /** Every session in the cluster (consistent read). */
  async all (namespace?: string): Promise<FoundSession[]> {
    const list = await this.#client.listPods(namespace === undefined ? {} : { namespace })
    const now = this.#clock()
    return list.items.flatMap(p => sessionsOfPod(p, now))
  }

  /** Copies and node pods only: one LIST by label. */
  async podSessions (): Promise<FoundSession[]> {
    const list = await this.#client.listPods({ labelSelector: MANAGED_SELECTOR })
    const now = this.#clock()
    return list.items.flatMap(p => podSession(p, now) ?? [])
  }

  async byId (id: string): Promise<FoundSession | undefined> {
    const byLabel = await this.#client.listPods({ labelSelector: `${MANAGED_SELECTOR},${LABEL_SESSION}=${id}` })
    const now = this.#clock()
    for (const p of byLabel.items) {
      const s = podSession(p, now)
      if (s?.session.id === id) return s
    }
    return (await this.all()).find(s => s.session.id === id)
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
        const sessions = list.items.flatMap(p => sessionsOfPod(p, now))
        this.#snapshot = { at: now, sessions }
        return sessions
      } finally {
        this.#inflight = undefined
      }
    })()
    return await this.#inflight
  }
}
