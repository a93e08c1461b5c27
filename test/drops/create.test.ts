import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { Registry } from 'prom-client'
import { Value } from '@sinclair/typebox/value'
import { KubeConfig } from '@kubernetes/client-node'
import { createDrops } from '../../src/drops/service.ts'
import { DropsConfigSchema, type DropsConfig } from '../../src/drops/config-schema.ts'
import { FakeEventsApi, FakeResponse, FakeAuthorizer } from './fakes.ts'
import { NamespaceAccess } from '../../src/drops/access.ts'
import { compileDropFilter } from '../../src/drops/filter.ts'

const silent = { info () {}, warn () {}, debug () {} }

function config (over: Record<string, unknown> = {}): DropsConfig {
  return Value.Default(DropsConfigSchema, structuredClone(over)) as DropsConfig
}

describe('createDrops', () => {
  test('config defaults', () => {
    const c = config()
    assert.equal(c.enabled, true)
    assert.deepEqual(c.namespaces, [])
    assert.deepEqual(c.reasons, ['PacketDrop'])
    assert.equal(c.heartbeatSeconds, 15)
    assert.equal(c.retryMs, 3000)
    assert.equal(c.maxBacklogBytes, 262144)
    assert.deepEqual(c.backoff, { initialMs: 500, maxMs: 30000 })
    assert.equal(Value.Check(DropsConfigSchema, c), true)
    assert.equal(Value.Check(DropsConfigSchema, { ...c, surprise: 1 }), false)
  })

  test('watch → hub → subscriber, metrics, readiness; close stops everything', async () => {
    const api = new FakeEventsApi()
    api.put('demo', 'web.1', 1)
    const registry = new Registry()
    const drops = await createDrops({ cluster: { kubeConfig: new KubeConfig() }, config: config(), metricsRegistry: registry, logger: silent, upstream: api, epoch: 'ep' })
    assert.equal((await drops.readinessCheck.check()).ok, false)
    assert.equal(drops.readinessCheck.critical, false)
    drops.start()
    for (let i = 0; i < 100 && api.openWatches === 0; i++) await sleep(2)
    const ready = await drops.readinessCheck.check()
    assert.equal(ready.ok, true)
    assert.match(ready.detail ?? '', /^watching; .*restarts 0; relists 0$/)
    const res = new FakeResponse()
    const auth = new FakeAuthorizer()
    auth.allowed.add('demo')
    const access = new NamespaceAccess({ identity: { user: 'bob', groups: [] }, authorizer: auth, recheckMs: 60000, namespace: 'demo' })
    access.grant('demo')
    drops.hub.subscribe({ res, filter: compileDropFilter({}), access })
    api.put('demo', 'web.1', 2)
    for (let i = 0; i < 100 && res.events().length === 0; i++) await sleep(2)
    assert.deepEqual(res.events().map(e => [e.event, e.id]), [['drop-update', 'ep-2']])
    const text = await registry.metrics()
    assert.match(text, /kdebug_drops_received_total\{kind="drop"\} 1/)
    assert.match(text, /kdebug_drops_received_total\{kind="drop-update"\} 1/)
    assert.match(text, /kdebug_drops_sent_total 1/)
    assert.match(text, /kdebug_drops_subscribers 1/)
    assert.match(text, /kdebug_drops_watch_connected 1/)
    await drops.close()
    assert.equal(api.openWatches, 0)
    assert.equal(res.events().at(-1)?.event, 'shutdown')
  })

  test('disabled: start() runs no watch', async () => {
    const api = new FakeEventsApi()
    const drops = await createDrops({ cluster: { kubeConfig: new KubeConfig() }, config: config({ enabled: false }), metricsRegistry: new Registry(), logger: silent, upstream: api })
    drops.start()
    await sleep(10)
    assert.equal(api.lists.length, 0)
    assert.deepEqual(await drops.readinessCheck.check(), { ok: true, detail: 'disabled' })
    await drops.close()
  })
})
