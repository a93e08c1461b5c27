// Request fuzzing: ≥ 10,000 generated requests across every route against the
// real app wired to the sim. Bodies (arbitrary JSON and mutations of valid
// bodies), path names (hostile, encoded, unicode, long), query strings and
// headers. Invariants for every one: never a 5xx; every 4xx is
// application/problem+json with x-request-id; a refused request changes
// nothing in the cluster. The seed is fixed and printed, so a failure replays
// with FUZZ_SEED=<seed>.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import type { LightMyRequestResponse } from 'fastify'
import { startDebugStack, type DebugStack } from '../helpers/debug-stack.ts'
import { rawRequest } from '../helpers/raw-http.ts'

const SEED = Number(process.env.FUZZ_SEED ?? 20261206)
const RUNS = { bodies: 3800, paths: 3000, queries: 2000, headers: 1000, raw: 400 }

let stack: DebugStack
let sent = 0
let fiveHundreds = 0
const statuses = new Map<number, number>()

before(async () => {
  stack = await startDebugStack()
  console.log(`fuzz seed ${SEED} (replay: FUZZ_SEED=${SEED})`)
})
after(async () => {
  console.log(`fuzz: ${sent} requests, ${fiveHundreds} × 5xx, statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`)
  await stack.close()
})

type Json = unknown
type Obj = Record<string, any>

/** Pods plus ephemeral containers: what a create adds to. */
function clusterSize (): number {
  let n = 0
  for (const p of stack.sim.store.list('pods') as Obj[]) n += 1 + (p.spec?.ephemeralContainers?.length ?? 0)
  return n
}

function record (status: number): void {
  sent++
  statuses.set(status, (statuses.get(status) ?? 0) + 1)
  if (status >= 500) fiveHundreds++
}

function checkResponse (what: string, status: number, headers: Record<string, unknown>, body: string): void {
  record(status)
  assert.ok(status < 500, `${what} → ${status} ${body.slice(0, 300)}`)
  if (status >= 400) {
    assert.match(String(headers['content-type'] ?? ''), /^application\/problem\+json/, `${what} → ${status} ${String(headers['content-type'])}`)
    assert.ok(headers['x-request-id'], `${what} → ${status} without x-request-id`)
    const p = JSON.parse(body) as Obj
    assert.equal(p.status, status, what)
  }
}

const TOKENS = ['alice', 'carol', 'bob', 'dave', 'chatbot', 'admin', 'none', 'bogus'] as const
function authHeader (who: string): Record<string, string> {
  if (who === 'none') return {}
  if (who === 'bogus') return { authorization: 'Bearer not-a-token' }
  return { authorization: `Bearer ${stack.sim.tokens[who]}` }
}

async function inject (what: string, req: { method: string, url: string, headers?: Record<string, string>, payload?: string }): Promise<LightMyRequestResponse> {
  const sizeBefore = clusterSize()
  const res = await stack.app.inject({ method: req.method as 'GET', url: req.url, headers: req.headers, payload: req.payload })
  checkResponse(what, res.statusCode, res.headers, res.body)
  if (res.statusCode >= 400) assert.equal(clusterSize(), sizeBefore, `${what} → ${res.statusCode} but the cluster changed`)
  return res
}

// ---------------------------------------------------------------- bodies

const reason = 'fuzzing the gateway'
const VALID_BODIES: Record<string, Obj> = {
  '/v1/namespaces/demo/pods/web/ephemeral-containers': {
    image: 'busybox:1.36',
    target: 'app',
    reason,
    ticket: 'INC-1',
    ttlSeconds: 600,
    profile: 'general',
    stdin: true,
    tty: true,
    env: [{ name: 'X', value: 'y' }],
    capabilities: { add: ['NET_ADMIN'] },
    custom: { securityContext: { runAsNonRoot: true, capabilities: { drop: ['ALL'] } }, env: [{ name: 'A', value: '1' }], imagePullPolicy: 'IfNotPresent' }
  },
  '/v1/namespaces/demo/pods/web/copies': {
    image: 'busybox:1.36',
    reason,
    name: 'web-fuzz-copy',
    setImage: { '*': 'busybox:1.36' },
    keep: { labels: true, liveness: false },
    shareProcesses: true,
    sameNode: false,
    custom: { workingDir: '/tmp', resources: { limits: { cpu: '100m' } } }
  },
  '/v1/nodes/node-1/debug-pods': {
    image: 'busybox:1.36',
    reason,
    profile: 'sysadmin',
    ticket: 'INC-2',
    namespace: 'kdebug',
    container: 'dbg',
    custom: { volumeMounts: [{ name: 'host-root', mountPath: '/host', readOnly: true }] }
  }
}
const CREATE_PATHS = Object.keys(VALID_BODIES)

