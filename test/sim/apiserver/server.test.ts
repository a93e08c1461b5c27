// The sim's HTTP API: authentication, authorization, discovery, CRUD, errors, Table, faults.
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { Agent, request as httpsRequest } from 'node:https'
import { WebSocket } from 'ws'
import { startSim } from '../../../src/sim/index.ts'
import type { Sim } from '../../../src/sim/index.ts'
import { ADMIN, api, waitFor } from '../../helpers/sim-api.ts'

let sim: Sim
before(async () => { sim = await startSim({ startDelayMs: 5 }) })
after(async () => { await sim.close() })

const newPod = (name: string, extra: Record<string, unknown> = {}): unknown => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { test: 'server' } }, spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] }, ...extra })

describe('authentication and authorization', () => {
  test('no or unknown token → 401 Status', async () => {
    for (const token of [undefined, 'nope']) {
      const r = await api(sim, token, 'GET', '/api/v1/namespaces/demo/pods')
      assert.equal(r.status, 401)
      assert.equal(r.headers.get('content-type'), 'application/json')
      assert.deepEqual(r.json, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 })
    }
  })

  test('RBAC denial → 403 with the API server message', async () => {
    const r = await api(sim, 'alice-token', 'GET', '/api/v1/namespaces/payments/pods/ledger')
    assert.equal(r.status, 403)
    assert.equal(r.json.reason, 'Forbidden')
    assert.equal(r.json.message, 'pods "ledger" is forbidden: User "alice" cannot get resource "pods" in API group "" in the namespace "payments"')
    assert.deepEqual(r.json.details, { name: 'ledger', kind: 'pods' })
    const n = await api(sim, 'bob-token', 'GET', '/api/v1/nodes')
    assert.equal(n.json.message, 'nodes is forbidden: User "bob" cannot list resource "nodes" in API group "" at the cluster scope')
  })

  test('discovery and health are open to every authenticated user', async () => {
    for (const p of ['/version', '/api', '/api/v1', '/apis', '/apis/authorization.k8s.io/v1', '/healthz']) {
      const r = await api(sim, 'bob-token', 'GET', p)
      assert.equal(r.status, 200, p)
    }
    const v1 = await api(sim, 'bob-token', 'GET', '/api/v1')
    const names = v1.json.resources.map((x: any) => x.name)
    for (const n of ['pods', 'pods/ephemeralcontainers', 'pods/attach', 'pods/log', 'nodes', 'namespaces', 'events']) assert.ok(names.includes(n), n)
    const version = await api(sim, 'bob-token', 'GET', '/version')
    assert.equal(version.json.major, '1')
    assert.match(version.json.gitVersion, /^v1\.32\./)
  })

  test('OpenAPI v3 root and group-version documents (operations with GVK and fieldValidation)', async () => {
    const root = await api(sim, 'bob-token', 'GET', '/openapi/v3')
    assert.equal(root.status, 200)
    const url = root.json.paths['api/v1'].serverRelativeURL
    assert.match(url, /^\/openapi\/v3\/api\/v1\?hash=/)
    const doc = await api(sim, 'bob-token', 'GET', url)
    const patch = doc.json.paths['/api/v1/namespaces/{namespace}/pods/{name}'].patch
    assert.deepEqual(patch['x-kubernetes-group-version-kind'], { group: '', kind: 'Pod', version: 'v1' })
    assert.ok(patch.parameters.some((p: any) => p.name === 'fieldValidation' && p.in === 'query'))
    assert.equal((await api(sim, 'bob-token', 'GET', '/openapi/v3/apis/apps/v1')).status, 404)
  })

  test('impersonation: allowed, denied', async () => {
    const ok = await api(sim, 'chatbot-token', 'GET', '/api/v1/namespaces/demo/pods', { headers: { 'Impersonate-User': 'bob' } })
    assert.equal(ok.status, 200)
    const asBobDenied = await api(sim, 'chatbot-token', 'GET', '/api/v1/namespaces/payments/pods', { headers: { 'Impersonate-User': 'bob' } })
    assert.equal(asBobDenied.status, 403)
    assert.match(asBobDenied.json.message, /User "bob" cannot list/)
    const no = await api(sim, 'chatbot-token', 'GET', '/api/v1/namespaces/demo/pods', { headers: { 'Impersonate-User': 'carol' } })
    assert.equal(no.status, 403)
    assert.match(no.json.message, /User "chatbot" cannot impersonate resource "users"/)
  })

  test('unknown paths → 404 Status and are recorded', async () => {
    const r = await api(sim, ADMIN, 'GET', '/apis/apps/v1/deployments')
    assert.equal(r.status, 404)
    assert.equal(r.json.message, 'the server could not find the requested resource')
    assert.ok(sim.unknownRequests.includes('GET /apis/apps/v1/deployments'))
  })

  test('HTTPS on the same port with the sim CA', async () => {
    const agent = new Agent({ ca: sim.caPem })
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest(sim.httpsUrl + '/version', { agent, headers: { Authorization: 'Bearer bob-token' } }, res => {
        let s = ''
        res.on('data', c => { s += c })
        res.on('end', () => resolve(s))
      })
      req.on('error', reject)
      req.end()
    })
    agent.destroy()
    assert.equal(JSON.parse(body).major, '1')
  })
})

