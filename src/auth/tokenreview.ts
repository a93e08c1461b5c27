// Bearer tokens checked by the cluster itself (TokenReview), so the gateway
// accepts exactly the tokens the API server accepts. Successful reviews are
// cached briefly by the token's SHA-256 (the token itself is never stored);
// rejections and errors are not cached, so a fixed token works at once and a
// blip upstream is not remembered as a 401.
import { createHash } from 'node:crypto'
import { withAuthenticatedGroup, type Authenticator } from './authenticator.ts'
import type { Principal } from './identity.ts'
import { SingleFlightCache, type CacheStats } from './single-flight.ts'
import type { ReviewClient } from '../kube/reviews.ts'

export interface TokenReviewAuthenticatorOptions {
  client: ReviewClient
  /** How long a successful review is reused; 0 = ask every time (still single-flight). */
  ttlMs: number
  cacheSize?: number
  /** Audiences to ask for; the token must be valid for at least one of them. */
  audiences?: string[]
  /** Time source of the cache TTL (ms); tests inject one. */
  clock?: () => number
}

export function tokenHash (token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

export class TokenReviewAuthenticator implements Authenticator {
  readonly method = 'tokenreview' as const
  private readonly client: ReviewClient
  private readonly ttlMs: number
  private readonly audiences: string[]
  private readonly cache: SingleFlightCache<string, Principal | undefined>

  constructor (options: TokenReviewAuthenticatorOptions) {
    this.client = options.client
    this.ttlMs = options.ttlMs
    this.audiences = options.audiences ?? []
    this.cache = new SingleFlightCache({ max: options.cacheSize ?? 10_000, ...(options.clock ? { now: options.clock } : {}) })
  }

  async authenticate (token: string): Promise<Principal | undefined> {
    return await this.cache.get(tokenHash(token), async () => {
      const principal = await this.review(token)
      return { value: principal, ttlMs: principal ? this.ttlMs : 0 }
    })
  }

  stats (): CacheStats {
    return this.cache.stats()
  }

  private async review (token: string): Promise<Principal | undefined> {
    const asked = this.audiences.length > 0 ? this.audiences : undefined
    const result = await this.client.tokenReview(token, asked)
    if (!result.authenticated || !result.user) return undefined
    // As the delegating authenticator does: a token for other audiences is not valid here.
    if (asked && result.audiences && !result.audiences.some(a => asked.includes(a))) return undefined
    return { ...result.user, groups: withAuthenticatedGroup(result.user.groups) }
  }
}
