import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { bootstrapRbacPath, demoRbacPath, loadBootstrapRbac, parseManifests, RbacAuthorizer, resourceMatches } from '../../../src/sim/auth/rbac.ts'
import type { UserInfo } from '../../../src/sim/apimachinery/types.ts'

const user = (username: string, ...groups: string[]): UserInfo => ({ username, groups: [...groups, 'system:authenticated'] })

function authorizer (yaml: string): RbacAuthorizer {
  const a = new RbacAuthorizer()
  a.load(parseManifests(yaml))
  return a
}

describe('parseManifests', () => {
  test('multi-document YAML, kind: List expanded, empty documents skipped', () => {
    const objs = parseManifests(`
---
apiVersion: v1
kind: List
items:
  - apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {name: a}
  - apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {name: b}
---
# only a comment
---
apiVersion: v1
kind: Namespace
metadata: {name: demo}
`)
    assert.deepEqual(objs.map(o => `${o.kind}/${o.metadata.name}`), ['ClusterRole/a', 'ClusterRole/b', 'Namespace/demo'])
  })

  test('load takes only the four RBAC kinds', () => {
    const a = new RbacAuthorizer()
    const n = a.load(parseManifests(readFileSync(demoRbacPath(), 'utf8') + '\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n'))
    assert.equal(n, 10)
  })
})

describe('rule matching (evaluation_helpers.go)', () => {
  test('only "*", exact resource/subresource and "*/sub" match; there is no "pods/*"', () => {
    assert.equal(resourceMatches({ resources: ['*'] }, 'pods/log', 'log'), true)
    assert.equal(resourceMatches({ resources: ['pods/log'] }, 'pods/log', 'log'), true)
    assert.equal(resourceMatches({ resources: ['*/log'] }, 'pods/log', 'log'), true)
    assert.equal(resourceMatches({ resources: ['*/log'] }, 'pods', ''), false)
    assert.equal(resourceMatches({ resources: ['pods/*'] }, 'pods/log', 'log'), false)
    assert.equal(resourceMatches({ resources: ['pods'] }, 'pods/log', 'log'), false)
  })
})

