// Builds the authenticator and authorizer the config asks for. The only place
// that knows all modes, so app.ts stays a list of wirings.
import type { Authenticator } from './authenticator.ts'
import type { AuthenticationConfig, AuthorizationConfig } from './config-schema.ts'
import { TokenReviewAuthenticator } from './tokenreview.ts'
import { OidcAuthenticator } from './oidc.ts'
import { StaticTokenAuthenticator } from './static-tokens.ts'
import { SarAuthorizer } from './authorizer.ts'
import type { ReviewClient } from '../kube/reviews.ts'

export interface AuthDeps {
  /** Needed by `tokenreview` mode and by the authorizer. */
  reviewClient?: ReviewClient
  /** Time source of the decision caches (ms); default the real clock. */
  clock?: () => number
}

/** Throws (at start-up) with the config key at fault when the mode's settings are missing. */
export function buildAuthenticator (config: AuthenticationConfig, deps: AuthDeps = {}): Authenticator {
  switch (config.mode) {
    case 'tokenreview':
      if (!deps.reviewClient) throw new Error('authentication.mode tokenreview needs a connection to the Kubernetes API server')
      return new TokenReviewAuthenticator({
        client: deps.reviewClient,
        ttlMs: config.cacheTtlSeconds * 1000,
        cacheSize: config.cacheSize,
        audiences: config.audiences,
        ...(deps.clock ? { clock: deps.clock } : {})
      })
    case 'oidc':
      if (!config.oidc) throw new Error('authentication.oidc (issuerUrl, audience) is required when authentication.mode is oidc')
      return new OidcAuthenticator(config.oidc)
    case 'static':
      if (!config.static) throw new Error('authentication.static.file is required when authentication.mode is static')
      return StaticTokenAuthenticator.fromFile(config.static.file)
  }
}

export function buildAuthorizer (config: AuthorizationConfig, deps: { reviewClient: ReviewClient, clock?: () => number }): SarAuthorizer {
  return new SarAuthorizer({
    client: deps.reviewClient,
    allowTtlMs: config.allowTtlSeconds * 1000,
    denyTtlMs: config.denyTtlSeconds * 1000,
    cacheSize: config.cacheSize,
    ...(deps.clock ? { clock: deps.clock } : {})
  })
}
