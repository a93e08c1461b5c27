// Errors raised before any route runs (router, HTTP parser) are
// application/problem+json with x-request-id like every other error, and a
// false "API server unreachable" is gone: an API server that answers 500 is
// reachable (502), a local programming error is a 500.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startDebugStack, type DebugStack } from '../helpers/debug-stack.ts'
import { rawRequest, type RawResponse } from '../helpers/raw-http.ts'
import { MAX_PARAM_LENGTH, MAX_URL_LENGTH } from '../../src/plugins/framework-errors.ts'
import { problemFromStatus, toProblem } from '../../src/kube/errors.ts'

let stack: DebugStack
before(async () => { stack = await startDebugStack() })
after(async () => { await stack.close() })

function assertProblem (r: RawResponse, status: number, what: string): any {
  assert.equal(r.status, status, `${what}: ${r.status} ${r.body}`)
  assert.match(r.headers['content-type'] ?? '', /^application\/problem\+json/, `${what}: ${JSON.stringify(r.headers)}`)
  const id = r.headers['x-request-id']
  assert.ok(id, `${what}: no x-request-id`)
  const p = r.json()
  assert.equal(p.status, status, what)
  assert.equal(p.requestId, id, what)
  return p
}

const auth = (): Record<string, string> => ({ authorization: `Bearer ${stack.sim.tokens.carol}` })

test('malformed percent-encoding in the path → 400 problem naming /url', async () => {
  for (const target of ['/v1/namespaces/demo/pods/%E0%A4%A/ephemeral-containers', '/v1/nodes/%/debug-pods', '/v1/sessions/%zz', '/v1/namespaces/%C0%AF/drops']) {
    const p = assertProblem(await rawRequest(stack.url, { method: 'GET', target, headers: auth() }), 400, target)
    assert.equal(p.errors[0].field, '/url', target)
  }
})

test(`a path parameter over ${MAX_PARAM_LENGTH} characters → 414 problem; ${MAX_PARAM_LENGTH} is still routed`, async () => {
  const p = assertProblem(await rawRequest(stack.url, { method: 'GET', target: `/v1/namespaces/demo/pods/${'a'.repeat(MAX_PARAM_LENGTH + 1)}/ephemeral-containers`, headers: auth() }), 414, 'long param')
  assert.equal(p.type, 'https://kdebug.dev/problems/uri-too-long')
  // 101..253 used to be 414 too (the router's default limit is 100): valid pod names must route.
  const ok = await rawRequest(stack.url, { method: 'GET', target: `/v1/namespaces/demo/pods/${'a'.repeat(150)}/ephemeral-containers`, headers: auth() })
  assert.equal(ok.status, 404, ok.body)
  assert.equal(ok.json().kubernetesReason, 'NotFound')
})

test(`a URL over ${MAX_URL_LENGTH} characters → 414 problem before authentication`, async () => {
  const target = `/v1/sessions?namespace=demo&x=${'a'.repeat(MAX_URL_LENGTH)}`
  const p = assertProblem(await rawRequest(stack.url, { method: 'GET', target }), 414, 'long url')
  assert.equal(p.errors[0].field, '/url')
})

test('HTTP parser errors: headers too large → 431, malformed request → 400, both problem+json with x-request-id', async () => {
  const big = await rawRequest(stack.url, { method: 'GET', target: '/v1/whoami', headers: { ...auth(), 'x-filler': 'a'.repeat(64 * 1024) } })
  const p = assertProblem(big, 431, 'header overflow')
  assert.equal(p.type, 'https://kdebug.dev/problems/headers-too-large')
  for (const req of [
    'GET /v1/whoami HTTP/1.1\r\nhost: x\r\nthis is not a header\r\n\r\n',
    'GARBAGE\r\n\r\n',
    'GET /v1/whoami HTTP/9.9\r\nhost: x\r\n\r\n',
    'POST /v1/nodes/node-1/debug-pods HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nabcde',
    'POST /v1/nodes/node-1/debug-pods HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n'
  ]) {
    const r = await rawRequest(stack.url, req)
    const prob = assertProblem(r, 400, JSON.stringify(req))
    assert.doesNotMatch(r.body, /Client Error|HPE_/, 'no parser internals')
    assert.equal(prob.type, 'https://kdebug.dev/problems/bad-request')
  }
})

test('an API server that answers 500 is reachable: 502 upstream error, not a 503 "cannot be reached"', async () => {
  stack.sim.faults.set({ errorRate: 1, errorCodes: [500], pathPrefix: '/api/v1/namespaces/demo/pods/web' })
  try {
    const r = await stack.post('/v1/namespaces/demo/pods/web/ephemeral-containers', 'carol', { image: 'busybox:1.36', reason: 'x' })
    assert.equal(r.status, 502, JSON.stringify(r.body))
    assert.equal(r.body.type, 'https://kdebug.dev/problems/upstream-error')
    assert.doesNotMatch(JSON.stringify(r.body), /cannot be reached/)
  } finally { stack.sim.faults.reset() }
})

test('toProblem: only network errors are 503; local TypeError/RangeError are 500', () => {
  assert.equal(toProblem(new TypeError('cap.trim is not a function')).status, 500)
  assert.equal(toProblem(new RangeError('Maximum call stack size exceeded')).status, 500)
  assert.equal(toProblem(Object.assign(new TypeError('weird'), { code: 'ERR_INVALID_ARG_TYPE' })).status, 500)
  assert.equal(toProblem(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })).status, 503)
  assert.equal(toProblem(new TypeError('fetch failed', { cause: Object.assign(new Error('x'), { code: 'ECONNRESET' }) })).status, 503)
  assert.equal(problemFromStatus(500, { reason: 'InternalError', message: 'panic' }).status, 502)
  assert.equal(problemFromStatus(503, undefined).status, 503)
  assert.equal(problemFromStatus(504, undefined).status, 504)
})
