import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { generateKeyPair, exportJWK, SignJWT, type CryptoKey, type JWTPayload } from 'jose'
import { OidcAuthenticator, effectiveUsernamePrefix, type OidcAuthenticatorOptions } from '../../src/auth/oidc.ts'
import { ProblemError } from '../../src/errors.ts'
import { startTestApp, get, bearer, type TestApp } from '../helpers/auth-fakes.ts'

interface Idp {
  issuer: string
  server: Server
  key: CryptoKey
  otherKey: CryptoKey
  requests: string[]
  failing: boolean
}

async function startIdp (): Promise<Idp> {
  const { publicKey, privateKey } = await generateKeyPair('RS256')
  const other = await generateKeyPair('RS256')
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }
  const idp = { requests: [] as string[], failing: false } as Idp
  idp.server = createServer((req, res) => {
    idp.requests.push(req.url ?? '')
    if (idp.failing) { res.writeHead(500).end(); return }
    if (req.url === '/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer: idp.issuer, jwks_uri: `${idp.issuer}/keys` }))
    } else if (req.url === '/keys') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }))
    } else {
      res.writeHead(404).end()
    }
  })
  await new Promise<void>(resolve => idp.server.listen(0, '127.0.0.1', resolve))
  idp.issuer = `http://127.0.0.1:${(idp.server.address() as AddressInfo).port}`
  idp.key = privateKey
  idp.otherKey = other.privateKey
  return idp
}

async function sign (idp: Idp, claims: JWTPayload, opts: { key?: CryptoKey, iss?: string, aud?: string, exp?: number | string } = {}): Promise<string> {
  return await new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
    .setIssuer(opts.iss ?? idp.issuer)
    .setAudience(opts.aud ?? 'kdebug')
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? '5m')
    .sign(opts.key ?? idp.key)
}

describe('oidc authentication', () => {
  let idp: Idp
  let t: TestApp
  let options: OidcAuthenticatorOptions

  before(async () => {
    idp = await startIdp()
    options = { issuerUrl: idp.issuer, audience: 'kdebug', usernamePrefix: '-' }
    t = await startTestApp({ authenticator: new OidcAuthenticator(options) })
  })
  after(async () => {
    await t.close()
    idp.server.closeAllConnections()
    await new Promise(resolve => idp.server.close(resolve))
  })

  test('a valid token (keys found by discovery) → its sub and groups', async () => {
    const res = await get(`${t.url}/whoami`, bearer(await sign(idp, { sub: 'alice', groups: ['dev', 'ops'] })))
    assert.equal(res.status, 200)
    assert.deepEqual(res.body, { user: 'alice', groups: ['dev', 'ops', 'system:authenticated'], method: 'oidc' })
    assert.deepEqual(idp.requests.slice(0, 2), ['/.well-known/openid-configuration', '/keys'])
  })

  test('expired → 401 invalid_token', async () => {
    const res = await get(`${t.url}/whoami`, bearer(await sign(idp, { sub: 'alice' }, { exp: Math.floor(Date.now() / 1000) - 3600 })))
    assert.equal(res.status, 401)
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="kdebug-gateway", error="invalid_token"')
  })

  test('wrong issuer, wrong audience, bad signature, not a JWT → 401', async () => {
    const tokens = [
      await sign(idp, { sub: 'alice' }, { iss: 'https://evil.example.com' }),
      await sign(idp, { sub: 'alice' }, { aud: 'someone-else' }),
      await sign(idp, { sub: 'alice' }, { key: idp.otherKey }),
      'not-a-jwt',
      'a.b.c'
    ]
    for (const token of tokens) assert.equal((await get(`${t.url}/whoami`, bearer(token))).status, 401)
  })

  test('an algorithm outside the allowed list → 401', async () => {
    const authn = new OidcAuthenticator({ ...options, algorithms: ['ES256'] })
    assert.equal(await authn.authenticate(await sign(idp, { sub: 'alice' })), undefined)
  })

  test('missing or non-string user name claim, bad groups claim → 401', async () => {
    const authn = new OidcAuthenticator(options)
    assert.equal(await authn.authenticate(await sign(idp, {})), undefined)
    assert.equal(await authn.authenticate(await sign(idp, { sub: 'a', groups: [1, 2] })), undefined)
    assert.deepEqual(await authn.authenticate(await sign(idp, { sub: 'a', groups: 'solo' })), { user: 'a', groups: ['solo', 'system:authenticated'] })
  })

  test('username claim and prefixes follow --oidc-username-prefix / --oidc-groups-prefix', async () => {
    const claims = { sub: 'u-123', email: 'alice@example.com', email_verified: true, roles: ['dev'] }
    const token = await sign(idp, claims)
    const byDefault = new OidcAuthenticator({ issuerUrl: idp.issuer, audience: 'kdebug' })
    assert.equal((await byDefault.authenticate(token))?.user, `${idp.issuer}#u-123`)
    const prefixed = new OidcAuthenticator({ ...options, usernamePrefix: 'oidc:', groupsClaim: 'roles', groupsPrefix: 'oidc:' })
    assert.deepEqual(await prefixed.authenticate(token), { user: 'oidc:u-123', groups: ['oidc:dev', 'system:authenticated'] })
    const byEmail = new OidcAuthenticator({ issuerUrl: idp.issuer, audience: 'kdebug', usernameClaim: 'email' })
    assert.equal((await byEmail.authenticate(token))?.user, 'alice@example.com')
    const unverified = await sign(idp, { ...claims, email_verified: false })
    assert.equal(await byEmail.authenticate(unverified), undefined)
    assert.equal(effectiveUsernamePrefix({ issuerUrl: 'https://i', usernameClaim: 'sub', usernamePrefix: '-' }), '')
  })

  test('an explicit jwksUri skips discovery', async () => {
    idp.requests.length = 0
    const authn = new OidcAuthenticator({ ...options, jwksUri: `${idp.issuer}/keys` })
    assert.equal((await authn.authenticate(await sign(idp, { sub: 'bob' })))?.user, 'bob')
    assert.deepEqual(idp.requests, ['/keys'])
  })

  test('issuer unreachable → 503 (not 401); a later request retries discovery', async () => {
    idp.failing = true
    const authn = new OidcAuthenticator(options)
    const token = await sign(idp, { sub: 'alice' })
    await assert.rejects(authn.authenticate(token), (err: unknown) => {
      assert.ok(err instanceof ProblemError)
      assert.equal(err.status, 503)
      assert.ok(!err.detail.includes(token))
      return true
    })
    idp.failing = false
    assert.equal((await authn.authenticate(token))?.user, 'alice')
  })

  test('JWKS endpoint failing → 503 over HTTP', async () => {
    const app = await startTestApp({ authenticator: new OidcAuthenticator({ ...options, jwksUri: `${idp.issuer}/keys` }) })
    try {
      idp.failing = true
      const res = await get(`${app.url}/whoami`, bearer(await sign(idp, { sub: 'alice' })))
      assert.equal(res.status, 503)
      assert.equal(res.headers.get('retry-after'), '5')
    } finally {
      idp.failing = false
      await app.close()
    }
  })

  test('a discovery document naming another issuer is refused (503)', async () => {
    const authn = new OidcAuthenticator({ ...options, issuerUrl: `${idp.issuer}/` })
    await assert.rejects(authn.authenticate(await sign(idp, { sub: 'a' }, { iss: `${idp.issuer}/` })), (err: unknown) => err instanceof ProblemError && err.status === 503)
  })
})
