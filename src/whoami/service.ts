// The effective identity as the gateway sees it, who delegated, and (for a
// namespace) which of the main actions RBAC would allow — from the same
// permission table and SubjectAccessReviews the actions themselves use
// (auth/permissions.ts), so `can` never disagrees with the action.
import type { SarAuthorizer } from '../auth/authorizer.ts'
import type { Identity } from '../auth/identity.ts'
import { permissionsFor, WHOAMI_ACTIONS } from '../auth/permissions.ts'
import type { Whoami } from '../schemas/identity.ts'
import type { CompiledPolicy } from '../policy/policy.ts'
import { allowedIn } from './allowed.ts'

export interface WhoamiServiceOptions {
  authorizer: SarAuthorizer
  /** Where node debug pods run: the namespace the `node` permission is checked in. */
  nodeDebugNamespace: string
  /** The app's one compiled policy: `allowed` is what its evaluate() would let the caller do. */
  policy: CompiledPolicy
  /** sessions.defaultTtlSeconds, as the create path passes it. */
  defaultTtlSeconds: number
  /** The caller's live sessions, counted as the create path counts them (SessionFinder.userSessions). */
  liveSessions: (user: string) => Promise<number>
}

export class WhoamiService {
  readonly #o: WhoamiServiceOptions

  constructor (opts: WhoamiServiceOptions) {
    this.#o = opts
  }

  async whoami (id: Identity, namespace?: string): Promise<Whoami> {
    const body: Whoami = {
      user: id.user,
      groups: id.groups,
      authenticatedBy: id.method,
      delegated: id.actor !== undefined
    }
    if (id.uid) body.uid = id.uid
    if (id.actor) body.actor = { user: id.actor.user, groups: id.actor.groups }
    if (namespace) {
      body.namespace = namespace
      const can = await this.#can(id, namespace)
      body.can = can
      body.allowed = await allowedIn({
        policy: this.#o.policy,
        subject: id,
        namespace,
        can,
        defaultTtlSeconds: this.#o.defaultTtlSeconds,
        liveSessions: async () => await this.#o.liveSessions(id.user)
      })
    }
    return body
  }

  async #can (id: Identity, namespace: string): Promise<NonNullable<Whoami['can']>> {
    const entries = await Promise.all(WHOAMI_ACTIONS.map(async action => {
      const target = action === 'node' ? { namespace: this.#o.nodeDebugNamespace } : { namespace }
      const results = await Promise.all(permissionsFor(action, target).map(a => this.#o.authorizer.authorize(id, a)))
      return [action, results.every(r => r.allowed)] as const
    }))
    return Object.fromEntries(entries) as NonNullable<Whoami['can']>
  }
}
