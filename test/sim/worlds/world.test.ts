// Worlds: the demo world's contents and the kubeconfig for a world's users.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parse as parseYaml } from 'yaml'
import { buildKubeconfig } from '../../../src/sim/worlds/kubeconfig.ts'
import { loadWorld } from '../../../src/sim/worlds/world.ts'

test('kubeconfig has one context per user and the CA', () => {
  const text = buildKubeconfig({ server: 'https://127.0.0.1:1', caPem: 'PEM', current: 'gw', users: [{ name: 'gw', username: 'system:serviceaccount:a:b', token: 't1', groups: [] }, { name: 'al', username: 'al', token: 't2', groups: [] }] })
  const k = parseYaml(text)
  assert.equal(k['current-context'], 'gw')
  assert.equal(k.clusters[0].cluster.server, 'https://127.0.0.1:1')
  assert.equal(Buffer.from(k.clusters[0].cluster['certificate-authority-data'], 'base64').toString(), 'PEM')
  assert.deepEqual(k.users.map((u: any) => [u.name, u.user.token]), [['gw', 't1'], ['al', 't2']])
  assert.deepEqual(k.contexts.map((c: any) => c.context.user), ['gw', 'al'])
})

test('demo world: users, shipped gateway RBAC, objects', () => {
  const w = loadWorld()
  assert.equal(w.currentContext, 'gateway')
  const byName = Object.fromEntries(w.users.map(u => [u.name, u]))
  assert.equal(byName.gateway?.username, 'system:serviceaccount:kdebug:kdebug-gateway')
  assert.equal(byName['kube-iptables-tailer']?.token, 'tailer-token')
  assert.deepEqual(byName.admin?.groups, ['system:masters'])
  assert.ok(w.rbac.some(o => o.kind === 'ClusterRole' && o.metadata.name === 'kdebug-gateway'), 'deploy/clusterrole.yaml loaded')
  assert.ok(w.rbac.some(o => o.kind === 'ClusterRoleBinding' && o.metadata.name === 'kdebug-gateway'))
  const names = w.objects.map(o => `${o.kind}/${o.metadata.namespace ? o.metadata.namespace + '/' : ''}${o.metadata.name}`)
  for (const n of ['Namespace/demo', 'Namespace/payments', 'Namespace/kdebug', 'Namespace/kube-system', 'Node/node-1', 'Node/node-2', 'Pod/demo/web', 'Pod/demo/api', 'Pod/payments/ledger']) assert.ok(names.includes(n), n)
})