describe('RbacAuthorizer', () => {
  const a = authorizer(`
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: logs, namespace: demo}
rules:
  - apiGroups: [""]
    resources: ["pods/log"]
    verbs: ["get"]
  - apiGroups: [""]
    resources: ["pods"]
    verbs: ["get"]
    resourceNames: ["web"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: logs-binding, namespace: demo}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: logs}
subjects:
  - {kind: User, name: alice}
  - {kind: ServiceAccount, name: bot}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: any-subresource-status}
rules:
  - apiGroups: ["*"]
    resources: ["*/status"]
    verbs: ["*"]
  - nonResourceURLs: ["/metrics", "/logs/*"]
    verbs: ["get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: status-readers}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: any-subresource-status}
subjects:
  - {kind: Group, name: ops}
  - {kind: ServiceAccount, name: watcher, namespace: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: cr-in-ns, namespace: payments}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: any-subresource-status}
subjects:
  - {kind: User, name: bob}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: dangling, namespace: demo}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: missing}
subjects:
  - {kind: User, name: carol}
`)

  test('subresource is matched as resource/subresource, with the RoleBinding reason text', () => {
    const d = a.authorize(user('alice'), { verb: 'get', resource: 'pods', subresource: 'log', namespace: 'demo', name: 'api' })
    assert.deepEqual(d, { allowed: true, reason: 'RBAC: allowed by RoleBinding "logs-binding/demo" of Role "logs" to User "alice"' })
    assert.equal(a.authorize(user('alice'), { verb: 'get', resource: 'pods', subresource: 'exec', namespace: 'demo', name: 'api' }).allowed, false)
    assert.equal(a.authorize(user('alice'), { verb: 'get', resource: 'pods', subresource: 'log', namespace: 'other', name: 'api' }).allowed, false)
  })

  test('resourceNames: listed name allowed, other names and the empty name (list) denied', () => {
    assert.equal(a.authorize(user('alice'), { verb: 'get', resource: 'pods', namespace: 'demo', name: 'web' }).allowed, true)
    assert.equal(a.authorize(user('alice'), { verb: 'get', resource: 'pods', namespace: 'demo', name: 'api' }).allowed, false)
    assert.equal(a.authorize(user('alice'), { verb: 'get', resource: 'pods', namespace: 'demo' }).allowed, false)
  })

  test('"*" verbs/groups and "*/status" through a ClusterRoleBinding to a group, cluster-wide', () => {
    const d = a.authorize(user('dave', 'ops'), { verb: 'update', group: 'apps', resource: 'deployments', subresource: 'status', namespace: 'x', name: 'd' })
    assert.deepEqual(d, { allowed: true, reason: 'RBAC: allowed by ClusterRoleBinding "status-readers" of ClusterRole "any-subresource-status" to Group "ops"' })
    assert.equal(a.authorize(user('dave', 'ops'), { verb: 'get', group: 'apps', resource: 'deployments', namespace: 'x' }).allowed, false)
  })

  test('a RoleBinding to a ClusterRole grants it only in the binding namespace', () => {
    const attrs = { verb: 'patch', resource: 'pods', subresource: 'status' }
    assert.equal(a.authorize(user('bob'), { ...attrs, namespace: 'payments' }).allowed, true)
    assert.equal(a.authorize(user('bob'), { ...attrs, namespace: 'demo' }).allowed, false)
    assert.equal(a.authorize(user('bob'), attrs).allowed, false)
  })

  test('ServiceAccount subjects: namespace defaults to the RoleBinding namespace; reason names NAME/NS', () => {
    const sa = { username: 'system:serviceaccount:demo:bot', groups: ['system:serviceaccounts', 'system:serviceaccounts:demo', 'system:authenticated'] }
    assert.deepEqual(a.authorize(sa, { verb: 'get', resource: 'pods', subresource: 'log', namespace: 'demo' }),
      { allowed: true, reason: 'RBAC: allowed by RoleBinding "logs-binding/demo" of Role "logs" to ServiceAccount "bot/demo"' })
    const other = { username: 'system:serviceaccount:other:bot', groups: [] }
    assert.equal(a.authorize(other, { verb: 'get', resource: 'pods', subresource: 'log', namespace: 'demo' }).allowed, false)
    const watcher = { username: 'system:serviceaccount:kube-system:watcher', groups: [] }
    assert.deepEqual(a.authorize(watcher, { verb: 'get', resource: 'nodes', subresource: 'status' }),
      { allowed: true, reason: 'RBAC: allowed by ClusterRoleBinding "status-readers" of ClusterRole "any-subresource-status" to ServiceAccount "watcher/kube-system"' })
  })

  test('nonResourceURLs: exact and trailing "*"; namespaced bindings never apply', () => {
    assert.equal(a.authorize(user('x', 'ops'), { verb: 'get', path: '/metrics' }).allowed, true)
    assert.equal(a.authorize(user('x', 'ops'), { verb: 'get', path: '/logs/kube-apiserver.log' }).allowed, true)
    assert.equal(a.authorize(user('x', 'ops'), { verb: 'get', path: '/metricsx' }).allowed, false)
    assert.equal(a.authorize(user('x', 'ops'), { verb: 'post', path: '/metrics' }).allowed, false)
    assert.equal(a.authorize(user('bob'), { verb: 'get', path: '/metrics' }).allowed, false)
  })

  test('a binding to a missing role gives the resolution error as the denial reason', () => {
    assert.deepEqual(a.authorize(user('carol'), { verb: 'get', resource: 'pods', namespace: 'demo' }),
      { allowed: false, reason: 'RBAC: role.rbac.authorization.k8s.io "missing" not found' })
    assert.deepEqual(a.authorize(user('nobody'), { verb: 'get', resource: 'pods', namespace: 'demo' }), { allowed: false, reason: '' })
  })

  test('system:masters is allowed everything by the privileged-group authorizer (empty reason)', () => {
    assert.deepEqual(a.authorize(user('admin', 'system:masters'), { verb: 'delete', resource: 'nodes', name: 'n1' }), { allowed: true, reason: '' })
  })

  test('remove() takes a binding away', () => {
    const b = authorizer(readFileSync(demoRbacPath(), 'utf8'))
    const attrs = { verb: 'list', resource: 'pods', namespace: 'demo' }
    assert.equal(b.authorize(user('bob'), attrs).allowed, true)
    assert.equal(b.remove('RoleBinding', 'pod-viewer', 'demo'), true)
    assert.equal(b.authorize(user('bob'), attrs).allowed, false)
  })
})

