// Configuration of authentication and authorization, embedded by src/config.ts.
// Defaults follow the API server where it has an equivalent, so a cluster
// operator finds the behaviour they already know.
import { Type, type Static } from '@sinclair/typebox'

export const OidcConfigSchema = Type.Object({
  issuerUrl: Type.String({ minLength: 1, description: 'OIDC issuer URL; must equal the `iss` claim (like --oidc-issuer-url).' }),
  jwksUri: Type.Optional(Type.String({ minLength: 1, description: 'JWKS URL; unset = discovered from <issuerUrl>/.well-known/openid-configuration.' })),
  audience: Type.String({ minLength: 1, description: 'Required `aud` value, usually the client id (like --oidc-client-id).' }),
  usernameClaim: Type.String({ minLength: 1, default: 'sub', description: 'Claim used as the user name (like --oidc-username-claim).' }),
  usernamePrefix: Type.Optional(Type.String({ description: 'Prefix for user names (like --oidc-username-prefix): unset = "<issuerUrl>#" unless the claim is email; "-" = none.' })),
  groupsClaim: Type.String({ default: 'groups', description: 'Claim holding the groups, a string or a list of strings (like --oidc-groups-claim).' }),
  groupsPrefix: Type.String({ default: '', description: 'Prefix added to every group (like --oidc-groups-prefix).' }),
  algorithms: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, default: ['RS256'], description: 'Accepted JWS algorithms (like --oidc-signing-algs).' }),
  clockToleranceSeconds: Type.Integer({ minimum: 0, maximum: 300, default: 10, description: 'Allowed clock skew for exp/nbf/iat.' })
}, { additionalProperties: false })
export type OidcConfig = Static<typeof OidcConfigSchema>

export const StaticTokensConfigSchema = Type.Object({
  file: Type.String({ minLength: 1, description: 'YAML/JSON list of {token | tokenSha256, user, uid?, groups[]}; store SHA-256 hex so the file holds no secrets.' })
}, { additionalProperties: false })
export type StaticTokensConfig = Static<typeof StaticTokensConfigSchema>

export const AuthenticationConfigSchema = Type.Object({
  mode: Type.Union([Type.Literal('tokenreview'), Type.Literal('oidc'), Type.Literal('static')], { default: 'tokenreview', description: 'How bearer tokens are checked: TokenReview against the cluster, an OIDC JWT, or a static tokens file.' }),
  // 10 s is the API server's delegating authenticator default (DelegatingAuthenticationOptions.CacheTTL).
  cacheTtlSeconds: Type.Integer({ minimum: 0, default: 10, description: 'How long a successful TokenReview is cached (by token hash); failures are never cached. 0 = no cache.' }),
  cacheSize: Type.Integer({ minimum: 1, default: 10000, description: 'Most token hashes kept in the TokenReview cache.' }),
  audiences: Type.Array(Type.String({ minLength: 1 }), { default: [], description: 'TokenReview audiences the token must be valid for; empty = the API server\'s own.' }),
  oidc: Type.Optional(OidcConfigSchema),
  static: Type.Optional(StaticTokensConfigSchema)
}, { additionalProperties: false, default: {} })
export type AuthenticationConfig = Static<typeof AuthenticationConfigSchema>

export const AuthorizationConfigSchema = Type.Object({
  mode: Type.Union([Type.Literal('sar'), Type.Literal('impersonate')], { default: 'sar', description: 'sar: check each action with a SubjectAccessReview; impersonate: also send cluster calls as the effective user.' }),
  // 10 s / 10 s are the API server's delegating authorizer defaults (allow/deny cache TTL).
  allowTtlSeconds: Type.Integer({ minimum: 0, default: 10, description: 'How long an allowed SubjectAccessReview decision is cached. 0 = no cache.' }),
  denyTtlSeconds: Type.Integer({ minimum: 0, default: 10, description: 'How long a denied SubjectAccessReview decision is cached. 0 = no cache.' }),
  cacheSize: Type.Integer({ minimum: 1, default: 10000, description: 'Most decisions kept in the SubjectAccessReview cache.' }),
  delegation: Type.Boolean({ default: true, description: 'Honour Impersonate-* headers from callers RBAC allows to impersonate; false refuses them with 400.' })
}, { additionalProperties: false, default: {} })
export type AuthorizationConfig = Static<typeof AuthorizationConfigSchema>
