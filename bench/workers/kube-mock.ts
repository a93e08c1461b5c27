// The REST half of the bench's minimal Kubernetes API servers (mock-upstream
// for the REST scenarios, attach-upstream and attach-api-upstream for the
// attach ones): what the gateway asks the API server on its hot paths, with
// the answers and status codes the real one gives.
// - TokenReview: `tok-<user>` is that user (groups sre, system:authenticated); anything else is unauthenticated.
// - SubjectAccessReview: always allowed.
// - GET pod: a running two-container Deployment pod (`app`, `sidecar`) plus `c`, a running
//   container with stdin (what the attach scenarios attach to). PATCH ephemeralcontainers answers
//   the pod unchanged, so the fixture never grows and the per-user session limit never bites.
// - LIST pods: empty. /version.
// - coordination.k8s.io/v1 Leases (the per-user session ledgers): an in-memory store with the API
//   server's optimistic concurrency — create of an existing name is 409 AlreadyExists, an update
//   or delete whose resourceVersion precondition does not match is 409 Conflict
//   (k8s.io/apiserver pkg/registry/generic/registry/store.go Create, Update, Delete); LIST by an
//   equality label selector with the store's resourceVersion; WATCH of the collection (same
//   selector) streams ADDED/MODIFIED/DELETED for every later write, as each gateway replica's
//   ledger watch receives them (no history: a watch sees writes from when it opened).
// Counts reviews per token and per (user, attributes), so rest-cold can check single-flight.
import type http from 'node:http'

type StoredLease = Record<string, unknown> & { metadata: Record<string, unknown> & { namespace?: string, labels?: Record<string, string> } }

export interface KubeMockState {
  requests: number
  tokenReviews: Map<string, number>
  sars: Map<string, number>
  byRoute: Record<string, number>
  leases: Map<string, StoredLease>
  resourceVersion: number
  /** Open lease watches: each gets every later write. */
  leaseWatchers: Set<(type: 'ADDED' | 'MODIFIED' | 'DELETED', lease: StoredLease) => void>
}

export interface KubeAnswer { status: number, body: string, route: string, review: boolean }

export function kubeMockState (): KubeMockState {
  return { requests: 0, tokenReviews: new Map(), sars: new Map(), byRoute: {}, leases: new Map(), resourceVersion: 2000, leaseWatchers: new Set() }
}

const running = (startedAt: string): Record<string, unknown> => ({ running: { startedAt } })

