import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { KubeReviewClient, ReviewAnswerError, reviewProblem, subjectAccessReviewBody } from '../../src/kube/reviews.ts'
import { ProblemError } from '../../src/errors.ts'
import { kubeConfigFor } from '../helpers/kubeconfig.ts'

const GATEWAY_TOKEN = 'gateway-sa-secret'
const USER_TOKEN = 'user-secret-token'

function assertNoSecrets (err: ProblemError): void {
  const text = JSON.stringify({ detail: err.detail, extras: err.extras, message: err.message, cause: String(err.cause) })
  assert.ok(!text.includes(GATEWAY_TOKEN) && !text.includes(USER_TOKEN), text)
}

describe('KubeReviewClient over HTTP', () => {
  let server: Server
  let url: string
  let mode: 'ok' | 'down' | 'forbidden' | 'throttled' | 'slow' = 'ok'
  const bodies: any[] = []
  const auths: string[] = []
  const agents: string[] = []
  let connections = 0

  before(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let text = ''
      req.on('data', (c: Buffer) => { text += c.toString() })
      req.on('end', () => {
        const body = JSON.parse(text)
        bodies.push({ url: req.url, body })
        auths.push(req.headers.authorization ?? '')
        agents.push(req.headers['user-agent'] ?? '')
        const status = (code: number, reason: string) => res.writeHead(code, { 'content-type': 'application/json', ...(code === 429 ? { 'retry-after': '7' } : {}) })
          .end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, code, message: `echo ${USER_TOKEN}` }))
        if (mode === 'down') return status(503, 'ServiceUnavailable')
        if (mode === 'forbidden') return status(403, 'Forbidden')
        if (mode === 'throttled') return status(429, 'TooManyRequests')
        if (mode === 'slow') return // never answers
        if (req.url === '/apis/authentication.k8s.io/v1/tokenreviews') {
          const ok = body.spec.token === USER_TOKEN
          res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({
            ...body,
            status: ok
              ? { authenticated: true, user: { username: 'alice', uid: 'u1', groups: ['dev', 'system:authenticated'], extra: { scopes: ['a'] } }, audiences: body.spec.audiences ?? ['https://kubernetes.default.svc'] }
              : { authenticated: false, error: 'invalid bearer token' }
          }))
          return
        }
        const a = body.spec.resourceAttributes
        res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({
          ...body, status: a.verb === 'get' ? { allowed: true, reason: 'RBAC: allowed by ClusterRoleBinding "x"' } : { allowed: false }
        }))
      })
    })
    server.on('connection', () => { connections++ })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  after(async () => {
    server.closeAllConnections()
    await new Promise(resolve => server.close(resolve))
  })

  test('TokenReview: sends the token with the gateway\'s own credentials and maps the user', async () => {
    mode = 'ok'
    const client = new KubeReviewClient({ kubeConfig: kubeConfigFor(url, GATEWAY_TOKEN) })
    const r = await client.tokenReview(USER_TOKEN, ['kdebug'])
    assert.deepEqual(r, { authenticated: true, user: { user: 'alice', uid: 'u1', groups: ['dev', 'system:authenticated'], extra: { scopes: ['a'] } }, audiences: ['kdebug'] })
    assert.deepEqual(bodies.at(-1), { url: '/apis/authentication.k8s.io/v1/tokenreviews', body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: USER_TOKEN, audiences: ['kdebug'] } } })
    assert.equal(auths.at(-1), `Bearer ${GATEWAY_TOKEN}`)
    assert.deepEqual(await client.tokenReview('wrong'), { authenticated: false, error: 'invalid bearer token' })
  })

  test('SubjectAccessReview: exact body, allowed and reason mapped', async () => {
    mode = 'ok'
    const client = new KubeReviewClient({ kubeConfig: kubeConfigFor(url, GATEWAY_TOKEN) })
    const spec = { user: 'alice', groups: ['dev'], resourceAttributes: { verb: 'get', resource: 'pods', subresource: 'attach', namespace: 'demo', name: 'web' } }
    assert.deepEqual(await client.subjectAccessReview(spec), { allowed: true, reason: 'RBAC: allowed by ClusterRoleBinding "x"' })
    assert.deepEqual(bodies.at(-1)?.body, {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: { user: 'alice', groups: ['dev'], resourceAttributes: { verb: 'get', group: '', resource: 'pods', subresource: 'attach', namespace: 'demo', name: 'web' } }
    })
    assert.deepEqual(await client.subjectAccessReview({ ...spec, resourceAttributes: { verb: 'delete', resource: 'pods' } }), { allowed: false })
  })

  test('reviews reuse pooled keep-alive connections and send the gateway\'s User-Agent', async () => {
    mode = 'ok'
    const client = new KubeReviewClient({ kubeConfig: kubeConfigFor(url, GATEWAY_TOKEN) })
    await client.tokenReview(USER_TOKEN) // opens the connection the next calls reuse
    const before = connections
    for (let i = 0; i < 10; i++) {
      await client.tokenReview(USER_TOKEN)
      await client.subjectAccessReview({ user: 'alice', groups: [], resourceAttributes: { verb: 'get', resource: 'pods' } })
    }
    assert.equal(connections - before, 0, '20 sequential reviews opened no new connection')
    assert.match(agents.at(-1) ?? '', /^kdebug-gateway\//)
  })

  test('503 → upstreamUnavailable with Retry-After; 429 keeps the server\'s Retry-After', async () => {
    const client = new KubeReviewClient({ kubeConfig: kubeConfigFor(url, GATEWAY_TOKEN) })
    mode = 'down'
    await assert.rejects(client.tokenReview(USER_TOKEN), (err: unknown) => {
      assert.ok(err instanceof ProblemError)
      assert.equal(err.status, 503)
      assert.equal(err.code, 'GW_UPSTREAM_UNAVAILABLE')
      assert.equal(err.extras.retryAfter, 5)
      assertNoSecrets(err)
      return true
    })
    mode = 'throttled'
    await assert.rejects(client.subjectAccessReview({ user: 'a', groups: [], resourceAttributes: { verb: 'get', resource: 'pods' } }), (err: unknown) => {
      assert.ok(err instanceof ProblemError)
      assert.equal(err.status, 503)
      assert.equal(err.extras.retryAfter, 7)
      return true
    })
  })

  test('403 to the gateway\'s own review → 502, not a 403 for the caller', async () => {
    mode = 'forbidden'
    const client = new KubeReviewClient({ kubeConfig: kubeConfigFor(url, GATEWAY_TOKEN) })
    await assert.rejects(client.tokenReview(USER_TOKEN), (err: unknown) => {
      assert.ok(err instanceof ProblemError)
      assert.equal(err.status, 502)
      assert.equal(err.extras.kubernetesReason, 'Forbidden')
      assertNoSecrets(err)
      return true
    })
  })

  test('no answer within the timeout → 503', async () => {
    mode = 'slow'
    const client = new KubeReviewClient({ kubeConfig: kubeConfigFor(url, GATEWAY_TOKEN), timeoutMs: 100 })
    await assert.rejects(client.tokenReview(USER_TOKEN), (err: unknown) => err instanceof ProblemError && err.status === 503)
    mode = 'ok'
  })

  test('connection refused → 503 with Retry-After', async () => {
    const closed = createServer()
    await new Promise<void>(resolve => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise(resolve => closed.close(resolve))
    const client = new KubeReviewClient({ kubeConfig: kubeConfigFor(`http://127.0.0.1:${port}`, GATEWAY_TOKEN) })
    await assert.rejects(client.tokenReview(USER_TOKEN), (err: unknown) => {
      assert.ok(err instanceof ProblemError)
      assert.equal(err.status, 503)
      assert.equal(err.extras.retryAfter, 5)
      assertNoSecrets(err)
      return true
    })
  })
})

