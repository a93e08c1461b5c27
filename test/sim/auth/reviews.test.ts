import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { TokenAuthenticator } from '../../../src/sim/auth/authn.ts'
import { demoRbacPath, loadBootstrapRbac, parseManifests, RbacAuthorizer } from '../../../src/sim/auth/rbac.ts'
import { reviewSelfSubjectAccess, reviewSelfSubjectRules, reviewSubjectAccess, reviewToken } from '../../../src/sim/auth/reviews.ts'
import { StatusError } from '../../../src/sim/apimachinery/status.ts'
import type { KObject } from '../../../src/sim/apimachinery/types.ts'

// metav1.Time's zero value is JSON null, which ObjectMeta's type does not admit
const ZERO_TIME = null as unknown as string

const authz = new RbacAuthorizer()
authz.load(loadBootstrapRbac())
authz.load(parseManifests(readFileSync(demoRbacPath(), 'utf8')))

const authn = new TokenAuthenticator([
  { token: 'alice-token', user: { username: 'alice', uid: 'uid-alice', groups: ['dev'] } },
  { token: 'x-token', user: { username: 'x', groups: [], extra: { scopes: ['a'] } } }
])

const sar = (spec: Record<string, unknown>): KObject => ({ apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', metadata: {}, spec })

function invalid (fn: () => unknown, message: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof StatusError)
    assert.equal(e.code, 422)
    assert.equal(e.status.reason, 'Invalid')
    assert.equal(e.status.message, message)
    return true
  })
}

describe('TokenAuthenticator', () => {
  test('adds system:authenticated once, returns copies, revoke works', () => {
    const u = authn.authenticate('alice-token')
    assert.deepEqual(u, { username: 'alice', uid: 'uid-alice', groups: ['dev', 'system:authenticated'] })
    u?.groups.push('system:masters')
    assert.deepEqual(authn.authenticate('alice-token')?.groups, ['dev', 'system:authenticated'])
    const a = new TokenAuthenticator()
    a.add('t', { username: 'y', groups: ['system:authenticated'] })
    assert.deepEqual(a.authenticate('t')?.groups, ['system:authenticated'])
    a.revoke('t')
    assert.equal(a.authenticate('t'), undefined)
    assert.equal(a.authenticate('nope'), undefined)
  })
})

