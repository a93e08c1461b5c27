import { test, describe, beforeEach, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { StaticTokenAuthenticator } from '../../src/auth/static-tokens.ts'
import { SarAuthorizer } from '../../src/auth/authorizer.ts'
import { parseImpersonation, impersonationChecks, impersonatedGroups, splitServiceAccount } from '../../src/auth/delegation.ts'
import { impersonationHeadersFor, headerKeyEscape } from '../../src/kube/impersonation.ts'
import { ProblemError } from '../../src/errors.ts'
import { FakeReviewClient, startTestApp, type TestApp } from '../helpers/auth-fakes.ts'

/** GET with node:http so a header can be sent as several separate lines (array value). */
function rawGet (url: string, headers: Record<string, string | string[]>): Promise<{ status: number, body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, res => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { text += c })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }))
    })
    req.on('error', reject)
    req.end()
  })
}

const BOT = { authorization: 'Bearer bot-token' }

describe('delegation (Impersonate-*)', () => {
  let client: FakeReviewClient
  let t: TestApp

  async function start (delegation?: boolean): Promise<void> {
    const authenticator = new StaticTokenAuthenticator([
      { token: 'bot-token', user: 'ci-bot', uid: 'bot-uid', groups: ['bots'] },
      { token: 'alice-token', user: 'alice', groups: ['dev'] }
    ])
    const authorizer = new SarAuthorizer({ client, allowTtlMs: 10_000, denyTtlMs: 10_000 })
    t = await startTestApp({ authenticator, authorizer, client, ...(delegation === undefined ? {} : { delegation }) })
  }

  beforeEach(() => {
    client = new FakeReviewClient()
    client.rules.push({ user: 'ci-bot', verb: 'impersonate', resource: 'users', name: 'alice' })
    client.rules.push({ user: 'ci-bot', verb: 'impersonate', resource: 'groups', name: 'dev' })
    client.rules.push({ user: 'alice', verb: 'list', resource: 'pods', namespace: 'demo' })
  })
  afterEach(async () => { await t?.close() })

  test('a bot allowed to impersonate alice gets alice, with itself as actor', async () => {
    await start()
    const res = await rawGet(`${t.url}/whoami`, { ...BOT, 'impersonate-user': 'alice' })
    assert.equal(res.status, 200)
    assert.deepEqual(res.body, {
      user: 'alice',
      groups: ['system:authenticated'],
      method: 'static',
      actor: { user: 'ci-bot', uid: 'bot-uid', groups: ['bots', 'system:authenticated'] }
    })
    // the impersonate check was a SAR for the *caller*
    assert.deepEqual(client.sarCalls[0], {
      user: 'ci-bot',
      uid: 'bot-uid',
      groups: ['bots', 'system:authenticated'],
      resourceAttributes: { verb: 'impersonate', group: '', version: 'v1', resource: 'users', name: 'alice' }
    })
  })

  test('... and alice\'s rights: the route SAR is for alice, not the bot', async () => {
    await start()
    const res = await rawGet(`${t.url}/namespaces/demo/pods`, { ...BOT, 'impersonate-user': 'alice' })
    assert.equal(res.status, 200)
    assert.equal(client.sarCalls.at(-1)?.user, 'alice')
    // the bot itself may not list pods
    assert.equal((await rawGet(`${t.url}/namespaces/demo/pods`, BOT)).status, 403)
  })

  test('not allowed → 403 naming what may not be impersonated', async () => {
    await start()
    const res = await rawGet(`${t.url}/whoami`, { ...BOT, 'impersonate-user': 'mallory' })
    assert.equal(res.status, 403)
    assert.equal(res.body.type, 'https://kdebug.dev/problems/impersonation-forbidden')
    assert.equal(res.body.permission, 'impersonate users "mallory" (cluster scope)')
    assert.match(res.body.detail, /^User "ci-bot" cannot impersonate users "mallory"/)
  })

  test('groups are checked one by one: dev allowed, sre denied → 403 naming sre', async () => {
    await start()
    const res = await rawGet(`${t.url}/whoami`, { ...BOT, 'impersonate-user': 'alice', 'impersonate-group': ['dev', 'sre'] })
    assert.equal(res.status, 403)
    assert.equal(res.body.permission, 'impersonate groups "sre" (cluster scope)')
    assert.deepEqual(client.sarCalls.map(c => `${c.resourceAttributes.resource}/${c.resourceAttributes.name}`), ['users/alice', 'groups/dev', 'groups/sre'])
  })

  test('all groups allowed → the identity has exactly those groups plus system:authenticated', async () => {
    client.rules.push({ user: 'ci-bot', verb: 'impersonate', resource: 'groups', name: 'sre' })
    await start()
    const res = await rawGet(`${t.url}/whoami`, { ...BOT, 'impersonate-user': 'alice', 'impersonate-group': ['dev', 'sre'] })
    assert.equal(res.status, 200)
    assert.deepEqual(res.body.groups, ['dev', 'sre', 'system:authenticated'])
  })

  test('one header line is one group, even with a comma in it (as the API server)', async () => {
    client.rules.push({ user: 'ci-bot', verb: 'impersonate', resource: 'groups', name: 'a,b' })
    await start()
    const res = await rawGet(`${t.url}/whoami`, { ...BOT, 'impersonate-user': 'alice', 'impersonate-group': 'a,b' })
    assert.equal(res.status, 200)
    assert.deepEqual(res.body.groups, ['a,b', 'system:authenticated'])
  })

  test('service account form: impersonate serviceaccounts in its namespace, SA groups derived', async () => {
    client.rules.push({ user: 'ci-bot', verb: 'impersonate', resource: 'serviceaccounts', namespace: 'ci', name: 'deployer' })
    await start()
    const res = await rawGet(`${t.url}/whoami`, { ...BOT, 'impersonate-user': 'system:serviceaccount:ci:deployer' })
    assert.equal(res.status, 200)
    assert.equal(res.body.user, 'system:serviceaccount:ci:deployer')
    assert.deepEqual(res.body.groups, ['system:serviceaccounts', 'system:serviceaccounts:ci', 'system:authenticated'])
    assert.deepEqual(client.sarCalls[0]?.resourceAttributes, { verb: 'impersonate', group: '', version: 'v1', resource: 'serviceaccounts', namespace: 'ci', name: 'deployer' })
    // a bot allowed for users/alice is not thereby allowed for a service account
    const denied = await rawGet(`${t.url}/whoami`, { ...BOT, 'impersonate-user': 'system:serviceaccount:prod:admin' })
    assert.equal(denied.status, 403)
    assert.equal(denied.body.permission, 'impersonate serviceaccounts "admin" in namespace prod')
  })

  test('uid and extras are checked in the authentication.k8s.io group', async () => {
    client.rules.push({ user: 'ci-bot', verb: 'impersonate', apiGroup: 'authentication.k8s.io', resource: 'userextras', subresource: 'scopes', name: 'view' })
    await start()
    const res = await rawGet(`${t.url}/whoami`, { ...BOT, 'impersonate-user': 'alice', 'impersonate-extra-scopes': 'view', 'impersonate-uid': 'other-uid' })
    assert.equal(res.status, 403)
    assert.equal(res.body.permission, 'impersonate uids.authentication.k8s.io "other-uid" (cluster scope)')
    const extraDenied = await rawGet(`${t.url}/whoami`, { ...BOT, 'impersonate-user': 'alice', 'impersonate-extra-scopes': 'admin' })
    assert.equal(extraDenied.body.permission, 'impersonate userextras/scopes.authentication.k8s.io "admin" (cluster scope)')
    client.rules.push({ user: 'ci-bot', verb: 'impersonate', apiGroup: 'authentication.k8s.io', resource: 'uids', name: 'alice-uid' })
    const ok = await rawGet(`${t.url}/whoami`, { ...BOT, 'impersonate-user': 'alice', 'impersonate-extra-scopes': 'view', 'impersonate-uid': 'alice-uid' })
    assert.equal(ok.status, 200)
    assert.equal(ok.body.uid, 'alice-uid')
    assert.deepEqual(ok.body.extra, { scopes: ['view'] })
  })

  test('Impersonate-Group without Impersonate-User → 400', async () => {
    await start()
    const res = await rawGet(`${t.url}/whoami`, { ...BOT, 'impersonate-group': 'dev' })
    assert.equal(res.status, 400)
    assert.match(res.body.detail, /require Impersonate-User/)
    assert.equal(client.sarCalls.length, 0)
  })

  test('Impersonate-User twice → 400', async () => {
    await start()
    const res = await rawGet(`${t.url}/whoami`, { ...BOT, 'impersonate-user': ['alice', 'bob'] })
    assert.equal(res.status, 400)
  })

  test('the API server down during the impersonate check → 503, never the impersonated identity', async () => {
    await start()
    client.down = true
    const res = await rawGet(`${t.url}/whoami`, { ...BOT, 'impersonate-user': 'alice' })
    assert.equal(res.status, 503)
  })

  test('delegation disabled → Impersonate-* headers are refused, not ignored', async () => {
    await start(false)
    const res = await rawGet(`${t.url}/whoami`, { ...BOT, 'impersonate-user': 'alice' })
    assert.equal(res.status, 400)
    assert.equal((await rawGet(`${t.url}/whoami`, BOT)).status, 200)
  })

  test('with app.inject (no headersDistinct) comma-joined groups are split', async () => {
    client.rules.push({ user: 'ci-bot', verb: 'impersonate', resource: 'groups', name: 'sre' })
    await start()
    const res = await t.app.inject({ url: '/whoami', headers: { ...BOT, 'impersonate-user': 'alice', 'impersonate-group': ['dev', 'sre'] } })
    assert.equal(res.statusCode, 200)
    assert.deepEqual(res.json().groups, ['dev', 'sre', 'system:authenticated'])
  })
})

