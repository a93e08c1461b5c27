import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { impersonate, splitServiceAccount } from '../../../src/sim/auth/impersonation.ts'
import { demoRbacPath, loadBootstrapRbac, parseManifests, RbacAuthorizer } from '../../../src/sim/auth/rbac.ts'
import { StatusError } from '../../../src/sim/apimachinery/status.ts'
import type { UserInfo } from '../../../src/sim/apimachinery/types.ts'

const authz = new RbacAuthorizer()
authz.load(loadBootstrapRbac())
authz.load(parseManifests(readFileSync(demoRbacPath(), 'utf8')))
authz.load(parseManifests(`
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: impersonate-more}
rules:
  - apiGroups: [""]
    resources: ["serviceaccounts"]
    verbs: ["impersonate"]
    resourceNames: ["kdebug-gateway"]
  - apiGroups: ["authentication.k8s.io"]
    resources: ["userextras/scopes", "uids"]
    verbs: ["impersonate"]
  - apiGroups: [""]
    resources: ["users", "groups"]
    verbs: ["impersonate"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: impersonate-more, namespace: kdebug}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: impersonate-more}
subjects:
  - {kind: User, name: proxy}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: impersonate-more}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: impersonate-more}
subjects:
  - {kind: User, name: proxy2}
`))

const chatbot: UserInfo = { username: 'chatbot', groups: ['system:authenticated'] }

function forbidden (fn: () => unknown, message: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof StatusError)
    assert.equal(e.code, 403)
    assert.equal(e.status.reason, 'Forbidden')
    assert.equal(e.status.message, message)
    return true
  })
}

describe('impersonate', () => {
  test('no Impersonate-* header: requester unchanged', () => {
    assert.equal(impersonate({ authorization: 'Bearer x' }, chatbot, authz), chatbot)
  })

  test('allowed user gets system:authenticated added', () => {
    assert.deepEqual(impersonate({ 'impersonate-user': 'alice' }, chatbot, authz), { username: 'alice', groups: ['system:authenticated'] })
  })

  test('denied user: the real 403 message and details', () => {
    forbidden(() => impersonate({ 'impersonate-user': 'carol' }, chatbot, authz),
      'users "carol" is forbidden: User "chatbot" cannot impersonate resource "users" in API group "" at the cluster scope')
    try {
      impersonate({ 'impersonate-user': 'carol' }, chatbot, authz)
    } catch (e) {
      assert.deepEqual((e as StatusError).status.details, { name: 'carol', group: undefined, kind: 'users' })
    }
  })

  test('groups are checked one by one (repeated header as array)', () => {
    assert.deepEqual(impersonate({ 'impersonate-user': 'alice', 'impersonate-group': ['dev'] }, chatbot, authz),
      { username: 'alice', groups: ['dev', 'system:authenticated'] })
    forbidden(() => impersonate({ 'impersonate-user': 'alice', 'impersonate-group': ['dev', 'system:masters'] }, chatbot, authz),
      'groups "system:masters" is forbidden: User "chatbot" cannot impersonate resource "groups" in API group "" at the cluster scope')
  })

  test('explicit system:authenticated / system:unauthenticated groups are not duplicated', () => {
    const proxy = { username: 'proxy2', groups: ['system:authenticated'] }
    assert.deepEqual(impersonate({ 'impersonate-user': 'x', 'impersonate-group': ['system:authenticated'] }, proxy, authz),
      { username: 'x', groups: ['system:authenticated'] })
    assert.deepEqual(impersonate({ 'impersonate-user': 'x', 'impersonate-group': 'system:unauthenticated' }, proxy, authz),
      { username: 'x', groups: ['system:unauthenticated'] })
    assert.deepEqual(impersonate({ 'impersonate-user': 'system:anonymous' }, proxy, authz),
      { username: 'system:anonymous', groups: ['system:unauthenticated'] })
  })

  test('service account form: impersonate serviceaccounts in the SA namespace; SA groups added', () => {
    const proxy = { username: 'proxy', groups: ['system:authenticated'] }
    assert.deepEqual(impersonate({ 'impersonate-user': 'system:serviceaccount:kdebug:kdebug-gateway' }, proxy, authz), {
      username: 'system:serviceaccount:kdebug:kdebug-gateway',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:kdebug', 'system:authenticated']
    })
    forbidden(() => impersonate({ 'impersonate-user': 'system:serviceaccount:kdebug:other' }, proxy, authz),
      'serviceaccounts "other" is forbidden: User "proxy" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "kdebug"')
    // chatbot may impersonate users but not this service account (it is checked as a serviceaccount, not a user)
    forbidden(() => impersonate({ 'impersonate-user': 'system:serviceaccount:kube-system:default' }, chatbot, authz),
      'serviceaccounts "default" is forbidden: User "chatbot" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "kube-system"')
  })

  test('extra (percent-decoded key) and uid need authentication.k8s.io rights', () => {
    const proxy = { username: 'proxy2', groups: ['system:authenticated'] }
    assert.deepEqual(impersonate({ 'impersonate-user': 'alice', 'impersonate-extra-scopes': ['a', 'b'], 'impersonate-uid': 'u-1' }, proxy, authz),
      { username: 'alice', uid: 'u-1', groups: ['system:authenticated'], extra: { scopes: ['a', 'b'] } })
    forbidden(() => impersonate({ 'impersonate-user': 'alice', 'impersonate-extra-example.com%2fteam': 'x' }, proxy, authz),
      'userextras.authentication.k8s.io "x" is forbidden: User "proxy2" cannot impersonate resource "userextras/example.com/team" in API group "authentication.k8s.io" at the cluster scope')
    forbidden(() => impersonate({ 'impersonate-user': 'alice', 'impersonate-uid': 'u-1' }, chatbot, authz),
      'uids.authentication.k8s.io "u-1" is forbidden: User "chatbot" cannot impersonate resource "uids" in API group "authentication.k8s.io" at the cluster scope')
  })

  test('group, extra or uid without Impersonate-User is a 400', () => {
    assert.throws(() => impersonate({ 'impersonate-group': 'dev' }, chatbot, authz), (e: unknown) => {
      assert.ok(e instanceof StatusError)
      assert.equal(e.code, 400)
      assert.equal(e.status.reason, 'BadRequest')
      assert.equal(e.status.message, 'requested [{Group  dev    }] without impersonating a user')
      return true
    })
    assert.throws(() => impersonate({ 'impersonate-uid': 'u' }, chatbot, authz), (e: unknown) => e instanceof StatusError && e.code === 400)
  })
})

test('splitServiceAccount', () => {
  assert.deepEqual(splitServiceAccount('system:serviceaccount:ns:name'), { namespace: 'ns', name: 'name' })
  assert.equal(splitServiceAccount('system:serviceaccount:ns'), undefined)
  assert.equal(splitServiceAccount('system:serviceaccount:ns:a:b'), undefined)
  assert.equal(splitServiceAccount('alice'), undefined)
})