describe('reviewToken', () => {
  const tr = (spec: Record<string, unknown>): KObject => ({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', metadata: {}, spec })

  test('known token: user with groups, uid and the API audiences', () => {
    const out = reviewToken(tr({ token: 'alice-token' }), authn)
    assert.deepEqual(out.status, {
      authenticated: true,
      user: { username: 'alice', uid: 'uid-alice', groups: ['dev', 'system:authenticated'] },
      audiences: ['https://kubernetes.default.svc.cluster.local']
    })
    assert.deepEqual(out.spec, { token: 'alice-token' })
    assert.deepEqual(reviewToken(tr({ token: 'x-token' }), authn).status,
      { authenticated: true, user: { username: 'x', groups: ['system:authenticated'], extra: { scopes: ['a'] } }, audiences: ['https://kubernetes.default.svc.cluster.local'] })
  })

  test('unknown token: no authenticated field (omitempty), empty user, bearer token error', () => {
    assert.deepEqual(reviewToken(tr({ token: 'bogus' }), authn).status, { user: {}, error: 'invalid bearer token' })
  })

  test('audiences: a foreign audience does not authenticate; a matching one is echoed', () => {
    assert.deepEqual(reviewToken(tr({ token: 'alice-token', audiences: ['vault'] }), authn).status, { user: {}, error: 'invalid bearer token' })
    const ok = reviewToken(tr({ token: 'alice-token', audiences: ['vault', 'api'] }), authn, { apiAudiences: ['api'] })
    assert.deepEqual((ok.status as Record<string, unknown>).audiences, ['api'])
  })

  test('empty token is a 400 with the registry message', () => {
    assert.throws(() => reviewToken(tr({}), authn), (e: unknown) =>
      e instanceof StatusError && e.code === 400 && e.status.message === 'token is required for TokenReview in authentication')
  })
})

describe('reviewSubjectAccess', () => {
  test('allowed with the RBAC reason; groups taken as given', () => {
    const out = reviewSubjectAccess(sar({ user: 'alice', groups: ['dev'], resourceAttributes: { namespace: 'demo', verb: 'patch', group: '', resource: 'pods', subresource: 'ephemeralcontainers', name: 'web' } }), authz)
    assert.deepEqual(out.status, { allowed: true, reason: 'RBAC: allowed by RoleBinding "pod-debugger/demo" of Role "pod-debugger" to Group "dev"' })
    assert.equal(out.kind, 'SubjectAccessReview')
  })

  test('denied: allowed false, no reason, no denied flag (RBAC has no opinion)', () => {
    const out = reviewSubjectAccess(sar({ user: 'bob', resourceAttributes: { namespace: 'demo', verb: 'get', resource: 'pods', subresource: 'log', name: 'web' } }), authz)
    assert.deepEqual(out.status, { allowed: false })
  })

  test('system:authenticated is not implied: basic-user rights need the group in the spec', () => {
    const attrs = { verb: 'create', group: 'authorization.k8s.io', resource: 'selfsubjectaccessreviews' }
    assert.equal((reviewSubjectAccess(sar({ user: 'bob', resourceAttributes: attrs }), authz).status as Record<string, unknown>).allowed, false)
    assert.equal((reviewSubjectAccess(sar({ user: 'bob', groups: ['system:authenticated'], resourceAttributes: attrs }), authz).status as Record<string, unknown>).allowed, true)
  })

  test('non-resource attributes', () => {
    const out = reviewSubjectAccess(sar({ groups: ['system:authenticated'], nonResourceAttributes: { path: '/apis/apps/v1', verb: 'get' } }), authz)
    assert.deepEqual(out.status, { allowed: true, reason: 'RBAC: allowed by ClusterRoleBinding "system:discovery" of ClusterRole "system:discovery" to Group "system:authenticated"' })
  })

  test('validation: 422 Invalid with the field errors', () => {
    invalid(() => reviewSubjectAccess(sar({}), authz),
      '.authorization.k8s.io "" is invalid: [spec: Invalid value: null: exactly one of nonResourceAttributes or resourceAttributes must be specified, spec.user: Invalid value: "": at least one of user or group must be specified]')
    invalid(() => reviewSubjectAccess(sar({ user: 'a', resourceAttributes: { verb: 'get' }, nonResourceAttributes: { path: '/x', verb: 'get' } }), authz),
      '.authorization.k8s.io "" is invalid: spec: Invalid value: {"path":"/x","verb":"get"}: exactly one of nonResourceAttributes or resourceAttributes must be specified')
  })
})

describe('reviewSelfSubjectAccess', () => {
  test('evaluates for the requester', () => {
    const ssar: KObject = { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', metadata: { creationTimestamp: ZERO_TIME }, spec: { resourceAttributes: { namespace: 'demo', verb: 'list', resource: 'pods' } }, status: { allowed: false } }
    const alice = authn.authenticate('alice-token')
    assert.ok(alice)
    assert.deepEqual(reviewSelfSubjectAccess(ssar, alice, authz).status,
      { allowed: true, reason: 'RBAC: allowed by RoleBinding "pod-debugger/demo" of Role "pod-debugger" to Group "dev"' })
    assert.deepEqual(reviewSelfSubjectAccess(ssar, { username: 'nobody', groups: ['system:authenticated'] }, authz).status, { allowed: false })
  })

  test('validation without a user requirement', () => {
    invalid(() => reviewSelfSubjectAccess({ apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', metadata: {}, spec: {} }, { username: 'a', groups: [] }, authz),
      '.authorization.k8s.io "" is invalid: spec: Invalid value: null: exactly one of nonResourceAttributes or resourceAttributes must be specified')
  })
})

describe('reviewSelfSubjectRules', () => {
  const ssrr = (namespace?: string): KObject => ({ apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', metadata: {}, spec: namespace ? { namespace } : {} })

  test('bob in demo: his Role plus the bootstrap rules for authenticated users', () => {
    const out = reviewSelfSubjectRules(ssrr('demo'), { username: 'bob', groups: ['system:authenticated'] }, authz)
    const status = out.status as { resourceRules: unknown[], nonResourceRules: unknown[], incomplete: boolean }
    assert.equal(status.incomplete, false)
    assert.deepEqual(out.spec, {})
    assert.ok(status.resourceRules.some(r => JSON.stringify(r) === JSON.stringify({ verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['pods'] })))
    assert.ok(status.resourceRules.some(r => JSON.stringify(r) === JSON.stringify({ verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'] })))
    assert.ok(status.nonResourceRules.some(r => JSON.stringify(r) === JSON.stringify({ verbs: ['get'], nonResourceURLs: ['/healthz', '/livez', '/readyz', '/version', '/version/'] })))
    const elsewhere = reviewSelfSubjectRules(ssrr('payments'), { username: 'bob', groups: ['system:authenticated'] }, authz)
    assert.equal((elsewhere.status as { resourceRules: unknown[] }).resourceRules.some(r => JSON.stringify(r).includes('"pods"')), false)
  })

  test('no namespace → 400', () => {
    assert.throws(() => reviewSelfSubjectRules(ssrr(), { username: 'bob', groups: [] }, authz), (e: unknown) =>
      e instanceof StatusError && e.code === 400 && e.status.message === 'no namespace on request')
  })
})
