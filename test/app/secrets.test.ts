// Secrets never reach a log, an error or a response: bearer tokens, stream
// tickets and env values, even with every request logged at trace level.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { readFileSync } from 'node:fs'
import { pino } from 'pino'
import { loggerOptions } from '../../src/logger.ts'
import { startStack } from '../helpers/stack.ts'
import { jsonOf } from '../helpers/http.ts'

test('tokens, tickets and env values appear in no log line, problem or audit record', async () => {
  const lines: string[] = []
  const sink = new Writable({ write (chunk, _enc, cb) { lines.push(String(chunk)); cb() } })
  const logger = pino({ ...loggerOptions('trace') }, sink)
  const stack = await startStack({ logger, config: { logging: { level: 'trace', requests: true } } })
  const secretEnv = 'hunter2-env-secret-value'
  const bogus = 'bogus-token-that-must-not-leak'
  const seen: string[] = []
  try {
    // a valid token, a bogus one, a delegated call, an error path
    seen.push(await (await stack.request('/v1/whoami?namespace=demo', { as: 'alice' })).text())
    seen.push(await (await stack.request('/v1/whoami', { token: bogus })).text())
    seen.push(await (await stack.request('/v1/whoami', { as: 'chatbot', headers: { 'impersonate-user': 'carol' } })).text())
    // a debug session with an env value
    const created = await stack.request('/v1/namespaces/demo/pods/web/ephemeral-containers', {
      as: 'alice', method: 'POST', body: JSON.stringify({ image: 'busybox', reason: 'leak test', env: [{ name: 'DB_PASSWORD', value: secretEnv }] })
    })
    assert.equal(created.status, 201)
    // a stream ticket, used once (fine) and again (refused)
    const t = await jsonOf(await stack.request('/v1/stream-tickets', { as: 'alice', method: 'POST', body: JSON.stringify({ url: '/v1/namespaces/demo/drops' }) }))
    assert.ok(typeof t.ticket === 'string' && t.ticket.length > 20)
    const first = await stack.request(`/v1/namespaces/demo/drops?ticket=${encodeURIComponent(t.ticket)}&limit=1`)
    assert.equal(first.status, 200)
    const again = await stack.request(`/v1/namespaces/demo/drops?ticket=${encodeURIComponent(t.ticket)}&limit=1`)
    assert.equal(again.status, 401)
    seen.push(await first.text(), await again.text())

    const logs = lines.join('')
    assert.ok(logs.length > 0, 'request logging was on')
    for (const secret of [stack.sim.tokens.alice as string, stack.sim.tokens.chatbot as string, bogus, t.ticket, secretEnv]) {
      assert.ok(!logs.includes(secret), `a log line carries ${secret.slice(0, 12)}…`)
      for (const body of seen) assert.ok(!body.includes(secret), 'a response carries a secret')
    }
    const audit = readFileSync(stack.auditFile, 'utf8')
    for (const secret of [stack.sim.tokens.alice as string, t.ticket, secretEnv]) assert.ok(!audit.includes(secret), 'the audit log carries a secret')
  } finally {
    await stack.close()
  }
})