describe('delegation rules (pure)', () => {
  test('parseImpersonation: nothing → undefined; extra keys are lower-cased and %-decoded', () => {
    assert.equal(parseImpersonation({ accept: '*/*' }), undefined)
    const r = parseImpersonation({ 'impersonate-user': 'alice', 'impersonate-extra-acme.com%2fproject': ['p1', 'p2'] })
    assert.deepEqual(r, { user: 'alice', extra: { 'acme.com/project': ['p1', 'p2'] } })
    assert.throws(() => parseImpersonation({ 'impersonate-uid': 'x' }), (e: unknown) => e instanceof ProblemError && e.status === 400)
    assert.throws(() => parseImpersonation({ 'impersonate-extra-a': 'x' }), (e: unknown) => e instanceof ProblemError && e.status === 400)
  })

  test('checks come in the API server order: user, groups, extras, uid', () => {
    const checks = impersonationChecks({ user: 'alice', groups: ['g1'], uid: 'u', extra: { k: ['v'] } })
    assert.deepEqual(checks.map(c => c.resource), ['users', 'groups', 'userextras', 'uids'])
  })

  test('service account names are validated like the API server; invalid ones are plain users', () => {
    assert.deepEqual(splitServiceAccount('system:serviceaccount:ns:name'), { namespace: 'ns', name: 'name' })
    assert.equal(splitServiceAccount('system:serviceaccount:ns'), undefined)
    assert.equal(splitServiceAccount('system:serviceaccount:NS:name'), undefined)
    assert.equal(splitServiceAccount('system:serviceaccount:ns:a:b'), undefined)
    assert.equal(impersonationChecks({ user: 'system:serviceaccount:Bad:x', extra: {} })[0]?.resource, 'users')
  })

  test('system:authenticated is added unless system:(un)authenticated was given; anonymous gets unauthenticated', () => {
    assert.deepEqual(impersonatedGroups({ user: 'a', groups: ['system:unauthenticated'], extra: {} }), ['system:unauthenticated'])
    assert.deepEqual(impersonatedGroups({ user: 'a', groups: ['x', 'system:authenticated'], extra: {} }), ['x', 'system:authenticated'])
    assert.deepEqual(impersonatedGroups({ user: 'system:anonymous', extra: {} }), ['system:unauthenticated'])
    // explicit groups replace the service account's derived ones
    assert.deepEqual(impersonatedGroups({ user: 'system:serviceaccount:ns:n', groups: ['g'], extra: {} }), ['g', 'system:authenticated'])
  })
})

