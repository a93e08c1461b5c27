// Sign-in. The token lives in sessionStorage only (this tab, gone when it
// closes): never in a URL, a cookie or a log. With OIDC configured the
// console is a public client doing the authorization-code flow with PKCE
// (RFC 7636) and a nonce, via oauth4webapi; the ID token is the bearer token
// the gateway verifies (authentication.mode oidc: aud = the client id).
import * as oauth from 'oauth4webapi'
import type { UiConfig } from './api.ts'

const TOKEN_KEY = 'kdebug.token'
const PENDING_KEY = 'kdebug.oidc.pending'

export function storedToken (): string | null {
  return sessionStorage.getItem(TOKEN_KEY)
}

export function storeToken (token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token)
}

export function forgetToken (): void {
  sessionStorage.removeItem(TOKEN_KEY)
}

type OidcConfig = NonNullable<UiConfig['oidc']>

interface Pending { verifier: string, state: string, nonce: string }

/** The console's own URL without query or fragment: the redirect URI the provider must list. */
export function redirectUri (loc: Location = location): string {
  return loc.origin + loc.pathname
}

function isLoopback (url: URL): boolean {
  return url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]'
}

/** oauth4webapi refuses http: an http issuer is accepted on loopback only (development, tests). */
function requestOptions (issuer: URL): { [oauth.allowInsecureRequests]?: boolean } {
  return issuer.protocol === 'http:' && isLoopback(issuer) ? { [oauth.allowInsecureRequests]: true } : {}
}

async function discover (cfg: OidcConfig): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(cfg.issuer)
  const res = await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...requestOptions(issuer) })
  return await oauth.processDiscoveryResponse(issuer, res)
}

/** Sends the browser to the provider's authorization endpoint. */
export async function startOidcSignIn (cfg: OidcConfig): Promise<void> {
  const as = await discover(cfg)
  if (!as.authorization_endpoint) throw new Error('the OIDC provider has no authorization_endpoint')
  const pending: Pending = { verifier: oauth.generateRandomCodeVerifier(), state: oauth.generateRandomState(), nonce: oauth.generateRandomNonce() }
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending))
  const url = new URL(as.authorization_endpoint)
  url.searchParams.set('client_id', cfg.clientId)
  url.searchParams.set('redirect_uri', redirectUri())
  url.searchParams.set('response_type', 'code')
  url.searchParams.set('scope', cfg.scopes.join(' '))
  url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(pending.verifier))
  url.searchParams.set('code_challenge_method', 'S256')
  url.searchParams.set('state', pending.state)
  url.searchParams.set('nonce', pending.nonce)
  location.assign(url.href)
}

/**
 * On the redirect back (?code=&state=): exchanges the code for an ID token and
 * removes the code from the address bar. Null when this is not a redirect back.
 */
export async function finishOidcSignIn (cfg: OidcConfig): Promise<string | null> {
  const current = new URL(location.href)
  if (!current.searchParams.has('state') && !current.searchParams.has('error')) return null
  const raw = sessionStorage.getItem(PENDING_KEY)
  sessionStorage.removeItem(PENDING_KEY)
  history.replaceState(null, '', redirectUri())
  if (!raw) throw new Error('sign-in answer without a pending sign-in: start again')
  const pending = JSON.parse(raw) as Pending
  const as = await discover(cfg)
  const client: oauth.Client = { client_id: cfg.clientId }
  const params = oauth.validateAuthResponse(as, client, current, pending.state)
  const opts = requestOptions(new URL(cfg.issuer))
  const res = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, redirectUri(), pending.verifier, opts)
  const result = await oauth.processAuthorizationCodeResponse(as, client, res, { expectedNonce: pending.nonce, requireIdToken: true })
  if (!result.id_token) throw new Error('the OIDC provider returned no ID token')
  return result.id_token
}
