// A minimal Kubernetes API server for pure relay cost (BENCH rule 2: "a
// minimal mock upstream"): TokenReview (any token `tok-<user>` is that user,
// group sre), SubjectAccessReview (always allowed), GET pod, LIST pods
// (empty), PATCH ephemeralcontainers (answers the pod unchanged, so the
// fixture never grows and the per-user session limit never bites), /version.
// Canned JSON, a configurable service delay; counts reviews per token and
// per (user, attributes) so rest-cold can check single-flight.
import http from 'node:http'
import { processStats, serveCommands } from '../lib/service.ts'

interface State {
  delayMs: number
  /** Extra delay of TokenReview/SAR answers (single-flight burst: keeps the first review in flight). */
  reviewDelayMs: number
  requests: number
  tokenReviews: Map<string, number>
  sars: Map<string, number>
  byRoute: Record<string, number>
}

const state: State = { delayMs: 0, reviewDelayMs: 0, requests: 0, tokenReviews: new Map(), sars: new Map(), byRoute: {} }

function pod (namespace: string, name: string): Record<string, unknown> {
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
        { name: 'sidecar', image: 'envoyproxy/envoy:v1.31.0', ports: [{ name: 'admin', containerPort: 9901, protocol: 'TCP' }], terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', imagePullPolicy: 'IfNotPresent' }
      ]
    },
    status: {
      phase: 'Running',
      podIP: '10.244.1.17',
      hostIP: '172.18.0.3',
      startTime: '2026-11-27T09:00:01Z',
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-11-27T09:00:05Z' }],
      containerStatuses: [
        { name: 'app', ready: true, restartCount: 0, image: 'nginx:1.27', imageID: 'docker.io/library/nginx@sha256:0000', containerID: 'containerd://aaaa', started: true, state: { running: { startedAt: '2026-11-27T09:00:03Z' } } },
        { name: 'sidecar', ready: true, restartCount: 0, image: 'envoyproxy/envoy:v1.31.0', imageID: 'docker.io/envoyproxy/envoy@sha256:1111', containerID: 'containerd://bbbb', started: true, state: { running: { startedAt: '2026-11-27T09:00:04Z' } } }
      ]
    }
  }
}

const VERSION = JSON.stringify({ major: '1', minor: '32', gitVersion: 'v1.32.0-mock', platform: 'linux/amd64' })
const EMPTY_LIST = JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '1042' }, items: [] })
const POD_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)(\/ephemeralcontainers)?$/

function count (map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1)
}

async function readBody (req: http.IncomingMessage): Promise<string> {
  let body = ''
  req.setEncoding('utf8')
  for await (const chunk of req) body += chunk as string
  return body
}

async function answer (req: http.IncomingMessage): Promise<{ status: number, body: string, route: string, review: boolean }> {
  const url = new URL(req.url ?? '/', 'http://mock')
  const path = url.pathname
  if (req.method === 'POST' && path === '/apis/authentication.k8s.io/v1/tokenreviews') {
    const review = JSON.parse(await readBody(req)) as { spec?: { token?: string, audiences?: string[] } }
    const token = review.spec?.token ?? ''
    count(state.tokenReviews, token)
    const user = token.startsWith('tok-') ? token.slice(4) : undefined
    const status = user === undefined
      ? { authenticated: false, error: 'invalid bearer token' }
      : { authenticated: true, user: { username: user, uid: `uid-${user}`, groups: ['sre', 'system:authenticated'] }, audiences: review.spec?.audiences ?? ['https://kubernetes.default.svc'] }
    return { status: 201, route: 'tokenreview', review: true, body: JSON.stringify({ kind: 'TokenReview', apiVersion: 'authentication.k8s.io/v1', metadata: {}, spec: {}, status }) }
  }
  if (req.method === 'POST' && path === '/apis/authorization.k8s.io/v1/subjectaccessreviews') {
    const sar = JSON.parse(await readBody(req)) as { spec?: { user?: string, resourceAttributes?: unknown } }
    count(state.sars, JSON.stringify([sar.spec?.user, sar.spec?.resourceAttributes]))
    return { status: 201, route: 'sar', review: true, body: JSON.stringify({ kind: 'SubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', metadata: {}, spec: sar.spec, status: { allowed: true, reason: 'bench: allowed' } }) }
  }
  if (path === '/version') return { status: 200, route: 'version', review: false, body: VERSION }
  if (req.method === 'GET' && path === '/api/v1/pods') return { status: 200, route: 'list', review: false, body: EMPTY_LIST }
  const m = POD_PATH.exec(path)
  if (m) {
    const ns = decodeURIComponent(m[1] as string)
    const name = decodeURIComponent(m[2] as string)
    if (req.method === 'GET' && m[3] === undefined) return { status: 200, route: 'get-pod', review: false, body: JSON.stringify(pod(ns, name)) }
    if (req.method === 'PATCH' && m[3] !== undefined) {
      await readBody(req)
      return { status: 200, route: 'patch-ephemeral', review: false, body: JSON.stringify(pod(ns, name)) }
    }
  }
  await readBody(req)
  return { status: 404, route: 'unknown', review: false, body: JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: `${req.method} ${path} not found` }) }
}

const server = http.createServer((req, res) => {
  state.requests++
  answer(req).then(async (a) => {
    state.byRoute[a.route] = (state.byRoute[a.route] ?? 0) + 1
    const delay = state.delayMs + (a.review ? state.reviewDelayMs : 0)
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay))
    res.writeHead(a.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(a.body) })
    res.end(a.body)
  }, (err: Error) => {
    res.writeHead(400, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ kind: 'Status', status: 'Failure', code: 400, message: err.message }))
  })
})
server.keepAliveTimeout = 120_000
server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  serveCommands({ port }, (cmd, arg) => {
    switch (cmd) {
      case 'set': {
        const a = arg as { delayMs?: number, reviewDelayMs?: number }
        if (a.delayMs !== undefined) state.delayMs = a.delayMs
        if (a.reviewDelayMs !== undefined) state.reviewDelayMs = a.reviewDelayMs
        return null
      }
      case 'reset':
        state.requests = 0
        state.tokenReviews.clear()
        state.sars.clear()
        state.byRoute = {}
        return null
      case 'stats':
        return {
          ...processStats(),
          requests: state.requests,
          byRoute: state.byRoute,
          tokenReviews: [...state.tokenReviews.values()].reduce((a, b) => a + b, 0),
          distinctTokens: state.tokenReviews.size,
          maxTokenReviewsPerToken: Math.max(0, ...state.tokenReviews.values()),
          sars: [...state.sars.values()].reduce((a, b) => a + b, 0),
          distinctSars: state.sars.size,
          maxSarsPerKey: Math.max(0, ...state.sars.values())
        }
      default:
        throw new Error(`unknown command ${cmd}`)
    }
  })
})
