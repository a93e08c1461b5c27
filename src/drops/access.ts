// Which namespaces' drops a subscriber may see: `list` and `watch` events
// there (permissionsFor('drops')), asked by SubjectAccessReview through the
// gateway's authorizer (which caches and single-flights), remembered for
// permissionRecheckSeconds and then asked again, so revoked access stops the
// flow. A cluster-wide allowance (e.g. a ClusterRoleBinding) answers for
// every namespace. Fail closed: an undecidable review hides the namespace
// for a short while.
import type { Identity, Principal, ResourceAttributes } from '../auth/identity.ts'
import { permissionsFor } from '../auth/permissions.ts'

export interface DropAuthorizer {
  authorize (who: Identity | Principal, attrs: ResourceAttributes): Promise<{ allowed: boolean }>
}

export interface NamespaceAccessOptions {
  identity: Identity | Principal
  authorizer: DropAuthorizer
  recheckMs: number
  /** Set for /namespaces/{ns}/drops: only this namespace, already authorized by the route. */
  namespace?: string
  now?: () => number
  /** How long an undecidable (failed) review hides a namespace. */
  errorTtlMs?: number
}

interface Decision { allowed: boolean, until: number, failed?: boolean }

export class NamespaceAccess {
  readonly #o: NamespaceAccessOptions
  readonly #now: () => number
  readonly #decisions = new Map<string, Decision>()
  readonly #inflight = new Map<string, Promise<void>>()
  #cluster: Decision | undefined

  constructor (options: NamespaceAccessOptions) {
    this.#o = options
    this.#now = options.now ?? Date.now
  }

  get fixedNamespace (): string | undefined { return this.#o.namespace }

  /**
   * Some review this object relies on could not be decided (the API server or its authorizer
   * failed). A one-shot answer (drops JSON) must then fail closed with 503: an empty list would
   * claim there is nothing to see.
   */
  get failed (): boolean {
    const now = this.#now()
    if (this.#cluster?.failed === true && this.#cluster.until > now) return true
    for (const d of this.#decisions.values()) if (d.failed === true && d.until > now) return true
    return false
  }

  /** Asks the cluster-wide question up front (no-op for a fixed namespace). Never rejects. */
  async checkCluster (): Promise<void> {
    if (this.#o.namespace !== undefined) return
    const c = this.#cluster
    if (c === undefined || c.until <= this.#now()) await this.#single('', async () => { this.#cluster = await this.#decide(undefined) })
  }

  /** Seeds a decision the route already made (the namespaced route's 403 check). */
  grant (namespace: string): void {
    this.#decisions.set(namespace, { allowed: true, until: this.#now() + this.#o.recheckMs })
  }

  /** true/false when known and fresh; undefined when a check is needed (call check()). */
  allows (namespace: string): boolean | undefined {
    if (this.#o.namespace !== undefined && namespace !== this.#o.namespace) return false
    const now = this.#now()
    if (this.#o.namespace === undefined && this.#cluster !== undefined && this.#cluster.until > now && this.#cluster.allowed) return true
    const d = this.#decisions.get(namespace)
    if (d !== undefined && d.until > now) {
      // a fresh cluster-wide allow above wins; a stale one must be re-asked before trusting per-namespace denies
      if (this.#o.namespace === undefined && (this.#cluster === undefined || this.#cluster.until <= now)) return undefined
      return d.allowed
    }
    return undefined
  }

  /** Makes allows(namespace) decidable. Never rejects. */
  async check (namespace: string): Promise<void> {
    if (this.#o.namespace === undefined) {
      const c = this.#cluster
      if (c === undefined || c.until <= this.#now()) await this.#single('', async () => { this.#cluster = await this.#decide(undefined) })
      if (this.#cluster?.allowed === true) return
    }
    const d = this.#decisions.get(namespace)
    if (d !== undefined && d.until > this.#now()) return
    await this.#single(namespace, async () => { this.#decisions.set(namespace, await this.#decide(namespace)) })
  }

  /**
   * Forget decisions (so the next drop re-asks) and, for a fixed namespace,
   * whether it is still allowed. A review that failed is not a revocation: its
   * drops are withheld for a short while, the stream stays open.
   */
  async revalidate (): Promise<boolean> {
    this.#cluster = undefined
    this.#decisions.clear()
    const ns = this.#o.namespace
    if (ns === undefined) return true
    await this.check(ns)
    const d = this.#decisions.get(ns)
    return d?.allowed === true || d?.failed === true
  }

  async #single (key: string, fn: () => Promise<void>): Promise<void> {
    let p = this.#inflight.get(key)
    if (p === undefined) {
      p = fn().finally(() => this.#inflight.delete(key))
      this.#inflight.set(key, p)
    }
    await p
  }

  async #decide (namespace: string | undefined): Promise<Decision> {
    try {
      const results = await Promise.all(permissionsFor('drops', { namespace }).map(a => this.#o.authorizer.authorize(this.#o.identity, a)))
      return { allowed: results.every(r => r.allowed), until: this.#now() + this.#o.recheckMs }
    } catch {
      return { allowed: false, failed: true, until: this.#now() + Math.min(this.#o.recheckMs, this.#o.errorTtlMs ?? 5000) }
    }
  }
}