/** Every path into a JSON value (keys and indices). */
function paths (v: Json, prefix: Array<string | number> = []): Array<Array<string | number>> {
  const out: Array<Array<string | number>> = [prefix]
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...prefix, i])))
  else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...prefix, k]))
  return out
}

const HOSTILE_STRINGS = ['..', '.', '../..', '%2e%2e', 'a/b', '', ' ', '\u0000', '\u202e', 'ä', '🙂', '$patch', 'KDEBUG_SESSION', '*',
  'x'.repeat(300), 'A'.repeat(64), '-a', 'a.', '{"a":1}', 'null', 'SYS_ADMIN', 'ALL', 'Unconfined', 'true', '1e309', '__proto__', 'constructor']

type Op = 'set' | 'delete' | 'wrap' | 'unknown' | 'hostile' | 'deep' | 'proto'
function mutate (body: Obj, pick: number, op: Op, value: Json, hostile: string): Json {
  const copy = structuredClone(body)
  const all = paths(copy).filter(p => p.length > 0)
  const path = all[pick % all.length] as Array<string | number>
  const parentPath = path.slice(0, -1)
  const key = path[path.length - 1] as string | number
  let parent: any = copy
  for (const k of parentPath) parent = parent[k]
  switch (op) {
    case 'set': parent[key] = value; break
    case 'delete': if (Array.isArray(parent)) parent.splice(Number(key), 1); else delete parent[key]; break
    case 'wrap': parent[key] = [parent[key]]; break
    case 'unknown': if (typeof parent === 'object' && !Array.isArray(parent)) parent[`x${String(hostile).slice(0, 8)}`] = value; else parent[key] = { value }; break
    case 'hostile': parent[key] = hostile; break
    case 'deep': { let v: Json = value; for (let i = 0; i < 40; i++) v = { a: v }; parent[key] = v; break }
    case 'proto': parent[key] = JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}'); break
  }
  // A valid `wait` on an image that never starts would hold the request for minutes; keep requests fast.
  if (typeof copy.wait === 'number' && copy.wait > 0 && Number.isInteger(copy.wait)) copy.wait = 0
  return copy
}

const jsonValue = fc.jsonValue({ maxDepth: 4 })
const bodyArb = fc.oneof(
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('arbitrary' as const), body: jsonValue }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('mutated' as const),
      pick: fc.nat(),
      op: fc.constantFrom<Op>('set', 'delete', 'wrap', 'unknown', 'hostile', 'deep', 'proto'),
      value: jsonValue,
      hostile: fc.constantFrom(...HOSTILE_STRINGS),
      times: fc.integer({ min: 1, max: 3 })
    })
  }
)

test(`bodies: ${RUNS.bodies} arbitrary and mutated bodies on the three creates`, async () => {
  await fc.assert(fc.asyncProperty(
    fc.constantFrom(...CREATE_PATHS), bodyArb, fc.constantFrom(...TOKENS), fc.boolean(), fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/merge-patch+json'),
    async (path, gen, who, dryRun, contentType) => {
      let body: Json
      if (gen.kind === 'arbitrary') {
        body = gen.body
      } else {
        body = VALID_BODIES[path] as Obj
        for (let i = 0; i < gen.times; i++) body = mutate(body as Obj, gen.pick + i * 7, gen.op, gen.value, gen.hostile)
      }
      // Mostly dry runs: real creates are slower and would pile up in the sim.
      const url = dryRun || gen.kind === 'arbitrary' ? `${path}?dryRun=true` : path
      const payload = JSON.stringify(body) ?? 'null'
      await inject(`POST ${url} as ${who} ${payload.slice(0, 200)}`, { method: 'POST', url, headers: { ...authHeader(who), 'content-type': contentType }, payload })
    }), { seed: SEED, numRuns: RUNS.bodies, endOnFailure: true })
  assert.equal(({} as Obj).polluted, undefined, 'no prototype pollution')
})

// ---------------------------------------------------------------- paths

const HOSTILE_SEGMENTS = ['..', '.', '%2e%2e', '%2E%2e', '.%2e', '%2e', '..%2F..', '%2F', 'a%2Fb', '%2f%2e%2e', '%00', '%C0%AE%C0%AE', '%E0%A4%A', '%',
  '%25', '%252e%252e', 'a;b', 'a%3Bb', 'web%20', '%20web', 'WEB', 'web_1', 'web..1', '.web', 'web.', '-web', 'web-', '*', '~', '%F0%9F%99%82', 'ä',
  'x'.repeat(63), 'x'.repeat(64), 'x'.repeat(253), 'x'.repeat(254), 'x'.repeat(2000), 'web', 'node-1', 'demo', 'app']

