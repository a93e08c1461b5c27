// Pure units of the sim core: store, selectors, request info, faults, table, kubeconfig, world.
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { parse as parseYaml } from 'yaml'
import { Store } from '../../src/sim/storage/store.ts'
import { parseLabelSelector, parseFieldSelector, exactName } from '../../src/sim/apimachinery/selectors.ts'
import { parseRequestInfo } from '../../src/sim/apiserver/request-info.ts'
import { FaultController, sanitize } from '../../src/sim/apiserver/faults.ts'
import { humanDuration, toTable } from '../../src/sim/apiserver/table.ts'
import { buildKubeconfig } from '../../src/sim/worlds/kubeconfig.ts'
import { loadWorld } from '../../src/sim/worlds/world.ts'
import { normalizeImage } from '../../src/sim/kubelet/lifecycle.ts'
import { filterEvent } from '../../src/sim/apiserver/watch.ts'
import { StatusError } from '../../src/sim/apimachinery/status.ts'
import { parseCliArgs } from '../../src/sim/cli.ts'

const pod = (name: string, labels: Record<string, string> = {}): any => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ns', labels }, spec: { nodeName: 'n1' }, status: { phase: 'Running' } })

describe('store', () => {
  test('create sets uid, creationTimestamp, generation and a growing resourceVersion', () => {
    const s = new Store()
    const a = s.create('pods', pod('a'))
    const b = s.create('pods', pod('b'))
    assert.match(a.metadata.uid ?? '', /^[0-9a-f-]{36}$/)
    assert.match(a.metadata.creationTimestamp ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    assert.equal(a.metadata.generation, 1)
    assert.ok(Number(b.metadata.resourceVersion) > Number(a.metadata.resourceVersion))
    assert.equal(String(s.resourceVersion), b.metadata.resourceVersion)
    assert.throws(() => s.create('pods', pod('a')), (e: StatusError) => e.code === 409 && e.status.reason === 'AlreadyExists')
  })

  test('update keeps uid, bumps generation only on spec change, checks expected resourceVersion', () => {
    const s = new Store()
    const a = s.create('pods', pod('a'))
    const labelled = s.update('pods', { ...a, metadata: { ...a.metadata, labels: { x: 'y' } } })
    assert.equal(labelled.metadata.generation, 1)
    assert.equal(labelled.metadata.uid, a.metadata.uid)
    const respec = s.update('pods', { ...labelled, spec: { nodeName: 'n2' } })
    assert.equal(respec.metadata.generation, 2)
    assert.throws(() => s.update('pods', respec, { expectedResourceVersion: a.metadata.resourceVersion }),
      (e: StatusError) => e.code === 409 && /the object has been modified/.test(e.message))
  })

  test('watch replays history after a version and 410s once it is compacted away', () => {
    const s = new Store({ historySize: 3 })
    const start = s.resourceVersion
    s.create('pods', pod('a'))
    s.create('pods', pod('b'))
    const seen: string[] = []
    const stop = s.watch(start, e => seen.push(`${e.type} ${e.object.metadata.name}`))
    s.delete('pods', 'ns', 'a')
    stop()
    s.create('pods', pod('c'))
    assert.deepEqual(seen, ['ADDED a', 'ADDED b', 'DELETED a'])
    // history holds 3 events: b, delete a, c → start (before a) is too old
    assert.throws(() => s.watch(start, () => {}), (e: StatusError) => e.code === 410 && e.status.reason === 'Expired' && /^too old resource version: \d+ \(\d+\)$/.test(e.message))
    s.compact()
    assert.throws(() => s.watch(s.resourceVersion - 1, () => {}), (e: StatusError) => e.code === 410)
    assert.doesNotThrow(() => s.watch(s.resourceVersion, () => {})())
  })

  test('list sorts by namespace/name and filters by namespace', () => {
    const s = new Store()
    s.create('pods', pod('b'))
    s.create('pods', { ...pod('a'), metadata: { name: 'a', namespace: 'other' } })
    s.create('pods', pod('a'))
    assert.deepEqual(s.list('pods').map(p => `${p.metadata.namespace}/${p.metadata.name}`), ['ns/a', 'ns/b', 'other/a'])
    assert.deepEqual(s.list('pods', 'other').map(p => p.metadata.name), ['a'])
  })
})

describe('selectors', () => {
  test('label selector operators', () => {
    const m = (sel: string, labels: Record<string, string>): boolean => parseLabelSelector(sel)(labels)
    assert.ok(m('app=web', { app: 'web' }))
    assert.ok(m('app==web', { app: 'web' }))
    assert.ok(!m('app!=web', { app: 'web' }))
    assert.ok(m('app!=web', {}))
    assert.ok(m('app in (web, api)', { app: 'api' }))
    assert.ok(!m('app notin (web,api)', { app: 'api' }))
    assert.ok(m('app notin (web)', {}))
    assert.ok(m('app', { app: '' }))
    assert.ok(!m('!app', { app: 'x' }))
    assert.ok(m('app=web,tier in (fe),!canary', { app: 'web', tier: 'fe' }))
    assert.ok(!m('app=web,tier in (fe),!canary', { app: 'web', tier: 'fe', canary: 'y' }))
    assert.throws(() => parseLabelSelector('app=(bad'), (e: StatusError) => e.code === 400)
  })

  test('field selectors per kind; unknown field → 400 field label not supported', () => {
    const ev = { metadata: { name: 'e1', namespace: 'demo' }, reason: 'PacketDrop', type: 'Warning', source: { component: 'kube-iptables-tailer' }, involvedObject: { kind: 'Pod', name: 'web', namespace: 'demo' } } as any
    assert.ok(parseFieldSelector('reason=PacketDrop', 'events')(ev))
    assert.ok(parseFieldSelector('reason==PacketDrop,type=Warning,involvedObject.name=web', 'events')(ev))
    assert.ok(!parseFieldSelector('source!=kube-iptables-tailer', 'events')(ev))
    assert.ok(parseFieldSelector('source=cilium', 'events')({ ...ev, source: {}, reportingComponent: 'cilium' }))
    assert.ok(parseFieldSelector('spec.nodeName=n1,status.phase=Running,metadata.name=a', 'pods')(pod('a')))
    assert.ok(parseFieldSelector('spec.hostNetwork=false', 'pods')(pod('a')))
    assert.throws(() => parseFieldSelector('spec.foo=bar', 'pods'), (e: StatusError) => e.code === 400 && e.message === 'field label not supported: spec.foo')
    assert.throws(() => parseFieldSelector('metadata.namespace=x', 'nodes'), (e: StatusError) => e.message === 'field label not supported: metadata.namespace')
    assert.equal(exactName('metadata.name=web,status.phase=Running'), 'web')
    assert.equal(exactName('status.phase=Running'), undefined)
  })
})

describe('request info', () => {
  const info = (method: string, path: string): ReturnType<typeof parseRequestInfo> => parseRequestInfo(method, new URL(path, 'http://x'))
  test('verbs from methods and collections', () => {
    assert.equal(info('GET', '/api/v1/namespaces/demo/pods').verb, 'list')
    assert.equal(info('GET', '/api/v1/namespaces/demo/pods?watch=true').verb, 'watch')
    assert.equal(info('GET', '/api/v1/watch/namespaces/demo/pods').verb, 'watch')
    assert.equal(info('DELETE', '/api/v1/namespaces/demo/pods').verb, 'deletecollection')
    const p = info('PATCH', '/api/v1/namespaces/demo/pods/web/ephemeralcontainers')
    assert.deepEqual([p.verb, p.namespace, p.resource, p.name, p.subresource], ['patch', 'demo', 'pods', 'web', 'ephemeralcontainers'])
    const n = info('GET', '/api/v1/namespaces/demo')
    assert.deepEqual([n.verb, n.resource, n.name, n.namespace], ['get', 'namespaces', 'demo', 'demo'])
    const g = info('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews')
    assert.deepEqual([g.verb, g.apiGroup, g.apiVersion, g.resource], ['create', 'authorization.k8s.io', 'v1', 'selfsubjectaccessreviews'])
  })
  test('non-resource paths and fieldSelector names', () => {
    assert.equal(info('GET', '/api/v1').isResourceRequest, false)
    assert.equal(info('GET', '/apis/rbac.authorization.k8s.io/v1').isResourceRequest, false)
    assert.equal(info('GET', '/version').verb, 'get')
    const w = info('GET', '/api/v1/namespaces/demo/pods?watch=1&fieldSelector=metadata.name%3Dweb')
    assert.deepEqual([w.verb, w.name], ['watch', 'web'])
  })
})

describe('watch filtering', () => {
  test('selector transitions become ADDED / DELETED', () => {
    const running = (o: any): boolean => o.status.phase === 'Running'
    const a = pod('a')
    const pending = { ...a, status: { phase: 'Pending' } }
    assert.equal(filterEvent({ type: 'MODIFIED', resource: 'pods', object: a, previous: pending, rv: 2 }, running)?.type, 'ADDED')
    assert.equal(filterEvent({ type: 'MODIFIED', resource: 'pods', object: pending, previous: a, rv: 2 }, running)?.type, 'DELETED')
    assert.equal(filterEvent({ type: 'MODIFIED', resource: 'pods', object: a, previous: a, rv: 2 }, running)?.type, 'MODIFIED')
    assert.equal(filterEvent({ type: 'MODIFIED', resource: 'pods', object: pending, previous: pending, rv: 2 }, running), undefined)
  })
})

describe('faults', () => {
  test('error share, path prefix, one-shot 410, sanitising', () => {
    let r = 0
    const f = new FaultController({ errorRate: 0.5, errorCodes: [429], pathPrefix: '/api/v1/namespaces/demo' }, () => r)
    r = 0.1
    assert.equal(f.errorFor('/api/v1/namespaces/demo/pods')?.code, 429)
    assert.equal(f.errorFor('/api/v1/nodes'), undefined)
    r = 0.9
    assert.equal(f.errorFor('/api/v1/namespaces/demo/pods'), undefined)
    f.set({ expireNextWatch: 'event' })
    assert.equal(f.takeExpireNextWatch(), 'event')
    assert.equal(f.takeExpireNextWatch(), false)
    assert.deepEqual(sanitize({ latencyMs: -1, errorRate: 5, errorCodes: [418, 503], bogus: 1 }), { errorRate: 1, errorCodes: [503] })
    assert.equal(f.reset().errorRate, 0)
  })
})

describe('table and names', () => {
  test('humanDuration like apimachinery', () => {
    assert.equal(humanDuration(5_000), '5s')
    assert.equal(humanDuration(119_000), '119s')
    assert.equal(humanDuration(150_000), '2m30s')
    assert.equal(humanDuration(15 * 60_000), '15m')
    assert.equal(humanDuration(5 * 3600_000 + 60_000), '5h1m')
    assert.equal(humanDuration(30 * 3600_000), '30h')
    assert.equal(humanDuration(3 * 86400_000), '3d')
  })
  test('pod rows show READY, STATUS reasons, RESTARTS', () => {
    const now = new Date('2026-01-01T00:10:00Z')
    const p = {
      metadata: { name: 'w', namespace: 'ns', creationTimestamp: '2026-01-01T00:00:00Z' },
      spec: { containers: [{ name: 'a' }, { name: 'b' }] },
      status: { phase: 'Pending', containerStatuses: [{ name: 'a', ready: true, restartCount: 0, state: { running: {} } }, { name: 'b', ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff' } } }] }
    } as any
    const t = toTable('pods', [p], { now }) as any
    assert.deepEqual(t.rows[0].cells.slice(0, 5), ['w', '1/2', 'ImagePullBackOff', '0', '10m'])
    assert.equal(t.rows[0].object.kind, 'PartialObjectMetadata')
    assert.deepEqual(t.columnDefinitions.slice(0, 5).map((c: any) => c.name), ['Name', 'Ready', 'Status', 'Restarts', 'Age'])
    const del = toTable('pods', [{ ...p, metadata: { ...p.metadata, deletionTimestamp: '2026-01-01T00:10:00Z' } }], { now, includeObject: 'None' }) as any
    assert.equal(del.rows[0].cells[2], 'Terminating')
    assert.equal(del.rows[0].object, undefined)
  })
  test('image normalisation as the CRI reports it', () => {
    assert.equal(normalizeImage('nginx:1.27'), 'docker.io/library/nginx:1.27')
    assert.equal(normalizeImage('busybox'), 'docker.io/library/busybox:latest')
    assert.equal(normalizeImage('envoyproxy/envoy:v1.31'), 'docker.io/envoyproxy/envoy:v1.31')
    assert.equal(normalizeImage('registry.example.com:5000/a/b'), 'registry.example.com:5000/a/b:latest')
  })
})

describe('kubeconfig, world, cli', () => {
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
  test('cli arguments', () => {
    const a = parseCliArgs(['--port', '0', '--kubeconfig', '/tmp/k'])
    assert.equal(a.port, 0)
    assert.equal(a.kubeconfig, '/tmp/k')
    assert.throws(() => parseCliArgs(['--port', 'x']), /not a port number/)
    assert.throws(() => parseCliArgs(['--nope']))
  })
})

test('boolean query parameters convert as the API server converts them', async () => {
  const { queryBool } = await import('../../src/sim/apiserver/http-util.ts')
  assert.equal(queryBool(null), false)
  for (const f of ['0', 'false', 'False', 'FALSE']) assert.equal(queryBool(f), false, f)
  for (const t of ['true', 'True', '1', '', 'yes']) assert.equal(queryBool(t), true, t)
  assert.equal(parseRequestInfo('GET', new URL('http://x/api/v1/pods?watch=True')).verb, 'watch')
  assert.equal(parseRequestInfo('GET', new URL('http://x/api/v1/pods?watch=0')).verb, 'list')
})
