// The console's static serving over real HTTP: off by default, public when
// on (no token), strict headers, a config.json without secrets, and a start
// that fails loudly when the console was never built.
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startStack, type Stack } from '../helpers/stack.ts'
import { resolveConfig } from '../../src/config.ts'
import Fastify from 'fastify'
import { clientConfig, contentSecurityPolicy, UiBuildMissingError, uiPlugin } from '../../src/ui/plugin.ts'

const OIDC = { mode: 'oidc', oidc: { issuerUrl: 'https://login.example.com/realms/k8s', audience: 'kdebug' } }

function fakeBuild (): string {
  const dir = mkdtempSync(join(tmpdir(), 'kdebug-ui-'))
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>kdebug console</title><script type="module" src="./main-ABC.js"></script>')
  writeFileSync(join(dir, 'main-ABC.js'), 'console.log(1)')
  mkdirSync(join(dir, 'sub'))
  return dir
}

describe('ui disabled (the default)', () => {
  let stack: Stack
  before(async () => { stack = await startStack({ config: { drops: { enabled: false } } }) })
  after(async () => { await stack.close() })

  test('no /ui/ and no /ui/config.json', async () => {
    assert.equal(stack.config.ui.enabled, false)
    for (const path of ['/ui/', '/ui/config.json', '/ui/index.html']) {
      const res = await stack.request(path)
      assert.equal(res.status, 404, path)
    }
  })
})

describe('ui enabled', () => {
  let stack: Stack
  let dir: string
  before(async () => {
    dir = fakeBuild()
    stack = await startStack({ config: { drops: { enabled: false }, ui: { enabled: true, dir, namespaces: ['demo', 'payments'], frameAncestors: ['https://portal.example.com'] } } })
  })
  after(async () => {
    await stack.close()
    rmSync(dir, { recursive: true, force: true })
  })

  test('/ui redirects to /ui/, which serves index.html without a token, never cached, with a strict CSP', async () => {
    const redirect = await stack.request('/ui', { redirect: 'manual' })
    assert.equal(redirect.status, 308)
    assert.equal(redirect.headers.get('location'), '/ui/')
    const res = await stack.request('/ui/')
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/)
    assert.match(await res.text(), /kdebug console/)
    assert.equal(res.headers.get('cache-control'), 'no-cache')
    const csp = res.headers.get('content-security-policy') ?? ''
    assert.match(csp, /default-src 'none'/)
    assert.match(csp, /script-src 'self' 'wasm-unsafe-eval'(;|$)/)
    assert.match(csp, /frame-ancestors 'self' https:\/\/portal\.example\.com/)
    assert.doesNotMatch(csp, /'unsafe-eval'|\*/)
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff')
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer')
  })

  test('hashed bundles are cached for good; unknown files and directories are 404, not an index or a listing', async () => {
    const js = await stack.request('/ui/main-ABC.js')
    assert.equal(js.status, 200)
    assert.match(js.headers.get('cache-control') ?? '', /immutable/)
    assert.match(js.headers.get('content-type') ?? '', /javascript/)
    assert.equal((await stack.request('/ui/nope.js')).status, 404)
    assert.equal((await stack.request('/ui/sub/')).status, 404)
    assert.equal((await stack.request('/ui/../package.json')).status, 404)
  })

  test('config.json: the namespaces to offer, no OIDC without OIDC authentication, no-store', async () => {
    const res = await stack.request('/ui/config.json')
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('cache-control'), 'no-store')
    assert.deepEqual(await res.json(), { namespaces: ['demo', 'payments'], nodeDebugNamespace: 'kdebug' })
  })

  test('the console\'s routes stay out of the API contract', async () => {
    const spec = await (await stack.request('/openapi.json')).json() as { paths: Record<string, unknown> }
    assert.ok(!Object.keys(spec.paths).some(p => p.startsWith('/ui')), Object.keys(spec.paths).join(' '))
  })
})

describe('config.json and CSP with OIDC', () => {
  test('issuer and the public client id (default: the audience), scopes; never anything else of the config', () => {
    const config = resolveConfig({ authentication: OIDC, ui: { enabled: true } })
    const out = clientConfig({ ui: config.ui, authentication: config.authentication, nodeDebugNamespace: 'kdebug' })
    assert.deepEqual(out, { namespaces: [], nodeDebugNamespace: 'kdebug', oidc: { issuer: 'https://login.example.com/realms/k8s', clientId: 'kdebug', scopes: ['openid', 'profile', 'email'] } })
    const own = resolveConfig({ authentication: OIDC, ui: { enabled: true, oidc: { clientId: 'kdebug-console', scopes: ['openid', 'groups'] } } })
    assert.deepEqual(clientConfig({ ui: own.ui, authentication: own.authentication, nodeDebugNamespace: 'x' }).oidc, { issuer: 'https://login.example.com/realms/k8s', clientId: 'kdebug-console', scopes: ['openid', 'groups'] })
    // The token exchange goes to the issuer: only its origin is added to connect-src.
    assert.match(contentSecurityPolicy({ ui: config.ui, authentication: config.authentication, nodeDebugNamespace: 'kdebug' }), /connect-src 'self' https:\/\/login\.example\.com;/)
  })

  test('OIDC settings of the console are not exposed while the gateway does not verify OIDC tokens', () => {
    const config = resolveConfig({ authentication: { ...OIDC, mode: 'tokenreview' }, ui: { enabled: true } })
    assert.equal(clientConfig({ ui: config.ui, authentication: config.authentication, nodeDebugNamespace: 'kdebug' }).oidc, undefined)
  })

  test('bad ui settings are refused naming the key', () => {
    assert.throws(() => resolveConfig({ ui: { frameAncestors: ['*'] } }), /ui\.frameAncestors\.0/)
    assert.throws(() => resolveConfig({ ui: { namespaces: ['Not_A_Namespace'] } }), /ui\.namespaces\.0/)
  })
})

test('enabled without a build: the app refuses to start and says how to build', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kdebug-ui-empty-'))
  try {
    const config = resolveConfig({ ui: { enabled: true, dir } })
    const app = Fastify()
    app.register(uiPlugin, { ui: config.ui, authentication: config.authentication, nodeDebugNamespace: 'kdebug' })
    await assert.rejects(async () => { await app.ready() }, (err: Error) => {
      assert.ok(err instanceof UiBuildMissingError, err.message)
      assert.match(err.message, /npm run build:ui/)
      return true
    })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
