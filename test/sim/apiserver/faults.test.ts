// Injected faults: error share by path, one-shot watch expiry, sanitising of the admin input.
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { FaultController, sanitize } from '../../../src/sim/apiserver/faults.ts'

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