describe('impersonationHeadersFor (authorization mode impersonate)', () => {
  test('one pair per group and extra value; system:authenticated left to the API server; extra keys escaped like client-go', () => {
    assert.deepEqual(impersonationHeadersFor({ user: 'alice', uid: 'u1', groups: ['dev', 'system:authenticated', 'sre'], extra: { 'acme.com/project': ['p1', 'p2'] } }), [
      ['Impersonate-User', 'alice'],
      ['Impersonate-Uid', 'u1'],
      ['Impersonate-Group', 'dev'],
      ['Impersonate-Group', 'sre'],
      ['Impersonate-Extra-acme.com%2Fproject', 'p1'],
      ['Impersonate-Extra-acme.com%2Fproject', 'p2']
    ])
    assert.equal(headerKeyEscape('50%é'), '50%25%C3%A9')
  })

  test('round trip: what impersonationHeadersFor sends, parseImpersonation reads back', () => {
    const pairs = impersonationHeadersFor({ user: 'alice', groups: ['dev'], extra: { 'acme.com/Project': ['x'] } })
    const headers: Record<string, string[]> = {}
    for (const [k, v] of pairs) (headers[k.toLowerCase()] ??= []).push(v)
    // keys are lower-cased on the way in, as the API server does
    assert.deepEqual(parseImpersonation(headers), { user: 'alice', groups: ['dev'], extra: { 'acme.com/project': ['x'] } })
  })
})