const segmentArb = fc.oneof(
  fc.constantFrom(...HOSTILE_SEGMENTS),
  fc.string({ unit: fc.constantFrom('a', 'z', '0', '-', '.', '/', '%', 'A', '_', '~', ':', '@', '!', 'é', '\u0000', '\u2028'), minLength: 1, maxLength: 20 }).map(encodeURIComponent),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }).map(encodeURIComponent),
  fc.string({ unit: fc.constantFrom('a', 'b', '-', '.'), minLength: 1, maxLength: 300 })
)

const TEMPLATES: Array<[string, string, boolean]> = [
  ['GET', '/v1/namespaces/{ns}/pods/{pod}/ephemeral-containers', false],
  ['POST', '/v1/namespaces/{ns}/pods/{pod}/ephemeral-containers', true],
  ['POST', '/v1/namespaces/{ns}/pods/{pod}/copies', true],
  ['POST', '/v1/nodes/{node}/debug-pods', true],
  ['GET', '/v1/namespaces/{ns}/pods/{pod}/attach', false],
  ['GET', '/v1/namespaces/{ns}/pods/{pod}/containers/{c}/logs', false],
  ['GET', '/v1/namespaces/{ns}/drops', false],
  ['GET', '/v1/sessions/{id}', false],
  ['DELETE', '/v1/sessions/{id}', false],
  ['GET', '/v1/{ns}', false],
  ['PUT', '/v1/namespaces/{ns}/pods/{pod}/copies', true]
]

function fill (template: string, segs: string[]): string {
  let i = 0
  return template.replace(/\{[a-z]+\}/g, () => segs[i++ % segs.length] as string)
}

function defaultBody (template: string): string {
  const path = CREATE_PATHS.find(p => p.includes(template.includes('/nodes/') ? '/nodes/' : template.split('/').pop() as string)) as string
  return JSON.stringify({ ...VALID_BODIES[path], name: undefined })
}

test(`paths: ${RUNS.paths} hostile names in every path parameter`, async () => {
  await fc.assert(fc.asyncProperty(
    fc.constantFrom(...TEMPLATES), fc.array(segmentArb, { minLength: 4, maxLength: 4 }), fc.constantFrom('carol', 'alice', 'chatbot'), fc.boolean(),
    async ([method, template, hasBody], segs, who, validRest) => {
      // Half the time only one parameter is hostile, so the others cannot mask it.
      const parts = validRest ? [segs[0] as string, 'web', 'app', 'x'] : segs
      const url = fill(template, template.includes('{ns}') && validRest ? ['demo', parts[0] as string, 'app'] : parts) + (hasBody ? '?dryRun=true' : '')
      await inject(`${method} ${url.slice(0, 200)} as ${who}`, { method, url, headers: { ...authHeader(who), ...(hasBody ? { 'content-type': 'application/json' } : {}) }, payload: hasBody ? defaultBody(template) : undefined })
    }), { seed: SEED + 1, numRuns: RUNS.paths, endOnFailure: true })
})

test(`paths over a raw socket: ${RUNS.raw} requests whose dot segments reach the gateway unnormalised`, async () => {
  await fc.assert(fc.asyncProperty(
    fc.constantFrom(...TEMPLATES), fc.array(fc.oneof(fc.constantFrom('..', '.', '%2e%2e', '..%2f', '.%2E', 'web', 'demo'), segmentArb), { minLength: 4, maxLength: 4 }),
    async ([method, template, hasBody], segs) => {
      const target = fill(template, segs) + (hasBody ? '?dryRun=true' : '')
      const sizeBefore = clusterSize()
      const r = await rawRequest(stack.url, { method, target, headers: authHeader('carol'), body: hasBody ? defaultBody(template) : undefined })
      checkResponse(`raw ${method} ${target.slice(0, 200)}`, r.status, r.headers, r.body)
      if (r.status >= 400) assert.equal(clusterSize(), sizeBefore)
      assert.doesNotMatch(r.body, /system:serviceaccount/, `${target}: the gateway's identity leaked`)
    }), { seed: SEED + 2, numRuns: RUNS.raw, endOnFailure: true })
})

// ---------------------------------------------------------------- query strings

const QUERY_KEYS = ['dryRun', 'namespace', 'mine', 'container', 'stdin', 'tty', 'stderr', 'stderrText', 'cols', 'rows', 'ticket', 'tailLines', 'sinceSeconds',
  'timestamps', 'limitBytes', 'limit', 'lastEventId', 'pod', 'peer', 'port', 'protocol', 'direction', 'source', 'since', 'until', 'actor', 'requestId', 'x', '__proto__', '']
const queryValue = fc.oneof(fc.constantFrom('true', 'false', '1', '0', '-1', '1e9', 'NaN', '', '..', 'demo', 'app', '%', '%zz', 'x'.repeat(5000), '[]', '{}'), fc.string({ maxLength: 40 }))

