import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import { StaticTokenAuthenticator, compileStaticTokens, loadStaticTokensFile } from '../../src/auth/static-tokens.ts'
import { buildAuthenticator } from '../../src/auth/factory.ts'
import { startTestApp, get, bearer, type TestApp } from '../helpers/auth-fakes.ts'

const sha = (s: string) => createHash('sha256').update(s).digest('hex')

describe('static tokens file', () => {
  let dir: string
  let file: string
  let t: TestApp

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kdebug-static-'))
    file = join(dir, 'tokens.yaml')
    writeFileSync(file, [
      '# alice keeps only the hash of her token in this file',
      `- tokenSha256: ${sha('alice-secret-token')}`,
      '  user: alice',
      '  uid: "1001"',
      '  groups: [dev]',
      '- token: bob-plain-token',
      '  user: bob',
      ''
    ].join('\n'))
    const authenticator = buildAuthenticator({ mode: 'static', cacheTtlSeconds: 10, cacheSize: 10, audiences: [], static: { file } })
    t = await startTestApp({ authenticator })
  })
  after(async () => {
    await t.close()
    rmSync(dir, { recursive: true, force: true })
  })

  test('a token stored as a SHA-256 hash authenticates', async () => {
    const res = await get(`${t.url}/whoami`, bearer('alice-secret-token'))
    assert.equal(res.status, 200)
    assert.deepEqual(res.body, { user: 'alice', uid: '1001', groups: ['dev', 'system:authenticated'], method: 'static' })
  })

  test('a plain token authenticates', async () => {
    const res = await get(`${t.url}/whoami`, bearer('bob-plain-token'))
    assert.equal(res.status, 200)
    assert.deepEqual(res.body, { user: 'bob', groups: ['system:authenticated'], method: 'static' })
  })

  test('an unknown token, or the hash itself used as a token, → 401', async () => {
    for (const token of ['nope', sha('alice-secret-token'), 'alice-secret-token2']) {
      const res = await get(`${t.url}/whoami`, bearer(token))
      assert.equal(res.status, 401)
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="kdebug-gateway", error="invalid_token"')
    }
  })

  test('JSON files and {tokens: [...]} work too', async () => {
    const json = join(dir, 'tokens.json')
    writeFileSync(json, JSON.stringify({ tokens: [{ token: 'carol-token', user: 'carol', groups: ['sre'] }] }))
    const authn = StaticTokenAuthenticator.fromFile(json)
    assert.deepEqual(await authn.authenticate('carol-token'), { user: 'carol', groups: ['sre', 'system:authenticated'] })
    assert.equal(await authn.authenticate('carol'), undefined)
  })

  test('bad entries are refused at load time, naming the entry but never the token', () => {
    const cases: Array<[unknown, RegExp]> = [
      [[{ token: 'sekrit-1', groups: [] }], /entry 0: "user" must be a non-empty string/],
      [[{ user: 'a' }], /entry 0 \(a\): give exactly one of "token" or "tokenSha256"/],
      [[{ user: 'a', token: 'sekrit-2', tokenSha256: sha('x') }], /exactly one/],
      [[{ user: 'a', tokenSha256: 'abc' }], /64 hex digits/],
      [[{ user: 'a', token: 'sekrit-3', groups: 'dev' }], /"groups" must be a list/],
      [[{ user: 'a', token: 'sekrit-4' }, { user: 'b', tokenSha256: sha('sekrit-4') }], /entry 1 \(b\): the same token appears twice/],
      [{ users: [] }, /expected a list/]
    ]
    for (const [entries, re] of cases) {
      assert.throws(() => compileStaticTokens(entries), (err: Error) => {
        assert.match(err.message, re)
        assert.doesNotMatch(err.message, /sekrit/)
        return true
      })
    }
  })

  test('an unreadable or unparsable file fails with the file name, not its content', () => {
    assert.throws(() => loadStaticTokensFile(join(dir, 'missing.yaml')), /missing\.yaml: ENOENT/)
    const bad = join(dir, 'bad.yaml')
    writeFileSync(bad, '- token: "sekrit-5\n  user: [')
    assert.throws(() => loadStaticTokensFile(bad), (err: Error) => {
      assert.match(err.message, /not valid YAML or JSON/)
      assert.doesNotMatch(err.message, /sekrit/)
      return true
    })
  })

  test('the factory refuses static mode without a file', () => {
    assert.throws(() => buildAuthenticator({ mode: 'static', cacheTtlSeconds: 10, cacheSize: 10, audiences: [] }), /authentication\.static\.file/)
  })
})
