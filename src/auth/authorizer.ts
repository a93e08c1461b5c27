// Every action is checked with a SubjectAccessReview for the *effective* user
// (after delegation) with the exact attributes the API server would check, so
// the gateway never grants more than the cluster's RBAC. Decisions are cached
// briefly and looked up single-flight; an API server that cannot answer is a
// 503 — never an allow.
import { Problems } from '../errors.ts'
import { describePermission, type Identity, type Principal, type ResourceAttributes } from './identity.ts'
import { SingleFlightCache, type CacheStats } from './single-flight.ts'
import type { ReviewClient, SubjectAccessReviewSpec } from '../kube/reviews.ts'

export interface Decision {
  allowed: boolean
  reason: string
  /** True when the decision came from the cache (or a review already in flight). */
  cached: boolean
}

export interface SarAuthorizerOptions {
  client: ReviewClient
  /** How long an allow is reused; 0 = not cached. */
  allowTtlMs: number
  /** How long a deny is reused; 0 = not cached. */
  denyTtlMs: number
  cacheSize?: number
  /** Time source of the cache TTLs (ms); tests inject one. */
  clock?: () => number
}

/** A stable cache key: group order and extra key order do not change a SAR's answer. */
export function decisionKey (who: Principal, attrs: ResourceAttributes): string {
  const extra = Object.entries(who.extra ?? {})
    .map(([k, v]) => [k, [...v].sort()] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return JSON.stringify([
    who.user, who.uid ?? '', [...who.groups].sort(), extra,
    attrs.verb, attrs.group ?? '', attrs.version ?? '', attrs.resource, attrs.subresource ?? '', attrs.namespace ?? '', attrs.name ?? ''
  ])
}

/** The subject fields of a principal — never `actor` or `method`. */
export function subjectOf (who: Principal): Principal {
  const p: Principal = { user: who.user, groups: [...who.groups] }
  if (who.uid) p.uid = who.uid
  if (who.extra && Object.keys(who.extra).length > 0) p.extra = who.extra
  return p
}

export class SarAuthorizer {
  private readonly client: ReviewClient
  private readonly allowTtlMs: number
  private readonly denyTtlMs: number
  private readonly cache: SingleFlightCache<string, { allowed: boolean, reason: string }>

  constructor (options: SarAuthorizerOptions) {
    this.client = options.client
    this.allowTtlMs = options.allowTtlMs
    this.denyTtlMs = options.denyTtlMs
    this.cache = new SingleFlightCache({ max: options.cacheSize ?? 10_000, ...(options.clock ? { now: options.clock } : {}) })
  }

  /** May `who` do `attrs`? Throws a 503 ProblemError when the API server cannot say. */
  async authorize (who: Identity | Principal, attrs: ResourceAttributes): Promise<Decision> {
    const { value, source } = await this.cache.lookup(decisionKey(who, attrs), async () => {
      const spec: SubjectAccessReviewSpec = { ...subjectOf(who), resourceAttributes: attrs }
      const status = await this.client.subjectAccessReview(spec)
      // `denied` wins over `allowed`; an evaluation error with no allow is a deny.
      const allowed = status.allowed === true && status.denied !== true
      const reason = status.reason ?? status.evaluationError ?? ''
      return { value: { allowed, reason }, ttlMs: allowed ? this.allowTtlMs : this.denyTtlMs }
    })
    return { allowed: value.allowed, reason: value.reason, cached: source !== 'miss' }
  }

  /**
   * Checks every permission (concurrently) and throws a 403 naming the first one,
   * in list order, that is missing. Any review that fails makes the whole call fail.
   * `refuse` makes the 403 (delegation uses its own problem type).
   */
  async authorizeAll (who: Identity | Principal, attrsList: readonly ResourceAttributes[], refuse: typeof Problems.forbidden = Problems.forbidden): Promise<void> {
    const decisions = await Promise.all(attrsList.map(a => this.authorize(who, a)))
    const i = decisions.findIndex(d => !d.allowed)
    if (i === -1) return
    const missing = attrsList[i] as ResourceAttributes
    const permission = describePermission(missing)
    const reason = (decisions[i] as Decision).reason
    throw refuse(`User "${who.user}" cannot ${permission}${reason ? `: ${reason}` : ''}.`, { permission })
  }

  stats (): CacheStats {
    return this.cache.stats()
  }
}