describe('bootstrap policy', () => {
  const a = new RbacAuthorizer()
  a.load(loadBootstrapRbac())

  test('the file is where bootstrapRbacPath says', () => {
    assert.match(readFileSync(bootstrapRbacPath(), 'utf8'), /system:basic-user/)
  })

  test('any authenticated user may create selfsubjectaccessreviews and rulesreviews', () => {
    const u = user('anyone')
    assert.deepEqual(a.authorize(u, { verb: 'create', group: 'authorization.k8s.io', resource: 'selfsubjectaccessreviews' }),
      { allowed: true, reason: 'RBAC: allowed by ClusterRoleBinding "system:basic-user" of ClusterRole "system:basic-user" to Group "system:authenticated"' })
    assert.equal(a.authorize(u, { verb: 'create', group: 'authorization.k8s.io', resource: 'selfsubjectrulesreviews' }).allowed, true)
    assert.equal(a.authorize(u, { verb: 'create', group: 'authentication.k8s.io', resource: 'selfsubjectreviews' }).allowed, true)
    assert.equal(a.authorize(u, { verb: 'create', group: 'authorization.k8s.io', resource: 'subjectaccessreviews' }).allowed, false)
  })

  test('discovery paths for authenticated users; only version/health for unauthenticated', () => {
    for (const path of ['/api', '/api/v1', '/apis', '/apis/authorization.k8s.io/v1', '/version', '/openapi/v3']) {
      assert.equal(a.authorize(user('anyone'), { verb: 'get', path }).allowed, true, path)
    }
    const anon = { username: 'system:anonymous', groups: ['system:unauthenticated'] }
    assert.equal(a.authorize(anon, { verb: 'get', path: '/version' }).allowed, true)
    assert.equal(a.authorize(anon, { verb: 'get', path: '/readyz' }).allowed, true)
    assert.equal(a.authorize(anon, { verb: 'get', path: '/api' }).allowed, false)
    assert.equal(a.authorize(user('anyone'), { verb: 'get', path: '/metrics' }).allowed, false)
  })
})

