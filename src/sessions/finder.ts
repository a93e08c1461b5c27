// Finds debug sessions in the cluster, so any replica answers for all.
//
// Cost: copies and node pods carry labels, but ephemeral containers cannot
// (pods/ephemeralcontainers changes only spec.ephemeralContainers; the
// gateway cannot label the target pod), so finding them means reading the
// pods of a namespace. Every read is paged (limit 500 + continue) and keeps
// only the sessions of each page, never the pods. What a read covers is
// decided before it runs (a Scope): the namespaces the caller may list pods
// in, or the whole cluster only for callers allowed to list pods cluster-wide.
//
// The per-user limit's read is a consistent read (no resourceVersion: not the
// watch cache's possibly lagging view) of all pods; it runs only when the
// user's ledger must be rebuilt (ledger.ts): a user at the limit,
// or a ledger missing or not verifying.
import type { DebugClient, PodQuery } from '../kube/debug-client.ts'
import { LABEL_SESSION, MANAGED_BY, MANAGED_BY_LABEL } from './attribution.ts'
import type { Pod } from '../kube/types.ts'
import { isLive, podSession, sessionsOfPod, type FoundSession, type VerifyFn } from './found.ts'

export const MANAGED_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY}`

/** Where a read may look: decided from the caller's rights before anything is read. */
export type Scope = { clusterWide: true } | { clusterWide: false, namespaces: readonly string[] }

export interface SessionFinderOptions {
  client: DebugClient
  /** Checks the signatures of what is found (src/security/signing.ts). */
  verify: VerifyFn
  clock?: () => number
  /** Namespaces read at once in a scoped read (default 4). */
  concurrency?: number
}

/** One of a user's verified sessions; the live ones are what the per-user limit counts. */
export interface UserSession {
  id: string
  /** Not finished, not expired, not being deleted (found.ts isLive). */
  live: boolean
  expiresAtMs?: number
}

function one (s: FoundSession | undefined): FoundSession[] {
  return s === undefined ? [] : [s]
}

export class SessionFinder {
  readonly #client: DebugClient
  readonly #verify: VerifyFn
  readonly #clock: () => number
  readonly #concurrency: number

  constructor (opts: SessionFinderOptions) {
    this.#client = opts.client
    this.#verify = opts.verify
    this.#clock = opts.clock ?? Date.now
    this.#concurrency = opts.concurrency ?? 4
  }

  /** Sessions in the pods a query selects, page by page (the pods themselves are not kept). */
  async #sessions (query: PodQuery, pick: (pod: Pod, now: number) => FoundSession[]): Promise<FoundSession[]> {
    const out: FoundSession[] = []
    const now = this.#clock()
    await this.#client.listPods({ ...query, onPage: (items) => { for (const p of items) for (const s of pick(p, now)) out.push(s) } })
    return out
  }

  async #inScope (scope: Scope, query: Omit<PodQuery, 'namespace'>, pick: (pod: Pod, now: number) => FoundSession[]): Promise<FoundSession[]> {
    if (scope.clusterWide) return await this.#sessions(query, pick)
    const namespaces = [...new Set(scope.namespaces)]
    const out: FoundSession[] = []
    for (let i = 0; i < namespaces.length; i += this.#concurrency) {
      const batch = await Promise.all(namespaces.slice(i, i + this.#concurrency).map(async namespace => await this.#sessions({ ...query, namespace }, pick)))
      for (const b of batch) out.push(...b)
    }
    return out
  }

  /** Every session in the scope (consistent read). */
  async all (scope: Scope): Promise<FoundSession[]> {
    return await this.#inScope(scope, {}, (p, now) => sessionsOfPod(p, now, this.#verify))
  }

  /** Copies and node pods only: one LIST by label (in one namespace when given). */
  async podSessions (where: { namespace?: string } = {}): Promise<FoundSession[]> {
    const scope: Scope = where.namespace === undefined ? { clusterWide: true } : { clusterWide: false, namespaces: [where.namespace] }
    return await this.#inScope(scope, { labelSelector: MANAGED_SELECTOR }, (p, now) => one(podSession(p, now, this.#verify)))
  }

  /**
   * The session with this id within the scope. Ids are not secret and labels are writable, so
   * a planted object may claim a real session's id: a verified match always wins.
   */
  async byId (id: string, scope: Scope): Promise<FoundSession | undefined> {
    const pods = (await this.#inScope(scope, { labelSelector: `${MANAGED_SELECTOR},${LABEL_SESSION}=${id}` }, (p, now) => one(podSession(p, now, this.#verify))))
      .filter(s => s.session.id === id)
    const verifiedPod = pods.find(s => s.verified)
    if (verifiedPod !== undefined) return verifiedPod
    const all = (await this.#inScope(scope, {}, (p, now) => sessionsOfPod(p, now, this.#verify, a => a.sessionId === id)))
    return all.find(s => s.verified) ?? all[0]
  }

  /**
   * The verified sessions requested by `user`, live or not (the per-user limit, when its ledger
   * must be rebuilt: ledger.ts; whoami): a consistent read of all pods.
   */
  async userSessions (user: string): Promise<UserSession[]> {
    // Only this user's claims are verified: every other session in the cluster costs no HMAC.
    const mine = (a: { requestedBy: string }): boolean => a.requestedBy === user
    const sessions = await this.#sessions({}, (p, now) => sessionsOfPod(p, now, this.#verify, mine).filter(s => s.verified && s.session.requestedBy === user))
    // isLive: a session past its expiry is already in state `expired` (found.ts).
    return sessions.map(({ session: s }) => {
      const exp = s.expiresAt === undefined ? NaN : Date.parse(s.expiresAt)
      return Number.isFinite(exp) ? { id: s.id, live: isLive(s), expiresAtMs: exp } : { id: s.id, live: isLive(s) }
    })
  }
}
