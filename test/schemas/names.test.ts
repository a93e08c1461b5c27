// Names are validated as the API server validates them, before any upstream
// call: a `..` or `.` pod/node name used to make the gateway's own service
// account call another API path (and its identity came back in a 403). Sent
// over a raw socket because fetch and app.inject normalise dot segments away.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startDebugStack, type DebugStack } from '../helpers/debug-stack.ts'
import { rawRequest, type RawResponse } from '../helpers/raw-http.ts'
import { kubeDebugClient } from '../../src/kube/debug-client.ts'
import { attachPath } from '../../src/attach/upstream.ts'
import { nameSegment, isValidPathSegmentName } from '../../src/kube/path-segment.ts'
import { isDns1123Label, isDns1123Subdomain } from '../../src/schemas/names.ts'
import { isProblemError } from '../../src/errors.ts'
import { KubeConfig } from '@kubernetes/client-node'

let stack: DebugStack
before(async () => { stack = await startDebugStack() })
after(async () => { await stack.close() })

const reason = 'checking names'
const body = JSON.stringify({ image: 'busybox:1.36', reason })

async function send (as: string, method: string, target: string, payload?: string): Promise<RawResponse> {
  return await rawRequest(stack.url, { method, target, headers: { authorization: `Bearer ${stack.sim.tokens[as]}` }, body: payload })
}

function assertNamed (r: RawResponse, field: string, what: string): void {
  assert.equal(r.status, 400, `${what}: ${r.status} ${r.body}`)
  assert.match(r.headers['content-type'] ?? '', /^application\/problem\+json/, what)
  assert.ok(r.headers['x-request-id'], what)
  const p = r.json()
  assert.ok(p.errors.some((e: { field: string }) => e.field === field), `${what}: wants ${field}, got ${r.body}`)
  // Nothing about the gateway's own identity or the upstream path leaks.
  assert.doesNotMatch(r.body, /serviceaccount|system:|forbidden/i, what)
}

/** Every core API call fails while this runs, so a 400 proves the request never went upstream. */
async function withCoreApiDown (fn: () => Promise<void>): Promise<void> {
  stack.sim.faults.set({ errorRate: 1, errorCodes: [503], pathPrefix: '/api/v1/' })
  try { await fn() } finally { stack.sim.faults.reset() }
}

// Dot segments raw and percent-encoded, traversal, separators, case, edges.
const HOSTILE_SEGMENTS = ['..', '.', '%2e%2e', '%2E%2E', '.%2e', '%2e', '..%2F..', '..%2fnamespaces', 'a%2Fb', 'a%2fb',
  '.hidden', 'trailing.', 'double..dot', '-dash', 'dash-', 'UPPER', 'under_score', 'sp%20ace', 'nul%00', '%C3%A4', 'a%25b', '~', '*']

test('the gateway\'s identity no longer leaks: `..` and `.` as pod and node names are 400s naming the parameter', async () => {
  await withCoreApiDown(async () => {
    // Before: 403 "User system:serviceaccount:kdebug:kdebug-gateway cannot get resource namespaces".
    assertNamed(await send('carol', 'GET', '/v1/namespaces/demo/pods/../ephemeral-containers'), '/params/pod', 'GET pods/..')
    assertNamed(await send('carol', 'POST', '/v1/namespaces/demo/pods/../copies', body), '/params/pod', 'copy of ..')
    // Before: 403 "cannot list resource nodes at the cluster scope" / 500.
    assertNamed(await send('carol', 'POST', '/v1/nodes/./debug-pods', body), '/params/node', 'node .')
    assertNamed(await send('carol', 'POST', '/v1/nodes/../debug-pods', body), '/params/node', 'node ..')
    assertNamed(await send('carol', 'POST', '/v1/nodes/%2e%2e/debug-pods', body), '/params/node', 'node %2e%2e')
  })
})