describe('resources', () => {
  test('list has resourceVersion; items have none of kind/apiVersion; selectors apply', async () => {
    const r = await api(sim, ADMIN, 'GET', '/api/v1/namespaces/demo/pods?limit=500&labelSelector=app%3Dweb')
    assert.equal(r.status, 200)
    assert.equal(r.json.kind, 'PodList')
    assert.equal(r.json.metadata.resourceVersion, String(sim.store.resourceVersion))
    assert.deepEqual(r.json.items.map((p: any) => p.metadata.name), ['web'])
    assert.equal(r.json.items[0].kind, undefined)
    const all = await api(sim, ADMIN, 'GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-2')
    assert.deepEqual(all.json.items.map((p: any) => p.metadata.name).sort(), ['api', 'ledger'])
    const bad = await api(sim, ADMIN, 'GET', '/api/v1/pods?fieldSelector=spec.image%3Dx')
    assert.equal(bad.status, 400)
    assert.equal(bad.json.message, 'field label not supported: spec.image')
  })

  test('get, 404 NotFound', async () => {
    const r = await api(sim, ADMIN, 'GET', '/api/v1/namespaces/demo/pods/web')
    assert.equal(r.json.kind, 'Pod')
    assert.equal(r.json.apiVersion, 'v1')
    assert.ok(r.json.metadata.resourceVersion)
    const missing = await api(sim, ADMIN, 'GET', '/api/v1/namespaces/demo/pods/nope')
    assert.equal(missing.status, 404)
    assert.equal(missing.json.message, 'pods "nope" not found')
    assert.deepEqual(missing.json.details, { name: 'nope', kind: 'pods' })
  })

  test('Table output when Accept asks for it', async () => {
    const r = await api(sim, ADMIN, 'GET', '/api/v1/namespaces/demo/pods', { headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json' } })
    assert.equal(r.json.kind, 'Table')
    assert.equal(r.json.apiVersion, 'meta.k8s.io/v1')
    const web = r.json.rows.find((row: any) => row.cells[0] === 'web')
    assert.deepEqual(web.cells.slice(1, 4), ['2/2', 'Running', '0'])
    assert.equal(web.object.metadata.namespace, 'demo')
  })

  test('create with generateName, YAML body, 201; wrong namespace → 400; missing namespace → 404', async () => {
    const r = await api(sim, ADMIN, 'POST', '/api/v1/namespaces/demo/pods', { body: 'apiVersion: v1\nkind: Pod\nmetadata:\n  generateName: gen-\nspec:\n  containers:\n  - name: c\n    image: busybox\n', contentType: 'application/yaml' })
    assert.equal(r.status, 201)
    assert.match(r.json.metadata.name, /^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/)
    assert.equal(r.json.status.phase, 'Pending')
    const wrong = await api(sim, ADMIN, 'POST', '/api/v1/namespaces/demo/pods', { body: { ...(newPod('x') as any), metadata: { name: 'x', namespace: 'payments' } } })
    assert.equal(wrong.status, 400)
    assert.equal(wrong.json.message, 'the namespace of the provided object does not match the namespace sent on the request')
    const nons = await api(sim, ADMIN, 'POST', '/api/v1/namespaces/nowhere/pods', { body: newPod('x') })
    assert.equal(nons.status, 404)
    assert.equal(nons.json.message, 'namespaces "nowhere" not found')
    const dup = await api(sim, ADMIN, 'POST', '/api/v1/namespaces/demo/pods', { body: newPod('web') })
    assert.equal(dup.status, 409)
    assert.equal(dup.json.reason, 'AlreadyExists')
    const media = await api(sim, ADMIN, 'POST', '/api/v1/namespaces/demo/pods', { body: 'x', contentType: 'text/plain' })
    assert.equal(media.status, 415)
  })

  test('dryRun=All validates and stores nothing', async () => {
    const before = sim.store.list('pods').length
    const r = await api(sim, ADMIN, 'POST', '/api/v1/namespaces/demo/pods?dryRun=All', { body: newPod('dry') })
    assert.equal(r.status, 201)
    assert.equal(r.json.metadata.name, 'dry')
    assert.equal(sim.store.get('pods', 'demo', 'dry'), undefined)
    assert.equal(sim.store.list('pods').length, before)
    const del = await api(sim, ADMIN, 'DELETE', '/api/v1/namespaces/demo/pods/web?dryRun=All&gracePeriodSeconds=0')
    assert.equal(del.status, 200)
    assert.ok(sim.store.get('pods', 'demo', 'web'), 'dry-run delete keeps the pod')
  })

  test('patch (merge) and update with resourceVersion conflict; pod status is kept', async () => {
    await api(sim, ADMIN, 'POST', '/api/v1/namespaces/demo/pods', { body: newPod('p1') })
    const p = await waitFor(() => { const o = sim.store.get('pods', 'demo', 'p1'); return (o?.status as any)?.phase === 'Running' ? o : undefined }, 'p1 running')
    const m = await api(sim, ADMIN, 'PATCH', '/api/v1/namespaces/demo/pods/p1', { body: { metadata: { labels: { extra: 'yes' } }, status: { phase: 'Failed' } }, contentType: 'application/merge-patch+json' })
    assert.equal(m.status, 200, m.text)
    assert.equal(m.json.metadata.labels.extra, 'yes')
    assert.equal(m.json.status.phase, 'Running')
    assert.ok(Number(m.json.metadata.resourceVersion) > Number(p.metadata.resourceVersion))
    const stale = await api(sim, ADMIN, 'PUT', '/api/v1/namespaces/demo/pods/p1', { body: { ...p, metadata: { ...p.metadata } } })
    assert.equal(stale.status, 409)
    assert.equal(stale.json.message, 'Operation cannot be fulfilled on pods "p1": the object has been modified; please apply your changes to the latest version and try again')
    const spec = await api(sim, ADMIN, 'PUT', '/api/v1/namespaces/demo/pods/p1', { body: { ...m.json, spec: { ...m.json.spec, hostNetwork: true } } })
    assert.equal(spec.status, 422)
    assert.match(spec.json.message, /pod updates may not change fields other than/)
  })

  test('leases (the lease strategy): a PUT of a missing lease creates it whatever resourceVersion it carries (201, new uid); a PUT without one is 422; a missing pod stays 404', async () => {
    const path = '/apis/coordination.k8s.io/v1/namespaces/kdebug/leases/put-created'
    const lease = (rv?: string): unknown => ({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'put-created', ...(rv ? { resourceVersion: rv } : {}) }, spec: {} })
    const created = await api(sim, ADMIN, 'PUT', path, { body: lease('12345') })
    assert.equal(created.status, 201)
    assert.ok(created.json.metadata.uid)
    assert.notEqual(created.json.metadata.resourceVersion, '12345')
    const unconditional = await api(sim, ADMIN, 'PUT', path, { body: lease() })
    assert.equal(unconditional.status, 422)
    assert.equal(unconditional.json.message, 'leases.coordination.k8s.io "put-created" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update')
    const updated = await api(sim, ADMIN, 'PUT', path, { body: lease(created.json.metadata.resourceVersion) })
    assert.equal(updated.status, 200)
    assert.equal(updated.json.metadata.uid, created.json.metadata.uid)
    const pod = await api(sim, ADMIN, 'PUT', '/api/v1/namespaces/demo/pods/not-there', { body: newPod('not-there', { metadata: { name: 'not-there', resourceVersion: '1' } }) })
    assert.equal(pod.status, 404)
  })

  test('delete: preconditions → 409, graceful delete sets deletionTimestamp then removes, 0 = at once', async () => {
    await api(sim, ADMIN, 'POST', '/api/v1/namespaces/demo/pods', { body: newPod('d1') })
    await waitFor(() => (sim.store.get('pods', 'demo', 'd1')?.spec as any)?.nodeName, 'd1 scheduled')
    const pre = await api(sim, ADMIN, 'DELETE', '/api/v1/namespaces/demo/pods/d1', { body: { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: 'not-it' } } })
    assert.equal(pre.status, 409)
    assert.match(pre.json.message, /^Operation cannot be fulfilled on pods "d1": Precondition failed: UID in precondition: not-it, UID in object meta: /)
    const g = await api(sim, ADMIN, 'DELETE', '/api/v1/namespaces/demo/pods/d1', { body: { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 1 } })
    assert.equal(g.status, 200)
    assert.ok(g.json.metadata.deletionTimestamp)
    assert.equal(g.json.metadata.deletionGracePeriodSeconds, 1)
    assert.ok(sim.store.get('pods', 'demo', 'd1'), 'still there during the grace period')
    await waitFor(() => sim.store.get('pods', 'demo', 'd1') === undefined, 'd1 removed', 3000)

    await api(sim, ADMIN, 'POST', '/api/v1/namespaces/demo/pods', { body: newPod('d2') })
    const now = await api(sim, ADMIN, 'DELETE', '/api/v1/namespaces/demo/pods/d2?gracePeriodSeconds=0')
    assert.equal(now.status, 200)
    assert.equal(sim.store.get('pods', 'demo', 'd2'), undefined)
  })

  test('events: create, patch, delete → Success Status; event namespace must match involvedObject', async () => {
    const ev = { apiVersion: 'v1', kind: 'Event', metadata: { name: 'e1', namespace: 'demo' }, involvedObject: { kind: 'Pod', namespace: 'demo', name: 'web' }, reason: 'Test', message: 'm', type: 'Normal', count: 1 }
    const c = await api(sim, ADMIN, 'POST', '/api/v1/namespaces/demo/events', { body: ev })
    assert.equal(c.status, 201)
    const p = await api(sim, ADMIN, 'PATCH', '/api/v1/namespaces/demo/events/e1', { body: { count: 2 }, contentType: 'application/strategic-merge-patch+json' })
    assert.equal(p.json.count, 2)
    const d = await api(sim, ADMIN, 'DELETE', '/api/v1/namespaces/demo/events/e1')
    assert.equal(d.json.status, 'Success')
    assert.equal(d.json.details.name, 'e1')
    const bad = await api(sim, ADMIN, 'POST', '/api/v1/namespaces/demo/events', { body: { ...ev, metadata: { name: 'e2' }, involvedObject: { kind: 'Pod', namespace: 'payments', name: 'ledger' } } })
    assert.equal(bad.status, 422)
    assert.equal(bad.json.message, 'Event "e2" is invalid: involvedObject.namespace: Invalid value: "payments": does not match event.namespace')
  })

  test('reviews: SelfSubjectAccessReview, SubjectAccessReview, TokenReview', async () => {
    const ssar = await api(sim, 'alice-token', 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { namespace: 'demo', verb: 'patch', resource: 'pods', subresource: 'ephemeralcontainers' } } } })
    assert.equal(ssar.status, 201)
    assert.equal(ssar.json.status.allowed, true)
    const sar = await api(sim, 'gateway-token', 'POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', { body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user: 'bob', resourceAttributes: { namespace: 'demo', verb: 'patch', resource: 'pods', subresource: 'ephemeralcontainers' } } } })
    assert.equal(sar.status, 201)
    assert.equal(sar.json.status.allowed, false)
    const tr = await api(sim, 'gateway-token', 'POST', '/apis/authentication.k8s.io/v1/tokenreviews', { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: 'carol-token' } } })
    assert.equal(tr.status, 201)
    assert.equal(tr.json.status.user.username, 'carol')
    const denied = await api(sim, 'bob-token', 'POST', '/apis/authentication.k8s.io/v1/tokenreviews', { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: 'carol-token' } } })
    assert.equal(denied.status, 403)
  })

  test('attach without upgrade → 400 Upgrade request required', async () => {
    const r = await api(sim, ADMIN, 'POST', '/api/v1/namespaces/demo/pods/web/attach?container=app&stdout=true')
    assert.equal(r.status, 400)
    assert.equal(r.json.message, 'Upgrade request required')
  })

  test('logs: container choice errors', async () => {
    const r = await api(sim, ADMIN, 'GET', '/api/v1/namespaces/demo/pods/web/log')
    assert.equal(r.status, 400)
    assert.equal(r.json.message, 'a container name must be specified for pod web, choose one of: [app sidecar]')
    const bad = await api(sim, ADMIN, 'GET', '/api/v1/namespaces/demo/pods/web/log?container=nope')
    assert.equal(bad.json.message, 'container nope is not valid for pod web')
  })
})