export function benchPod (namespace: string, name: string): Record<string, unknown> {
  return {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: {
      name,
      namespace,
      uid: '6b1f3c1e-8a8e-4d59-9f55-2f1f1d3a8b21',
      resourceVersion: '1042',
      creationTimestamp: '2026-11-27T09:00:00Z',
      labels: { app: name, 'pod-template-hash': '7d9f8c6b5' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${name}-7d9f8c6b5`, uid: '0c1d2e3f-aaaa-bbbb-cccc-000000000001', controller: true, blockOwnerDeletion: true }]
    },
    spec: {
      nodeName: 'node-1',
      serviceAccountName: 'default',
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      securityContext: {},
      containers: [
        { name: 'app', image: 'nginx:1.27', ports: [{ name: 'http', containerPort: 80, protocol: 'TCP' }], resources: { requests: { cpu: '100m', memory: '64Mi' } }, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', imagePullPolicy: 'IfNotPresent' },
        { name: 'sidecar', image: 'envoyproxy/envoy:v1.31.0', ports: [{ name: 'admin', containerPort: 9901, protocol: 'TCP' }], terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', imagePullPolicy: 'IfNotPresent' },
        { name: 'c', image: 'busybox:1.36', command: ['sh'], stdin: true, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', imagePullPolicy: 'IfNotPresent' }
      ]
    },
    status: {
      phase: 'Running',
      podIP: '10.244.1.17',
      hostIP: '172.18.0.3',
      startTime: '2026-11-27T09:00:01Z',
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-11-27T09:00:05Z' }],
      containerStatuses: [
        { name: 'app', ready: true, restartCount: 0, image: 'nginx:1.27', imageID: 'docker.io/library/nginx@sha256:0000', containerID: 'containerd://aaaa', started: true, state: running('2026-11-27T09:00:03Z') },
        { name: 'sidecar', ready: true, restartCount: 0, image: 'envoyproxy/envoy:v1.31.0', imageID: 'docker.io/envoyproxy/envoy@sha256:1111', containerID: 'containerd://bbbb', started: true, state: running('2026-11-27T09:00:04Z') },
        { name: 'c', ready: true, restartCount: 0, image: 'busybox:1.36', imageID: 'docker.io/library/busybox@sha256:2222', containerID: 'containerd://cccc', started: true, state: running('2026-11-27T09:00:04Z') }
      ]
    }
  }
}

const VERSION = JSON.stringify({ major: '1', minor: '32', gitVersion: 'v1.32.0-mock', platform: 'linux/amd64' })
const EMPTY_LIST = JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '1042' }, items: [] })
const POD_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)(\/ephemeralcontainers)?$/
const POD_LIST_PATH = /^\/api\/v1\/(?:namespaces\/[^/]+\/)?pods$/
const LEASE_PATH = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([^/]+)\/leases(?:\/([^/]+))?$/

function count (map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1)
}

export async function readBody (req: http.IncomingMessage): Promise<string> {
  let body = ''
  req.setEncoding('utf8')
  for await (const chunk of req) body += chunk as string
  return body
}

function status (code: number, reason: string, message: string): string {
  return JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason, code, message })
}

/** `k=v[,k=v]` (the only selectors the gateway sends); undefined selects everything. */
function selects (selector: string | null, lease: StoredLease): boolean {
  if (selector === null || selector === '') return true
  return selector.split(',').every((term) => {
    const [k, v] = term.split('=')
    return lease.metadata.labels?.[k as string] === v
  })
}

function notify (state: KubeMockState, type: 'ADDED' | 'MODIFIED' | 'DELETED', lease: StoredLease): void {
  for (const w of state.leaseWatchers) w(type, lease)
}

/** GET …/leases?watch=true: a chunked stream of the later writes in the namespace that the selector matches, until timeoutSeconds or the client goes. */
export function watchLeases (state: KubeMockState, req: http.IncomingMessage, res: http.ServerResponse, ns: string, query: URLSearchParams): void {
  const selector = query.get('labelSelector')
  res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' })
  const watcher = (type: 'ADDED' | 'MODIFIED' | 'DELETED', lease: StoredLease): void => {
    if (lease.metadata.namespace === ns && selects(selector, lease)) res.write(JSON.stringify({ type, object: lease }) + '\n')
  }
  state.leaseWatchers.add(watcher)
  const timeout = setTimeout(() => { res.end() }, Number(query.get('timeoutSeconds') ?? 1800) * 1000)
  const done = (): void => { clearTimeout(timeout); state.leaseWatchers.delete(watcher) }
  res.once('close', done)
  req.once('close', done)
}

function leaseAnswer (state: KubeMockState, method: string, ns: string, name: string | undefined, body: string, query: URLSearchParams): KubeAnswer {
  const route = `lease-${method.toLowerCase()}`
  const answer = (code: number, b: string): KubeAnswer => ({ status: code, body: b, route, review: false })
  const key = (n: string): string => `${ns}/${n}`
  const notFound = (n: string): KubeAnswer => answer(404, status(404, 'NotFound', `leases.coordination.k8s.io "${n}" not found`))
  const conflict = (n: string): KubeAnswer => answer(409, status(409, 'Conflict', `Operation cannot be fulfilled on leases.coordination.k8s.io "${n}": the object has been modified; please apply your changes to the latest version and try again`))
  if (method === 'POST' && name === undefined) {
    const lease = JSON.parse(body) as { metadata: Record<string, unknown> }
    const n = String(lease.metadata.name)
    if (state.leases.has(key(n))) return answer(409, status(409, 'AlreadyExists', `leases.coordination.k8s.io "${n}" already exists`))
    const stored: StoredLease = { ...lease, metadata: { ...lease.metadata, namespace: ns, uid: `lease-${state.resourceVersion}`, resourceVersion: String(++state.resourceVersion), creationTimestamp: new Date().toISOString() } }
    state.leases.set(key(n), stored)
    notify(state, 'ADDED', stored)
    return answer(201, JSON.stringify(stored))
  }
  if (method === 'GET' && name === undefined) {
    const limit = Number(query.get('limit') ?? 0)
    const items = [...state.leases.values()].filter((l) => l.metadata.namespace === ns && selects(query.get('labelSelector'), l))
    return answer(200, JSON.stringify({ kind: 'LeaseList', apiVersion: 'coordination.k8s.io/v1', metadata: { resourceVersion: String(state.resourceVersion) }, items: limit > 0 ? items.slice(0, limit) : items }))
  }
  if (name === undefined) return answer(405, status(405, 'MethodNotAllowed', `${method} on the lease collection`))
  const current = state.leases.get(key(name))
  if (method === 'GET') return current ? answer(200, JSON.stringify(current)) : notFound(name)
  if (current === undefined) return notFound(name)
  if (method === 'PUT') {
    const lease = JSON.parse(body) as { metadata: Record<string, unknown> }
    if (lease.metadata.resourceVersion !== current.metadata.resourceVersion) return conflict(name)
    const stored: StoredLease = { ...lease, metadata: { ...current.metadata, ...lease.metadata, resourceVersion: String(++state.resourceVersion) } }
    state.leases.set(key(name), stored)
    notify(state, 'MODIFIED', stored)
    return answer(200, JSON.stringify(stored))
  }
  if (method === 'DELETE') {
    const pre = body === '' ? undefined : (JSON.parse(body) as { preconditions?: { resourceVersion?: string } }).preconditions?.resourceVersion
    if (pre !== undefined && pre !== current.metadata.resourceVersion) return conflict(name)
    state.leases.delete(key(name))
    notify(state, 'DELETED', { ...current, metadata: { ...current.metadata, resourceVersion: String(++state.resourceVersion) } })
    return answer(200, JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, group: 'coordination.k8s.io', kind: 'leases', uid: current.metadata.uid } }))
  }
  return answer(405, status(405, 'MethodNotAllowed', `${method} on a lease`))
}

/** The answer to one REST request (the body is read here); route names the kind of call for the counters. */
export async function answerKube (state: KubeMockState, req: http.IncomingMessage): Promise<KubeAnswer> {
  const url = new URL(req.url ?? '/', 'http://mock')
  const path = url.pathname
  const method = req.method ?? 'GET'
  if (method === 'POST' && path === '/apis/authentication.k8s.io/v1/tokenreviews') {
    const review = JSON.parse(await readBody(req)) as { spec?: { token?: string, audiences?: string[] } }
    const token = review.spec?.token ?? ''
    count(state.tokenReviews, token)
    const user = token.startsWith('tok-') ? token.slice(4) : undefined
    const st = user === undefined
      ? { authenticated: false, error: 'invalid bearer token' }
      : { authenticated: true, user: { username: user, uid: `uid-${user}`, groups: ['sre', 'system:authenticated'] }, audiences: review.spec?.audiences ?? ['https://kubernetes.default.svc'] }
    return { status: 201, route: 'tokenreview', review: true, body: JSON.stringify({ kind: 'TokenReview', apiVersion: 'authentication.k8s.io/v1', metadata: {}, spec: {}, status: st }) }
  }
  if (method === 'POST' && path === '/apis/authorization.k8s.io/v1/subjectaccessreviews') {
    const sar = JSON.parse(await readBody(req)) as { spec?: { user?: string, resourceAttributes?: unknown } }
    count(state.sars, JSON.stringify([sar.spec?.user, sar.spec?.resourceAttributes]))
    return { status: 201, route: 'sar', review: true, body: JSON.stringify({ kind: 'SubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', metadata: {}, spec: sar.spec, status: { allowed: true, reason: 'bench: allowed' } }) }
  }
  if (path === '/version') return { status: 200, route: 'version', review: false, body: VERSION }
  if (method === 'GET' && POD_LIST_PATH.test(path)) return { status: 200, route: 'list-pods', review: false, body: EMPTY_LIST }
  const lease = LEASE_PATH.exec(path)
  if (lease) return leaseAnswer(state, method, decodeURIComponent(lease[1] as string), lease[2] === undefined ? undefined : decodeURIComponent(lease[2]), await readBody(req), url.searchParams)
  const m = POD_PATH.exec(path)
  if (m) {
    const ns = decodeURIComponent(m[1] as string)
    const name = decodeURIComponent(m[2] as string)
    if (method === 'GET' && m[3] === undefined) return { status: 200, route: 'get-pod', review: false, body: JSON.stringify(benchPod(ns, name)) }
    if (method === 'PATCH' && m[3] !== undefined) {
      await readBody(req)
      return { status: 200, route: 'patch-ephemeral', review: false, body: JSON.stringify(benchPod(ns, name)) }
    }
  }
  await readBody(req)
  return { status: 404, route: 'unknown', review: false, body: status(404, 'NotFound', `${method} ${path} not found`) }
}

/** An http.Server request handler answering with answerKube after `delayMs()` (+ `reviewDelayMs()` for reviews). */
export function kubeHandler (state: KubeMockState, delays: { delayMs: () => number, reviewDelayMs: () => number } = { delayMs: () => 0, reviewDelayMs: () => 0 }): http.RequestListener {
  return (req, res) => {
    state.requests++
    const url = new URL(req.url ?? '/', 'http://mock')
    const lease = LEASE_PATH.exec(url.pathname)
    if (lease !== null && lease[2] === undefined && req.method === 'GET' && url.searchParams.get('watch') === 'true') {
      state.byRoute['lease-watch'] = (state.byRoute['lease-watch'] ?? 0) + 1
      watchLeases(state, req, res, decodeURIComponent(lease[1] as string), url.searchParams)
      return
    }
    answerKube(state, req).then(async (a) => {
      state.byRoute[a.route] = (state.byRoute[a.route] ?? 0) + 1
      const delay = delays.delayMs() + (a.review ? delays.reviewDelayMs() : 0)
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay))
      res.writeHead(a.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(a.body) })
      res.end(a.body)
    }, (err: Error) => {
      res.writeHead(400, { 'content-type': 'application/json' })
      res.end(status(400, 'BadRequest', err.message))
    })
  }
}

/** The counters every mock reports. */
export function kubeStats (state: KubeMockState): Record<string, unknown> {
  return {
    requests: state.requests,
    byRoute: state.byRoute,
    tokenReviews: [...state.tokenReviews.values()].reduce((a, b) => a + b, 0),
    distinctTokens: state.tokenReviews.size,
    maxTokenReviewsPerToken: Math.max(0, ...state.tokenReviews.values()),
    sars: [...state.sars.values()].reduce((a, b) => a + b, 0),
    distinctSars: state.sars.size,
    maxSarsPerKey: Math.max(0, ...state.sars.values()),
    leasesHeld: state.leases.size
  }
}

export function resetKubeStats (state: KubeMockState): void {
  state.requests = 0
  state.tokenReviews.clear()
  state.sars.clear()
  state.byRoute = {}
}
