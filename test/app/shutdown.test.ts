// Graceful shutdown: readiness flips, in-flight requests finish, close is quick.
import { test } from 'node:test'
import { jsonOf } from '../helpers/http.ts'
import assert from 'node:assert/strict'
import { startStack } from '../helpers/stack.ts'

// The timeout catches a close() stuck on keep-alive sockets (72 s keepAliveTimeout).
test('close() lets in-flight requests finish and does not wait for idle keep-alive', { timeout: 20_000 }, async () => {
  let arrived!: () => void
  const inGateway = new Promise<void>(resolve => { arrived = resolve })
  const stack = await startStack({
    config: { authentication: { cacheTtlSeconds: 0 } },
    // The raw server's 'request' event: the gateway has the request and is authenticating it.
    extend: (app) => { app.server.on('request', (req) => { if (req.url === '/v1/whoami') arrived() }) }
  })
  try {
    // Each upstream call now takes 300 ms, so once the gateway has the request it is mid-flight
    // (authenticating) when we close — whatever the machine's load.
    stack.sim.faults.set({ latencyMs: 300 })
    const inFlight = stack.request('/v1/whoami', { as: 'alice' })
    await inGateway
    const closing = stack.app.close()
    const res = await inFlight
    assert.equal(res.status, 200)
    assert.equal((await jsonOf(res)).user, 'alice')
    await closing
    assert.equal(stack.app.lifecycle.shuttingDown, true)
    await assert.rejects(fetch(stack.url + '/healthz'))
  } finally {
    stack.sim.faults.reset()
    await stack.close().catch(() => {})
  }
})