describe('fault injection', () => {
  test('admin endpoint needs system:masters; injected errors and latency', async () => {
    const denied = await api(sim, 'alice-token', 'POST', '/__sim/faults', { body: { errorRate: 1 } })
    assert.equal(denied.status, 403)
    const set = await api(sim, ADMIN, 'POST', '/__sim/faults', { body: { errorRate: 1, errorCodes: [503], pathPrefix: '/api/v1/nodes' } })
    assert.equal(set.json.errorRate, 1)
    const failed = await api(sim, ADMIN, 'GET', '/api/v1/nodes')
    assert.equal(failed.status, 503)
    assert.equal(failed.json.reason, 'ServiceUnavailable')
    assert.equal((await api(sim, ADMIN, 'GET', '/api/v1/namespaces')).status, 200)
    sim.faults.set({ errorRate: 0, latencyMs: 80, pathPrefix: '' })
    const t0 = Date.now()
    await api(sim, ADMIN, 'GET', '/version')
    assert.ok(Date.now() - t0 >= 75)
    await api(sim, ADMIN, 'DELETE', '/__sim/faults')
    assert.equal(sim.faults.config.latencyMs, 0)
  })

  test('refused connections', async () => {
    await api(sim, ADMIN, 'POST', '/__sim/faults', { body: { refuseConnections: true } })
    try {
      await assert.rejects(fetch(sim.url + '/version'))
    } finally {
      await api(sim, ADMIN, 'DELETE', '/__sim/faults')
    }
    assert.equal((await api(sim, ADMIN, 'GET', '/version')).status, 200)
  })
})

