import { test, before, after } from 'node:test'
import { jsonOf } from '../helpers/http.ts'
import assert from 'node:assert/strict'
import { startStack, type Stack } from '../helpers/stack.ts'

let stack: Stack
before(async () => { stack = await startStack() })
after(async () => { await stack.close() })

test('whoami: alice sees her identity and what she may do in demo and payments', async () => {
  const res = await stack.request('/v1/whoami?namespace=demo', { as: 'alice' })
  assert.equal(res.status, 200)
  const body = await jsonOf(res)
  assert.equal(body.user, 'alice')
  assert.ok(body.groups.includes('dev'))
  assert.ok(body.groups.includes('system:authenticated'))
  assert.equal(body.delegated, false)
  assert.equal(body.can.ephemeral, true)
  assert.equal(body.can.node, false)
  const other = await await jsonOf(await stack.request('/v1/whoami?namespace=payments', { as: 'alice' }))
  assert.equal(other.can.ephemeral, false)
})

test('whoami: no token → 401 problem with WWW-Authenticate', async () => {
  const res = await stack.request('/v1/whoami')
  assert.equal(res.status, 401)
  assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/)
  assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/)
  assert.ok(res.headers.get('x-request-id'))
})

test('whoami: a chatbot delegating to alice becomes alice, with the actor recorded', async () => {
  const res = await stack.request('/v1/whoami', { as: 'chatbot', headers: { 'impersonate-user': 'alice' } })
  assert.equal(res.status, 200)
  const body = await jsonOf(res)
  assert.equal(body.user, 'alice')
  assert.equal(body.delegated, true)
  assert.equal(body.actor.user, 'chatbot')
})