describe('reviewProblem / subjectAccessReviewBody', () => {
  test('5xx, 429, 401/403 and other 4xx map as documented', () => {
    const ex = (code: number, headers: Record<string, string> = {}) => new ReviewAnswerError(code, JSON.stringify({ kind: 'Status', reason: 'R', details: { retryAfterSeconds: 3 } }), headers['retry-after'])
    assert.equal(reviewProblem('TokenReview', ex(500)).status, 503)
    assert.equal(reviewProblem('TokenReview', ex(500)).extras.retryAfter, 3)
    assert.equal(reviewProblem('TokenReview', ex(429, { 'retry-after': '9' })).extras.retryAfter, 9)
    assert.equal(reviewProblem('TokenReview', ex(401)).status, 502)
    assert.equal(reviewProblem('SubjectAccessReview', ex(404)).status, 502)
    assert.equal(reviewProblem('SubjectAccessReview', ex(422)).status, 502)
  })

  test('optional attributes are omitted, group "" is always sent, extra/uid only when present', () => {
    const body = subjectAccessReviewBody({ user: 'a', uid: 'u', groups: ['g'], extra: { k: ['v'] }, resourceAttributes: { verb: 'impersonate', group: 'authentication.k8s.io', version: 'v1', resource: 'uids', name: 'x' } })
    assert.deepEqual(body.spec, { user: 'a', uid: 'u', groups: ['g'], extra: { k: ['v'] }, resourceAttributes: { verb: 'impersonate', group: 'authentication.k8s.io', version: 'v1', resource: 'uids', name: 'x' } })
  })
})