test('hostile names in every path parameter → 400 naming it, before any upstream call', async () => {
  let cases = 0
  let routeGone = 0
  await withCoreApiDown(async () => {
    for (const bad of HOSTILE_SEGMENTS) {
      const routes: Array<[string, string, string, string?]> = [
        ['GET', `/v1/namespaces/demo/pods/${bad}/ephemeral-containers`, '/params/pod'],
        ['POST', `/v1/namespaces/demo/pods/${bad}/ephemeral-containers`, '/params/pod', body],
        ['POST', `/v1/namespaces/demo/pods/${bad}/copies`, '/params/pod', body],
        ['POST', `/v1/nodes/${bad}/debug-pods`, '/params/node', body],
        ['GET', `/v1/namespaces/demo/pods/${bad}/attach`, '/params/pod'],
        ['GET', `/v1/namespaces/demo/pods/${bad}/containers/app/logs`, '/params/pod'],
        ['GET', `/v1/namespaces/demo/pods/web/containers/${bad}/logs`, '/params/container'],
        ['GET', `/v1/namespaces/${bad}/pods/web/ephemeral-containers`, '/params/namespace'],
        ['GET', `/v1/namespaces/${bad}/drops`, '/params/namespace']
      ]
      for (const [method, target, field, payload] of routes) {
        const r = await send('carol', method, target, payload)
        // `..`/`.` may also collapse the route itself away: then it is no route (404), still never upstream.
        if (r.status === 404) {
          assert.equal(r.json().type, 'https://kdebug.dev/problems/route-not-found', `${method} ${target}: ${r.body}`)
          routeGone++
        } else {
          assertNamed(r, field, `${method} ${target}`)
        }
        cases++
      }
    }
  })
  assert.ok(cases >= 200)
  // Only a few collapse (`..` eating the segment before it); the rest reach validation.
  assert.ok(routeGone < cases / 4, `${routeGone} of ${cases} were 404`)
})

test('names in the query and the body are validated too', async () => {
  await withCoreApiDown(async () => {
    for (const bad of ['..', '.', 'a/b', 'A', '-x', 'x'.repeat(64)]) {
      const q = encodeURIComponent(bad)
      assertNamed(await send('carol', 'GET', `/v1/namespaces/demo/pods/web/attach?container=${q}`), '/querystring/container', `attach container ${bad}`)
      assertNamed(await send('carol', 'GET', `/v1/sessions?namespace=${q}`), '/querystring/namespace', `sessions ns ${bad}`)
      assertNamed(await send('carol', 'GET', `/v1/whoami?namespace=${q}`), '/querystring/namespace', `whoami ns ${bad}`)
      assertNamed(await send('carol', 'GET', `/v1/drops?namespace=${q}`), '/querystring/namespace', `drops ns ${bad}`)
      assertNamed(await send('admin', 'GET', `/v1/audit?namespace=${q}`), '/querystring/namespace', `audit ns ${bad}`)
      const post = async (path: string, extra: Record<string, unknown>): Promise<RawResponse> =>
        await send('carol', 'POST', path, JSON.stringify({ image: 'busybox:1.36', reason, ...extra }))
      assertNamed(await post('/v1/namespaces/demo/pods/web/ephemeral-containers', { target: bad }), '/body/target', `target ${bad}`)
      assertNamed(await post('/v1/namespaces/demo/pods/web/ephemeral-containers', { container: bad }), '/body/container', `container ${bad}`)
      const podName = bad.length === 64 ? 'x'.repeat(254) : bad // 64 is a fine pod name (subdomain ≤ 253)
      assertNamed(await post('/v1/namespaces/demo/pods/web/copies', { name: podName }), '/body/name', `copy name ${podName}`)
      assertNamed(await post('/v1/namespaces/demo/pods/web/copies', { setImage: { [bad]: 'busybox:1.36' } }), `/body/setImage/${bad}`, `setImage ${bad}`)
      assertNamed(await post('/v1/nodes/node-1/debug-pods', { namespace: bad }), '/body/namespace', `node pod namespace ${bad}`)
    }
  })
})

