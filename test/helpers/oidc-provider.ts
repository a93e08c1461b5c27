// A small OpenID provider for browser sign-in tests: discovery, JWKS, an
// authorization endpoint that signs the user in at once (no login page) and a
// token endpoint that insists on PKCE S256 (RFC 7636) for a public client.
// CORS is open, as real providers' discovery and token endpoints are for SPAs.
import { createHash, randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose'

export interface OidcProvider {
  issuer: string
  clientId: string
  /** Every authorization request's query, as received. */
  authorizations: URLSearchParams[]
  /** Token requests answered (after PKCE checked). */
  tokens: number
  close: () => Promise<void>
}

interface Grant { challenge: string, nonce: string | null, redirectUri: string }

export async function startOidcProvider (opts: { clientId: string, user: { sub: string, groups: string[] } }): Promise<OidcProvider> {
  const { publicKey, privateKey } = await generateKeyPair('RS256')
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }
  const grants = new Map<string, Grant>()
  const provider: OidcProvider = { issuer: '', clientId: opts.clientId, authorizations: [], tokens: 0, close: async () => {} }

  const idToken = async (key: CryptoKey, nonce: string | null): Promise<string> => await new SignJWT({ groups: opts.user.groups, ...(nonce ? { nonce } : {}) })
    .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
    .setIssuer(provider.issuer)
    .setSubject(opts.user.sub)
    .setAudience(opts.clientId)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(key)

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', provider.issuer)
    const json = (status: number, body: unknown): void => { res.writeHead(status, { 'content-type': 'application/json', 'access-control-allow-origin': '*' }).end(JSON.stringify(body)) }
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { 'access-control-allow-origin': '*', 'access-control-allow-headers': '*', 'access-control-allow-methods': 'GET, POST' }).end()
      return
    }
    if (url.pathname === '/.well-known/openid-configuration') {
      json(200, {
        issuer: provider.issuer,
        authorization_endpoint: `${provider.issuer}/authorize`,
        token_endpoint: `${provider.issuer}/token`,
        jwks_uri: `${provider.issuer}/keys`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        code_challenge_methods_supported: ['S256'],
        token_endpoint_auth_methods_supported: ['none']
      })
      return
    }
    if (url.pathname === '/keys') { json(200, { keys: [jwk] }); return }
    if (url.pathname === '/authorize') {
      const q = url.searchParams
      provider.authorizations.push(q)
      const redirectUri = q.get('redirect_uri') ?? ''
      if (q.get('client_id') !== opts.clientId || q.get('response_type') !== 'code' || q.get('code_challenge_method') !== 'S256' || !q.get('code_challenge')) {
        res.writeHead(400).end('bad authorization request')
        return
      }
      const code = randomBytes(16).toString('hex')
      grants.set(code, { challenge: q.get('code_challenge') as string, nonce: q.get('nonce'), redirectUri })
      const back = new URL(redirectUri)
      back.searchParams.set('code', code)
      back.searchParams.set('state', q.get('state') ?? '')
      res.writeHead(302, { location: back.href }).end()
      return
    }
    if (url.pathname === '/token' && req.method === 'POST') {
      let body = ''
      req.on('data', (c: Buffer) => { body += c.toString() })
      req.on('end', () => {
        const form = new URLSearchParams(body)
        const grant = grants.get(form.get('code') ?? '')
        grants.delete(form.get('code') ?? '')
        const verifier = form.get('code_verifier') ?? ''
        const ok = grant !== undefined && form.get('grant_type') === 'authorization_code' && form.get('client_id') === opts.clientId &&
          form.get('redirect_uri') === grant.redirectUri && createHash('sha256').update(verifier).digest('base64url') === grant.challenge
        if (!ok || !grant) { json(400, { error: 'invalid_grant' }); return }
        provider.tokens++
        idToken(privateKey, grant.nonce).then(
          (token) => json(200, { access_token: randomBytes(16).toString('hex'), token_type: 'Bearer', expires_in: 600, id_token: token }),
          () => json(500, { error: 'server_error' })
        )
      })
      return
    }
    res.writeHead(404).end()
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  provider.issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  provider.close = async () => { await new Promise<void>(resolve => server.close(() => resolve())) }
  return provider
}
