// GET /v1/namespaces/{namespace}/pods: the pod picker. The caller's `list pods`
// in the namespace is asked first (a SubjectAccessReview, 403 naming it), then
// one page is read from the API server (as the caller in impersonate mode) and
// shown with our sessions verified. The decision-audit plugin writes the
// http.read record of an allowed listing, and the refusal record of a 403.
import type { Identity, ResourceAttributes } from '../auth/identity.ts'
import { permissionsFor } from '../auth/permissions.ts'
import type { CallOptions, PodPager } from '../kube/debug-client.ts'
import type { VerifyFn } from '../sessions/found.ts'
import { podItem } from './view.ts'
import type { PodListQuery, PodListView } from './schemas.ts'

export interface PodServiceOptions {
  pager: PodPager
  authorizer: { authorizeAll (who: Identity, attrs: readonly ResourceAttributes[]): Promise<void> }
  verify: VerifyFn
  /** Send cluster calls as the caller (authorization mode `impersonate`). */
  impersonate: boolean
  clock?: () => number
}

export const DEFAULT_PAGE_SIZE = 100

export class PodService {
  readonly #o: PodServiceOptions
  readonly #clock: () => number

  constructor (opts: PodServiceOptions) {
    this.#o = opts
    this.#clock = opts.clock ?? Date.now
  }

  async list (identity: Identity, namespace: string, query: PodListQuery): Promise<PodListView> {
    await this.#o.authorizer.authorizeAll(identity, permissionsFor('pods.list', { namespace }))
    const callOpts: CallOptions = this.#o.impersonate ? { as: identity } : {}
    const page = await this.#o.pager.listPodsPage(namespace, { limit: query.limit ?? DEFAULT_PAGE_SIZE, ...(query.continue ? { continue: query.continue } : {}) }, callOpts)
    const now = this.#clock()
    return {
      items: page.items.map(pod => podItem(pod, now, this.#o.verify)),
      ...(page.continue ? { continue: page.continue } : {})
    }
  }
}
