// Bearer-token authentication for the sim: a static token table, like the
// API server's --token-auth-file authenticator behind the group-adding wrapper.
import type { UserInfo } from '../apimachinery/types.ts'

const AUTHENTICATED = 'system:authenticated'

export class TokenAuthenticator {
  readonly #tokens = new Map<string, UserInfo>()

  constructor (entries: Array<{ token: string, user: UserInfo }> = []) {
    for (const e of entries) this.add(e.token, e.user)
  }

  add (token: string, user: UserInfo): void {
    this.#tokens.set(token, structuredClone(user))
  }

  revoke (token: string): void {
    this.#tokens.delete(token)
  }

  /** undefined for unknown tokens. Adds group 'system:authenticated' like the real authenticator chain. */
  authenticate (token: string): UserInfo | undefined {
    const u = this.#tokens.get(token)
    if (!u) return undefined
    const out: UserInfo = structuredClone(u)
    // authenticator/group/authenticated_group_adder.go adds it unless already present
    if (!out.groups.includes(AUTHENTICATED)) out.groups = [...out.groups, AUTHENTICATED]
    return out
  }
}
