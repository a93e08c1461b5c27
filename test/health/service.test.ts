import { test } from 'node:test'
import assert from 'node:assert/strict'
import { HealthService } from '../../src/health/service.ts'
import type { ReadinessCheck } from '../../src/readiness.ts'

const ok = (name: string): ReadinessCheck => ({ name, check: async () => ({ ok: true }) })
const failing = (name: string, critical?: boolean): ReadinessCheck => ({ name, ...(critical === undefined ? {} : { critical }), check: async () => ({ ok: false, detail: `${name} down` }) })

test('ready only when every critical check passes; non-critical failures are reported', async () => {
  assert.deepEqual(await new HealthService({ checks: [ok('a')], isShuttingDown: () => false }).readiness(),
    { status: 'ready', checks: [{ name: 'a', ok: true, critical: true }] })
  const soft = await new HealthService({ checks: [ok('a'), failing('b', false)], isShuttingDown: () => false }).readiness()
  assert.equal(soft.status, 'ready')
  assert.deepEqual(soft.checks[1], { name: 'b', ok: false, critical: false, detail: 'b down' })
  assert.equal((await new HealthService({ checks: [ok('a'), failing('c')], isShuttingDown: () => false }).readiness()).status, 'not-ready')
})

test('a check that throws counts as failed, with its message', async () => {
  const throwing: ReadinessCheck = { name: 't', check: async () => { throw new Error('boom') } }
  assert.deepEqual(await new HealthService({ checks: [throwing], isShuttingDown: () => false }).readiness(),
    { status: 'not-ready', checks: [{ name: 't', ok: false, critical: true, detail: 'boom' }] })
})

test('shutting down wins over every check, and runs none', async () => {
  let ran = false
  const spy: ReadinessCheck = { name: 's', check: async () => { ran = true; return { ok: true } } }
  assert.deepEqual(await new HealthService({ checks: [spy], isShuttingDown: () => true }).readiness(), { status: 'shutting-down', checks: [] })
  assert.equal(ran, false)
})
