// Console sign-in with OIDC in a real browser: the authorization-code flow
// with PKCE (S256) and a nonce against a provider on another origin; the ID
// token becomes the bearer token the gateway verifies; the code never stays
// in the address bar and nothing but the token is kept (sessionStorage).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import { startStack, type Stack } from '../helpers/stack.ts'
import { launchChromium, skipWithoutChromium as skip } from '../helpers/browser.ts'
import { startOidcProvider, type OidcProvider } from '../helpers/oidc-provider.ts'
import { buildUi } from '../../ui/build.ts'

let stack: Stack
let idp: OidcProvider
let browser: Browser | undefined
let uiDir: string

before(async () => {
  if (skip) return
  uiDir = mkdtempSync(join(tmpdir(), 'kdebug-ui-build-'))
  await buildUi({ outdir: uiDir, minify: false })
  idp = await startOidcProvider({ clientId: 'kdebug-console', user: { sub: 'alice', groups: ['dev'] } })
  stack = await startStack({
    config: {
      drops: { enabled: false },
      authentication: { mode: 'oidc', oidc: { issuerUrl: idp.issuer, audience: 'kdebug-console', usernamePrefix: '-' } },
      ui: { enabled: true, dir: uiDir, namespaces: ['demo'] }
    }
  })
  browser = await launchChromium()
})

after(async () => {
  if (skip) return
  await browser?.close()
  await stack?.close()
  await idp?.close()
  rmSync(uiDir, { recursive: true, force: true })
})

test('sign in with the OIDC provider: PKCE S256 and a nonce, the ID token is the bearer, the code leaves the URL', { skip }, async () => {
  const page = await browser!.newPage()
  page.on('pageerror', (err) => { throw err })
  await page.goto(`${stack.url}/ui/`)
  await page.getByRole('button', { name: `Sign in with ${new URL(idp.issuer).host}` }).click()
  await page.getByTestId('namespace-select').waitFor()
  assert.match(await page.locator('.me').innerText(), /^alice/)

  const [authz] = idp.authorizations
  assert.ok(authz)
  assert.equal(authz.get('code_challenge_method'), 'S256')
  assert.equal(authz.get('redirect_uri'), `${stack.url}/ui/`)
  assert.ok(authz.get('nonce'), 'a nonce')
  assert.ok(!authz.has('client_secret'), 'a public client has no secret')
  assert.equal(idp.tokens, 1)

  assert.equal(page.url(), `${stack.url}/ui/`, 'no code or state left in the address bar')
  const stored = await page.evaluate(() => Object.keys(sessionStorage))
  assert.deepEqual(stored.sort(), ['kdebug.namespace', 'kdebug.token'], 'the PKCE verifier is gone once used')
  const token = await page.evaluate(() => sessionStorage.getItem('kdebug.token'))
  assert.equal(token?.split('.').length, 3, 'a JWT')
  // The gateway takes that token from anyone holding it: it is alice's ID token.
  const who = await stack.request('/v1/whoami', { token: token! })
  assert.equal((await who.json() as { user: string }).user, 'alice')
  await page.close()
})