describe('demo RBAC', () => {
  const a = new RbacAuthorizer()
  a.load(loadBootstrapRbac())
  a.load(parseManifests(readFileSync(demoRbacPath(), 'utf8')))
  const alice = user('alice', 'dev')
  const bob = user('bob')
  const carol = user('carol', 'sre')
  const chatbot = user('chatbot')
  const tailer = { username: 'system:serviceaccount:kube-system:kube-iptables-tailer', groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'] }

  test('alice debugs in demo only', () => {
    const ok = [
      { verb: 'get', resource: 'pods' }, { verb: 'list', resource: 'pods' }, { verb: 'watch', resource: 'pods' },
      { verb: 'patch', resource: 'pods', subresource: 'ephemeralcontainers' }, { verb: 'create', resource: 'pods' },
      { verb: 'delete', resource: 'pods' }, { verb: 'get', resource: 'pods', subresource: 'attach' },
      { verb: 'create', resource: 'pods', subresource: 'attach' }, { verb: 'get', resource: 'pods', subresource: 'log' },
      { verb: 'list', resource: 'events' }, { verb: 'watch', resource: 'events' }
    ]
    for (const attrs of ok) assert.equal(a.authorize(alice, { ...attrs, namespace: 'demo' }).allowed, true, JSON.stringify(attrs))
    for (const attrs of ok) assert.equal(a.authorize(alice, { ...attrs, namespace: 'payments' }).allowed, false, JSON.stringify(attrs))
    assert.equal(a.authorize(alice, { verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'demo' }).allowed, false)
    assert.equal(a.authorize(alice, { verb: 'get', resource: 'nodes', name: 'node-1' }).allowed, false)
    // as a member of dev only (impersonation of the group)
    assert.equal(a.authorize(user('someone', 'dev'), { verb: 'get', resource: 'pods', namespace: 'demo' }).allowed, true)
  })

  test('bob only views demo', () => {
    assert.equal(a.authorize(bob, { verb: 'list', resource: 'pods', namespace: 'demo' }).allowed, true)
    assert.equal(a.authorize(bob, { verb: 'watch', resource: 'events', namespace: 'demo' }).allowed, true)
    assert.equal(a.authorize(bob, { verb: 'patch', resource: 'pods', subresource: 'ephemeralcontainers', namespace: 'demo' }).allowed, false)
    assert.equal(a.authorize(bob, { verb: 'get', resource: 'pods', subresource: 'log', namespace: 'demo' }).allowed, false)
    assert.equal(a.authorize(bob, { verb: 'list', resource: 'pods', namespace: 'payments' }).allowed, false)
  })

  test('carol debugs everywhere, including nodes', () => {
    assert.equal(a.authorize(carol, { verb: 'patch', resource: 'pods', subresource: 'ephemeralcontainers', namespace: 'payments' }).allowed, true)
    assert.equal(a.authorize(carol, { verb: 'get', resource: 'nodes', name: 'node-1' }).allowed, true)
    assert.equal(a.authorize(carol, { verb: 'create', resource: 'pods', namespace: 'kdebug' }).allowed, true)
    assert.equal(a.authorize(carol, { verb: 'list', resource: 'pods' }).allowed, true)
    assert.equal(a.authorize(carol, { verb: 'delete', resource: 'nodes', name: 'node-1' }).allowed, false)
  })

  test('chatbot may impersonate alice, bob and group dev, nothing else', () => {
    const imp = (resource: string, name: string): boolean => a.authorize(chatbot, { verb: 'impersonate', resource, name, group: '' }).allowed
    assert.equal(imp('users', 'alice'), true)
    assert.equal(imp('users', 'bob'), true)
    assert.equal(imp('groups', 'dev'), true)
    assert.equal(imp('users', 'carol'), false)
    assert.equal(imp('users', 'admin'), false)
    assert.equal(imp('groups', 'system:masters'), false)
    assert.equal(imp('groups', 'sre'), false)
    assert.equal(a.authorize(chatbot, { verb: 'get', resource: 'pods', namespace: 'demo' }).allowed, false)
  })

  test('kube-iptables-tailer creates and patches events cluster-wide and reads pods', () => {
    assert.equal(a.authorize(tailer, { verb: 'create', resource: 'events', namespace: 'demo' }).allowed, true)
    assert.equal(a.authorize(tailer, { verb: 'patch', resource: 'events', namespace: 'payments', name: 'x' }).allowed, true)
    assert.equal(a.authorize(tailer, { verb: 'list', resource: 'pods' }).allowed, true)
    assert.equal(a.authorize(tailer, { verb: 'delete', resource: 'events', namespace: 'demo' }).allowed, false)
  })
})

describe('the shipped gateway RBAC (deploy/) through the same evaluator', () => {
  const deploy = new URL('../../../deploy/', import.meta.url)
  const a = new RbacAuthorizer()
  a.load(loadBootstrapRbac())
  const taken = a.load(['clusterrole.yaml', 'clusterrolebinding.yaml'].flatMap(f => parseManifests(readFileSync(new URL(f, deploy), 'utf8'))))
  const gw = { username: 'system:serviceaccount:kdebug:kdebug-gateway', groups: ['system:serviceaccounts', 'system:serviceaccounts:kdebug', 'system:authenticated'] }

  test('the ServiceAccount subject of the ClusterRoleBinding matches the SA user name', () => {
    assert.equal(taken, 2)
    assert.deepEqual(a.authorize(gw, { verb: 'create', group: 'authentication.k8s.io', resource: 'tokenreviews' }),
      { allowed: true, reason: 'RBAC: allowed by ClusterRoleBinding "kdebug-gateway" of ClusterRole "kdebug-gateway" to ServiceAccount "kdebug-gateway/kdebug"' })
    assert.equal(a.authorize(gw, { verb: 'patch', resource: 'pods', subresource: 'ephemeralcontainers', namespace: 'payments', name: 'ledger' }).allowed, true)
    assert.equal(a.authorize({ ...gw, username: 'system:serviceaccount:default:kdebug-gateway' }, { verb: 'create', group: 'authentication.k8s.io', resource: 'tokenreviews' }).allowed, false)
    assert.equal(a.authorize(gw, { verb: 'impersonate', resource: 'users', name: 'alice' }).allowed, false)
  })
})