describe('attach upgrade', () => {
  const connect = (path: string, token: string): Promise<{ status?: number, body?: string, protocol?: string }> => new Promise((resolve) => {
    const ws = new WebSocket(sim.url.replace('http', 'ws') + path, ['v5.channel.k8s.io'], { headers: { Authorization: `Bearer ${token}` } })
    ws.on('unexpected-response', (_req, res) => {
      let body = ''
      res.on('data', (c: Buffer) => { body += c.toString() })
      res.on('end', () => resolve({ status: res.statusCode, body }))
    })
    ws.on('open', () => { resolve({ status: 101, protocol: ws.protocol }); ws.terminate() })
    ws.on('error', () => {})
  })

  test('RBAC before the upgrade: bob may not attach (403 Status), alice may (101, v5)', async () => {
    const no = await connect('/api/v1/namespaces/demo/pods/web/attach?container=app&stdout=true', 'bob-token')
    assert.equal(no.status, 403)
    assert.equal(JSON.parse(no.body ?? '{}').message, 'pods "web" is forbidden: User "bob" cannot get resource "pods/attach" in API group "" in the namespace "demo"')
    const yes = await connect('/api/v1/namespaces/demo/pods/web/attach?container=app&stdout=true', 'alice-token')
    assert.equal(yes.status, 101)
    assert.equal(yes.protocol, 'v5.channel.k8s.io')
  })

  test('container choice and missing pods are 400 / 404 before the upgrade', async () => {
    const choose = await connect('/api/v1/namespaces/demo/pods/web/attach?stdout=true', ADMIN)
    assert.equal(choose.status, 400)
    assert.match(JSON.parse(choose.body ?? '{}').message, /^a container name must be specified for pod web, choose one of: \[app sidecar\]/)
    const missing = await connect('/api/v1/namespaces/demo/pods/nope/attach?stdout=true', ADMIN)
    assert.equal(missing.status, 404)
  })
})

describe('fixtures', () => {
  test('seed adds running pods and RBAC like the world does', async () => {
    sim.seed([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fx' } },
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'fx1', namespace: 'fx' }, spec: { nodeName: 'node-2', containers: [{ name: 'c', image: 'nginx:1.27' }] } },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'bob-view', namespace: 'fx' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ kind: 'User', name: 'bob', apiGroup: 'rbac.authorization.k8s.io' }] }
    ])
    const r = await api(sim, 'bob-token', 'GET', '/api/v1/namespaces/fx/pods/fx1')
    assert.equal(r.status, 200, r.text)
    assert.equal(r.json.status.phase, 'Running')
    assert.equal(r.json.spec.restartPolicy, 'Always', 'defaults applied')
  })
})
