// The gateway names itself on every call to the API server (REST, watch,
// WebSocket) and as the field manager of every write, so managedFields and the
// cluster's audit log say who changed what.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startStack, type Stack } from '../helpers/stack.ts'
import { openWs } from '../helpers/attach-stack.ts'
import { KdebugClient } from '../helpers/attach-client.ts'
import { GATEWAY_VERSION, USER_AGENT, withFieldManager } from '../../src/kube/user-agent.ts'
import { managerOrUserAgent } from '../../src/sim/registry/managed-fields.ts'

const GATEWAY_USER = 'system:serviceaccount:kdebug:kdebug-gateway'
let s: Stack
before(async () => { s = await startStack({ sim: { startDelayMs: 5 } }) })
after(async () => { await s.close() })

type Obj = Record<string, any>

test('User-Agent kdebug-gateway/<version> on REST, watch and WebSocket calls; fieldManager=kdebug-gateway on writes', async () => {
  const pkg = JSON.parse(await (await import('node:fs/promises')).readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  assert.equal(GATEWAY_VERSION, pkg.version)
  assert.equal(USER_AGENT, `kdebug-gateway/${pkg.version}`)
  s.sim.userAgents.clear()

  // REST (reviews, pod read, ephemeral patch) + watch (wait)
  const eph = await s.request('/v1/namespaces/demo/pods/web/ephemeral-containers', { as: 'alice', method: 'POST', body: JSON.stringify({ image: 'busybox:1.36', reason: 'checking the wire identity', wait: 10 }) })
  assert.equal(eph.status, 201)
  const body = await eph.json() as Obj
  // a pod create (copy)
  const copy = await s.request('/v1/namespaces/demo/pods/web/copies', { as: 'bob', method: 'POST', body: JSON.stringify({ image: 'busybox:1.36', reason: 'checking the wire identity' }) })
  assert.ok(copy.status === 201 || copy.status === 202 || copy.status === 403, String(copy.status))
  // WebSocket
  const { ws } = await openWs(`${s.url.replace(/^http/, 'ws')}${body.attach.url as string}`, [], { headers: { authorization: 'Bearer alice-token' } })
  const c = new KdebugClient(ws)
  await c.waitControl('ready')
  ws.close()
  await c.closed
  // readiness ping (GET /version)
  await s.request('/readyz')

  assert.deepEqual([...(s.sim.userAgents.get(GATEWAY_USER) ?? [])], [USER_AGENT])

  const pod = s.sim.store.mustGet('pods', 'demo', 'web')
  const eph2 = (pod.metadata.managedFields as Obj[]).filter(e => e.subresource === 'ephemeralcontainers')
  assert.deepEqual(eph2.map(e => [e.manager, e.operation]), [['kdebug-gateway', 'Update']])
  if (copy.status !== 403) {
    const cb = await copy.json() as Obj
    const created = s.sim.store.mustGet('pods', 'demo', cb.session.pod)
    assert.deepEqual((created.metadata.managedFields as Obj[]).map(e => e.manager), ['kdebug-gateway'])
  }
})

test('withFieldManager: writes only, a caller\'s own value kept', () => {
  assert.equal(withFieldManager('GET', undefined), undefined)
  assert.equal(withFieldManager('DELETE', new URLSearchParams('a=1'))?.toString(), 'a=1')
  assert.equal(withFieldManager('POST', undefined)?.toString(), 'fieldManager=kdebug-gateway')
  assert.equal(withFieldManager('patch', new URLSearchParams('dryRun=All'))?.toString(), 'dryRun=All&fieldManager=kdebug-gateway')
  assert.equal(withFieldManager('PUT', new URLSearchParams('fieldManager=x'))?.toString(), 'fieldManager=x')
})

test('sim: the manager is fieldManager, else the User-Agent prefix, else ""', () => {
  assert.equal(managerOrUserAgent('mine', 'kubectl/v1.32.3 (linux/amd64) kubernetes/32cc146'), 'mine')
  assert.equal(managerOrUserAgent(null, 'kubectl/v1.32.3 (linux/amd64) kubernetes/32cc146'), 'kubectl')
  assert.equal(managerOrUserAgent(null, undefined), '')
  assert.throws(() => managerOrUserAgent('x'.repeat(129), undefined), /fieldManager/)
})
