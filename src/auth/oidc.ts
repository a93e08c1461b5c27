// OIDC ID tokens verified locally with jose against the issuer's JWKS, with
// the API server's --oidc-* semantics for user names and groups, so a person
// gets the same name here as in the cluster's RBAC bindings. A token that is
// expired, for someone else, or badly signed is invalid (401); an issuer or
// JWKS endpoint that cannot be reached is an outage (503), not a bad token.
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose'
import { Problems } from '../errors.ts'
import { withAuthenticatedGroup, type Authenticator } from './authenticator.ts'
import type { Principal } from './identity.ts'
import type { OidcConfig } from './config-schema.ts'

/** jose error codes that mean "this token is not acceptable"; any other failure is the issuer's. */
const INVALID_TOKEN_CODES = new Set([
  'ERR_JWT_EXPIRED', 'ERR_JWT_CLAIM_VALIDATION_FAILED', 'ERR_JWT_INVALID', 'ERR_JWS_INVALID',
  'ERR_JWS_SIGNATURE_VERIFICATION_FAILED', 'ERR_JOSE_ALG_NOT_ALLOWED', 'ERR_JOSE_NOT_SUPPORTED',
  'ERR_JWKS_NO_MATCHING_KEY', 'ERR_JWKS_MULTIPLE_MATCHING_KEYS'
])

const DISCOVERY_TIMEOUT_MS = 5000
const JWKS_RETRY_AFTER_SECONDS = 5

export interface OidcAuthenticatorOptions extends Omit<OidcConfig, 'usernameClaim' | 'groupsClaim' | 'groupsPrefix' | 'algorithms' | 'clockToleranceSeconds'> {
  usernameClaim?: string
  groupsClaim?: string
  groupsPrefix?: string
  algorithms?: string[]
  clockToleranceSeconds?: number
}

type JwksGetter = ReturnType<typeof createRemoteJWKSet>

/** --oidc-username-prefix: unset → "<issuer>#" for claims other than email; "-" → none. */
export function effectiveUsernamePrefix (opts: { issuerUrl: string, usernameClaim: string, usernamePrefix?: string }): string {
  if (opts.usernamePrefix === '-') return ''
  if (opts.usernamePrefix !== undefined) return opts.usernamePrefix
  return opts.usernameClaim === 'email' ? '' : `${opts.issuerUrl}#`
}

export class OidcAuthenticator implements Authenticator {
  readonly method = 'oidc' as const
  private readonly issuerUrl: string
  private readonly audience: string
  private readonly usernameClaim: string
  private readonly usernamePrefix: string
  private readonly groupsClaim: string
  private readonly groupsPrefix: string
  private readonly algorithms: string[]
  private readonly clockTolerance: number
  private readonly jwksUri: string | undefined
  private jwks: Promise<JwksGetter> | undefined

  constructor (options: OidcAuthenticatorOptions) {
    this.issuerUrl = options.issuerUrl
    this.audience = options.audience
    this.usernameClaim = options.usernameClaim ?? 'sub'
    this.usernamePrefix = effectiveUsernamePrefix({ issuerUrl: options.issuerUrl, usernameClaim: this.usernameClaim, usernamePrefix: options.usernamePrefix })
    this.groupsClaim = options.groupsClaim ?? 'groups'
    this.groupsPrefix = options.groupsPrefix ?? ''
    this.algorithms = options.algorithms ?? ['RS256']
    this.clockTolerance = options.clockToleranceSeconds ?? 10
    this.jwksUri = options.jwksUri
  }

  async authenticate (token: string): Promise<Principal | undefined> {
    // Not a compact JWS: no point fetching keys for it.
    if (token.split('.').length !== 3) return undefined
    const jwks = await this.keys()
    let payload: JWTPayload
    try {
      ({ payload } = await jwtVerify(token, jwks, {
        issuer: this.issuerUrl,
        audience: this.audience,
        algorithms: this.algorithms,
        clockTolerance: this.clockTolerance
      }))
    } catch (err) {
      const code = (err as { code?: unknown }).code
      if (typeof code === 'string' && INVALID_TOKEN_CODES.has(code)) return undefined
      throw Problems.upstreamUnavailable('The OIDC issuer\'s signing keys cannot be fetched.', { retryAfter: JWKS_RETRY_AFTER_SECONDS }, { cause: sanitized(err) })
    }
    return this.principal(payload)
  }

  private principal (payload: JWTPayload): Principal | undefined {
    const name = payload[this.usernameClaim]
    if (typeof name !== 'string' || name === '') return undefined
    // As the API server: an email user name needs email_verified to be true when present.
    if (this.usernameClaim === 'email' && payload.email_verified !== undefined && payload.email_verified !== true) return undefined
    const rawGroups = payload[this.groupsClaim]
    let groups: string[]
    if (rawGroups === undefined || rawGroups === null) groups = []
    else if (typeof rawGroups === 'string') groups = [rawGroups]
    else if (Array.isArray(rawGroups) && rawGroups.every(g => typeof g === 'string')) groups = rawGroups as string[]
    else return undefined
    return {
      user: this.usernamePrefix + name,
      groups: withAuthenticatedGroup(groups.map(g => this.groupsPrefix + g))
    }
  }

  private async keys (): Promise<JwksGetter> {
    // A failed discovery is forgotten so the next request tries again.
    this.jwks ??= this.resolveKeys().catch((err: unknown) => {
      this.jwks = undefined
      throw err
    })
    return await this.jwks
  }

  private async resolveKeys (): Promise<JwksGetter> {
    const uri = this.jwksUri ?? await this.discoverJwksUri()
    return createRemoteJWKSet(new URL(uri), { timeoutDuration: DISCOVERY_TIMEOUT_MS })
  }

  private async discoverJwksUri (): Promise<string> {
    const url = `${this.issuerUrl.replace(/\/+$/, '')}/.well-known/openid-configuration`
    const unavailable = (why: string, cause?: unknown) =>
      Problems.upstreamUnavailable(`OIDC discovery failed: ${why}.`, { retryAfter: JWKS_RETRY_AFTER_SECONDS }, { cause: sanitized(cause) })
    let res: Response
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(DISCOVERY_TIMEOUT_MS), redirect: 'error' })
    } catch (err) {
      throw unavailable('the issuer cannot be reached', err)
    }
    if (res.status !== 200) throw unavailable(`the issuer answered ${res.status}`)
    let doc: { issuer?: unknown, jwks_uri?: unknown }
    try {
      doc = await res.json() as typeof doc
    } catch (err) {
      throw unavailable('the discovery document is not JSON', err)
    }
    // OpenID Connect Discovery §4.3: the document's issuer must be the one we asked.
    if (doc.issuer !== this.issuerUrl) throw unavailable('the discovery document names another issuer')
    if (typeof doc.jwks_uri !== 'string') throw unavailable('the discovery document has no jwks_uri')
    return doc.jwks_uri
  }
}

function sanitized (err: unknown): Error | undefined {
  if (err === undefined) return undefined
  const e = err as { name?: string, code?: string, message?: string }
  return new Error(`${e.name ?? 'Error'}${e.code ? ` ${e.code}` : ''}: ${e.message ?? String(err)}`)
}