test('valid names still go upstream: subdomain pod and node names up to 253, setImage `*`', async () => {
  const long = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`
  assert.equal(long.length, 253)
  // 404 from the API server (the pod does not exist), not a gateway 400 or 414.
  const r = await send('carol', 'GET', `/v1/namespaces/demo/pods/${long}/ephemeral-containers`)
  assert.equal(r.status, 404, r.body)
  assert.equal(r.json().kubernetesReason, 'NotFound')
  const n = await send('carol', 'POST', '/v1/nodes/node-1.example.com/debug-pods', body)
  assert.equal(n.status, 404, n.body)
  const star = await send('carol', 'POST', '/v1/namespaces/demo/pods/web/copies?dryRun=true', JSON.stringify({ image: 'busybox:1.36', reason, setImage: { '*': 'busybox:1.36' } }))
  assert.equal(star.status, 200, star.body)
})

test('second line: the upstream client refuses invalid names itself (encodeURIComponent is not the defence)', async () => {
  // `..` survives encodeURIComponent unchanged.
  assert.equal(encodeURIComponent('..'), '..')
  const kc = new KubeConfig()
  kc.loadFromString(stack.sim.kubeconfig)
  const client = kubeDebugClient(kc)
  const before = stack.sim.store.list('pods').length
  await withCoreApiDown(async () => {
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['getPod ..', async () => await client.getPod('demo', '..')],
      ['getPod ns ..', async () => await client.getPod('..', 'web')],
      ['getNode .', async () => await client.getNode('.')],
      ['getNode a/b', async () => await client.getNode('a/b')],
      ['createPod ns ..', async () => await client.createPod('..', { metadata: { name: 'x' }, spec: { containers: [] } } as never)],
      ['deletePod ..', async () => { await client.deletePod('demo', '..') }],
      ['listPods ns %2e', async () => await client.listPods({ namespace: '%2e' })],
      ['addEphemeralContainer .', async () => await client.addEphemeralContainer('demo', '.', { spec: { ephemeralContainers: [] } } as never)]
    ]
    for (const [what, call] of calls) {
      await assert.rejects(call, (err: unknown) => isProblemError(err) && err.status === 400, what)
    }
  })
  assert.equal(stack.sim.store.list('pods').length, before)
  assert.throws(() => attachPath({ namespace: 'demo', pod: '..', container: 'x', stdin: true, stdout: true, stderr: true, tty: false }), (e: unknown) => isProblemError(e) && e.status === 400)
  assert.throws(() => attachPath({ namespace: 'demo', pod: 'web', container: '../x', stdin: true, stdout: true, stderr: true, tty: false }), (e: unknown) => isProblemError(e) && e.status === 400)
  assert.equal(nameSegment('pod', 'web-0.x'), 'web-0.x')
})

test('name predicates follow apimachinery (IsDNS1123Label, IsDNS1123Subdomain, IsValidPathSegmentName)', () => {
  for (const ok of ['a', '0', 'a-b', 'a'.repeat(63)]) assert.ok(isDns1123Label(ok), ok)
  for (const bad of ['', '-a', 'a-', 'A', 'a.b', 'a_b', 'a'.repeat(64), '..', '.']) assert.ok(!isDns1123Label(bad), bad)
  for (const ok of ['a', 'a.b', 'a-1.b-2.c', 'a'.repeat(253)]) assert.ok(isDns1123Subdomain(ok), ok)
  for (const bad of ['', '.', '..', '.a', 'a.', 'a..b', 'a.-b', 'A.b', 'a/b', 'a'.repeat(254)]) assert.ok(!isDns1123Subdomain(bad), bad)
  for (const bad of ['', '.', '..', 'a/b', 'a%2e']) assert.ok(!isValidPathSegmentName(bad), bad)
  assert.ok(isValidPathSegmentName('...'))
})