const QUERY_ROUTES: Array<[string, string]> = [
  ['GET', '/v1/sessions'], ['GET', '/v1/whoami'], ['GET', '/v1/drops'], ['GET', '/v1/namespaces/demo/drops'], ['GET', '/v1/audit'],
  ['GET', '/v1/namespaces/demo/pods/web/attach'], ['GET', '/v1/namespaces/demo/pods/web/containers/app/logs'],
  ['GET', '/v1/namespaces/demo/pods/web/ephemeral-containers'], ['POST', '/v1/namespaces/demo/pods/web/ephemeral-containers'],
  ['POST', '/v1/stream-tickets'], ['GET', '/healthz'], ['GET', '/readyz']
]

test(`query strings: ${RUNS.queries} requests with arbitrary parameters`, async () => {
  await fc.assert(fc.asyncProperty(
    fc.constantFrom(...QUERY_ROUTES), fc.array(fc.tuple(fc.constantFrom(...QUERY_KEYS), queryValue), { maxLength: 6 }), fc.constantFrom('carol', 'alice', 'bob'), fc.boolean(),
    async ([method, path], pairs, who, encode) => {
      // A followed log never ends by itself; the fuzz only needs the request's validation and refusal paths.
      const qs = pairs.filter(([k]) => k !== 'follow').map(([k, v]) => encode ? `${encodeURIComponent(k)}=${encodeURIComponent(v)}` : `${k}=${v.replace(/[#\s]/g, '')}`).join('&')
      const url = qs === '' ? path : `${path}?${qs}`
      const payload = method === 'POST' ? JSON.stringify(path.endsWith('stream-tickets') ? { path: '/v1/drops' } : { image: 'busybox:1.36', reason }) : undefined
      const forcedDryRun = method === 'POST' && !path.endsWith('stream-tickets') ? `${url}${url.includes('?') ? '&' : '?'}dryRun=true` : url
      await inject(`${method} ${forcedDryRun.slice(0, 200)} as ${who}`, { method, url: forcedDryRun, headers: { ...authHeader(who), ...(payload ? { 'content-type': 'application/json' } : {}) }, payload })
    }), { seed: SEED + 3, numRuns: RUNS.queries, endOnFailure: true })
})

// ---------------------------------------------------------------- headers

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map(c => String.fromCharCode(c)), maxLength: 300 })
const headerValue = fc.oneof(printable, fc.constantFrom('', ' ', 'alice', 'admin', 'system:masters', 'system:serviceaccount:kdebug:kdebug-gateway', 'dev', 'x'.repeat(4000), '../..', '%2e%2e'))

test(`headers: ${RUNS.headers} requests with Idempotency-Key, X-Request-Id, Impersonate-*, Accept and friends`, async () => {
  await fc.assert(fc.asyncProperty(
    fc.constantFrom(...CREATE_PATHS, '/v1/sessions', '/v1/whoami', '/v1/namespaces/demo/pods/web/ephemeral-containers#get'),
    fc.record({
      'idempotency-key': fc.option(headerValue, { nil: undefined }),
      'x-request-id': fc.option(headerValue, { nil: undefined }),
      'impersonate-user': fc.option(headerValue, { nil: undefined }),
      'impersonate-group': fc.option(headerValue, { nil: undefined }),
      'impersonate-uid': fc.option(headerValue, { nil: undefined }),
      'impersonate-extra-scopes': fc.option(headerValue, { nil: undefined }),
      accept: fc.option(fc.constantFrom('application/json', '*/*', 'text/html', 'application/problem+json', 'application/xml', ''), { nil: undefined }),
      authorization: fc.option(fc.oneof(fc.constantFrom('Bearer', 'Bearer ', 'Basic YWxpY2U6cHc=', 'bearer alice-token'), printable.map(s => `Bearer ${s}`)), { nil: undefined })
    }),
    fc.constantFrom('chatbot', 'carol', 'alice'),
    async (target, extra, who) => {
      const get = target.endsWith('#get') || !CREATE_PATHS.includes(target)
      const path = target.replace('#get', '')
      const method = get ? 'GET' : 'POST'
      const headers: Record<string, string> = { ...authHeader(who) }
      for (const [k, v] of Object.entries(extra)) if (v !== undefined) headers[k] = v
      const url = method === 'POST' ? `${path}?dryRun=true` : path
      const payload = method === 'POST' ? JSON.stringify(VALID_BODIES[path]) : undefined
      if (payload) headers['content-type'] = 'application/json'
      await inject(`${method} ${url} as ${who} ${JSON.stringify(extra).slice(0, 300)}`, { method, url, headers, payload })
    }), { seed: SEED + 4, numRuns: RUNS.headers, endOnFailure: true })
})

test('the fuzz sent at least 10,000 requests and none was a 5xx', () => {
  assert.ok(sent >= 10_000, `only ${sent} requests`)
  assert.equal(fiveHundreds, 0)
})
