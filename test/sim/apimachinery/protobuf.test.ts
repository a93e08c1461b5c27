import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeProtobuf, encodeProtobuf, PROTOBUF_CONTENT_TYPE } from '../../../src/sim/apimachinery/protobuf.ts'
import { StatusError } from '../../../src/sim/apimachinery/status.ts'
import type { KObject } from '../../../src/sim/apimachinery/types.ts'

// metav1.Time's zero value is JSON null, which ObjectMeta's type does not admit
const ZERO_TIME = null as unknown as string

const KUBECTL = '/usr/bin/kubectl'

interface Recorded { method: string, url: string, contentType: string, body: Buffer }

/** A pod as a real API server returns it (defaulted, canonical omitempty JSON). */
const WEB_SPEC = {
  volumes: [
    {
      name: 'kube-api-access-abcde',
      projected: {
        sources: [
          { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
          { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
          { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } }
        ],
        defaultMode: 420
      }
    },
    { name: 'cache', emptyDir: { sizeLimit: '64Mi' } },
    { name: 'conf', configMap: { name: 'web-conf', defaultMode: 420, optional: false } }
  ],
  containers: [
    {
      name: 'app',
      image: 'nginx:1.27',
      ports: [{ name: 'http', containerPort: 80, protocol: 'TCP' }],
      env: [
        { name: 'MODE', value: 'prod' },
        { name: 'POD_IP', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'status.podIP' } } },
        { name: 'MEM', valueFrom: { resourceFieldRef: { containerName: 'app', resource: 'limits.memory', divisor: '1Mi' } } }
      ],
      resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '100m', memory: '64Mi' } },
      volumeMounts: [
        { name: 'cache', mountPath: '/var/cache/nginx' },
        { name: 'conf', readOnly: true, mountPath: '/etc/nginx/conf.d' },
        { name: 'kube-api-access-abcde', readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }
      ],
      livenessProbe: { httpGet: { path: '/healthz', port: 80, scheme: 'HTTP' }, initialDelaySeconds: 2, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 },
      readinessProbe: { tcpSocket: { port: 'http' }, timeoutSeconds: 1, periodSeconds: 5, successThreshold: 1, failureThreshold: 3 },
      startupProbe: { exec: { command: ['cat', '/tmp/started'] }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 30 },
      lifecycle: { preStop: { exec: { command: ['nginx', '-s', 'quit'] } } },
      terminationMessagePath: '/dev/termination-log',
      terminationMessagePolicy: 'File',
      imagePullPolicy: 'IfNotPresent',
      securityContext: { capabilities: { drop: ['ALL'] }, privileged: false, runAsNonRoot: true, readOnlyRootFilesystem: false, allowPrivilegeEscalation: false }
    }
  ],
  restartPolicy: 'Always',
  terminationGracePeriodSeconds: 30,
  dnsPolicy: 'ClusterFirst',
  serviceAccountName: 'default',
  serviceAccount: 'default',
  nodeName: 'node-1',
  securityContext: { runAsUser: 101, runAsNonRoot: true, fsGroup: 101, seccompProfile: { type: 'RuntimeDefault' } },
  schedulerName: 'default-scheduler',
  tolerations: [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }
  ],
  priority: 0,
  enableServiceLinks: true,
  preemptionPolicy: 'PreemptLowerPriority'
}
const WEB_POD = {
  kind: 'Pod',
  apiVersion: 'v1',
  metadata: { name: 'web', namespace: 'demo', uid: 'u-web', resourceVersion: '5', creationTimestamp: '2026-11-27T09:00:00Z', labels: { app: 'web' }, annotations: { team: 'shop' } },
  spec: WEB_SPEC,
  status: { phase: 'Running', podIP: '10.0.0.7' }
}

/** A legacy-discovery API server just good enough for `kubectl auth can-i` and `kubectl debug node/…`. */
function recordingServer (): { server: Server, requests: Recorded[] } {
  const requests: Recorded[] = []
  const json = (res: ServerResponse, code: number, obj: unknown): void => {
    res.writeHead(code, { 'content-type': 'application/json' })
    res.end(JSON.stringify(obj))
  }
  const resource = (name: string, kind: string, namespaced: boolean, verbs: string[]): unknown =>
    ({ name, singularName: kind.toLowerCase(), namespaced, kind, verbs })
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const url = req.url ?? ''
      const path = url.split('?')[0] ?? ''
      requests.push({ method: req.method ?? '', url, contentType: req.headers['content-type'] ?? '', body })
      if (path === '/version') return json(res, 200, { major: '1', minor: '32', gitVersion: 'v1.32.0', platform: 'linux/amd64' })
      if (path === '/api') return json(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1:0' }] })
      if (path === '/apis') {
        const gv = { groupVersion: 'authorization.k8s.io/v1', version: 'v1' }
        return json(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [{ name: 'authorization.k8s.io', versions: [gv], preferredVersion: gv }] })
      }
      if (path === '/api/v1') {
        return json(res, 200, {
          kind: 'APIResourceList',
          groupVersion: 'v1',
          resources: [
            resource('pods', 'Pod', true, ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch']),
            resource('nodes', 'Node', false, ['get', 'list', 'watch']),
            resource('namespaces', 'Namespace', false, ['get', 'list', 'watch'])
          ]
        })
      }
      if (path === '/apis/authorization.k8s.io/v1') {
        return json(res, 200, { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: 'authorization.k8s.io/v1', resources: [resource('selfsubjectaccessreviews', 'SelfSubjectAccessReview', false, ['create']), resource('selfsubjectrulesreviews', 'SelfSubjectRulesReview', false, ['create'])] })
      }
      if (req.method === 'POST' && path === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews') {
        return json(res, 201, { kind: 'SelfSubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', metadata: {}, spec: {}, status: { allowed: true } })
      }
      if (req.method === 'POST' && path === '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews') {
        return json(res, 201, { kind: 'SelfSubjectRulesReview', apiVersion: 'authorization.k8s.io/v1', metadata: {}, spec: {}, status: { resourceRules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }], nonResourceRules: [], incomplete: false } })
      }
      if (req.method === 'GET' && path === '/api/v1/namespaces/demo/pods/web') return json(res, 200, WEB_POD)
      if (req.method === 'DELETE' && path === '/api/v1/namespaces/demo/pods/web') return json(res, 200, WEB_POD)
      if (req.method === 'GET' && path === '/api/v1/nodes/n1') {
        return json(res, 200, { kind: 'Node', apiVersion: 'v1', metadata: { name: 'n1', uid: 'u-n1', resourceVersion: '1', labels: { 'kubernetes.io/hostname': 'n1', 'kubernetes.io/os': 'linux' } }, spec: {}, status: {} })
      }
      const podCreate = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(path)
      if (req.method === 'POST' && podCreate) {
        const created = decodeProtobuf(body)
        return json(res, 201, { ...created, metadata: { ...created.metadata, name: created.metadata.name ?? 'node-debugger-n1-abcde', namespace: podCreate[1], uid: 'u1', resourceVersion: '2' }, status: { phase: 'Pending' } })
      }
      json(res, 404, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the server could not find the requested resource', reason: 'NotFound', code: 404 })
    })
  })
  return { server, requests }
}

function runKubectl (args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number, stdout: string, stderr: string }> {
  return new Promise(resolve => {
    execFile(KUBECTL, args, { env, timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0
      resolve({ code, stdout, stderr })
    })
  })
}

describe('decodeProtobuf with bodies recorded from real kubectl', { skip: existsSync(KUBECTL) ? false : 'kubectl not installed at /usr/bin/kubectl' }, () => {
  let srv: ReturnType<typeof recordingServer>
  let dir: string
  let env: NodeJS.ProcessEnv

  before(async () => {
    srv = recordingServer()
    await new Promise<void>(resolve => srv.server.listen(0, '127.0.0.1', resolve))
    const { port } = srv.server.address() as AddressInfo
    dir = mkdtempSync(join(tmpdir(), 'pb-kubectl-'))
    const kubeconfig = join(dir, 'config')
    writeFileSync(kubeconfig, [
      'apiVersion: v1', 'kind: Config', 'current-context: t',
      `clusters: [{name: c, cluster: {server: "http://127.0.0.1:${port}"}}]`,
      'users: [{name: u, user: {token: alice-token}}]',
      'contexts: [{name: t, context: {cluster: c, user: u, namespace: demo}}]'
    ].join('\n'))
    env = { PATH: process.env.PATH, HOME: dir, KUBECONFIG: kubeconfig, KUBECACHEDIR: join(dir, 'cache') }
  })

  after(async () => {
    await new Promise<void>(resolve => srv.server.close(() => resolve()))
    rmSync(dir, { recursive: true, force: true })
  })

  test('kubectl auth can-i sends a protobuf SelfSubjectAccessReview', async () => {
    const r = await runKubectl(['auth', 'can-i', 'patch', 'pods/web', '--subresource=ephemeralcontainers', '-n', 'demo'], env)
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout.trim(), 'yes')
    const post = srv.requests.find(q => q.method === 'POST' && q.url.startsWith('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews'))
    assert.ok(post, 'no SSAR POST recorded')
    assert.equal(post.contentType, PROTOBUF_CONTENT_TYPE)
    const obj = decodeProtobuf(post.body)
    assert.deepEqual(obj, {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      metadata: { creationTimestamp: ZERO_TIME },
      spec: { resourceAttributes: { namespace: 'demo', verb: 'patch', resource: 'pods', subresource: 'ephemeralcontainers', name: 'web' } },
      status: { allowed: false }
    })
  })

  test('kubectl auth can-i --list sends a protobuf SelfSubjectRulesReview', async () => {
    const r = await runKubectl(['auth', 'can-i', '--list', '-n', 'demo'], env)
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /pods\s+\[\]\s+\[\]\s+\[get\]/)
    const post = srv.requests.find(q => q.method === 'POST' && q.url.startsWith('/apis/authorization.k8s.io/v1/selfsubjectrulesreviews'))
    assert.ok(post, 'no SSRR POST recorded')
    assert.equal(post.contentType, PROTOBUF_CONTENT_TYPE)
    assert.deepEqual(decodeProtobuf(post.body), {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectRulesReview',
      metadata: { creationTimestamp: ZERO_TIME },
      spec: { namespace: 'demo' },
      status: { incomplete: false }
    })
  })

  test('kubectl debug node/n1 sends a protobuf Pod with host namespaces and the host-root volume', async () => {
    const r = await runKubectl(['debug', 'node/n1', '--image=busybox', '-n', 'demo', '--profile=sysadmin'], env)
    assert.equal(r.code, 0, r.stderr)
    const post = srv.requests.find(q => q.method === 'POST' && q.url.startsWith('/api/v1/namespaces/demo/pods'))
    assert.ok(post, 'no pod POST recorded')
    assert.equal(post.contentType, PROTOBUF_CONTENT_TYPE)
    const pod = decodeProtobuf(post.body)
    assert.equal(pod.apiVersion, 'v1')
    assert.equal(pod.kind, 'Pod')
    assert.match(String(pod.metadata.name), /^node-debugger-n1-[a-z0-9]{5}$/)
    assert.equal(pod.metadata.creationTimestamp, null)
    const spec = pod.spec as Record<string, unknown>
    assert.equal(spec.nodeName, 'n1')
    assert.equal(spec.restartPolicy, 'Never')
    assert.equal(spec.hostNetwork, true)
    assert.equal(spec.hostPID, true)
    assert.equal(spec.hostIPC, true)
    assert.deepEqual(spec.tolerations, [{ operator: 'Exists' }])
    assert.deepEqual(spec.volumes, [{ name: 'host-root', hostPath: { path: '/' } }])
    const containers = spec.containers as Array<Record<string, unknown>>
    assert.equal(containers.length, 1)
    const c = containers[0] as Record<string, unknown>
    assert.equal(c.name, 'debugger')
    assert.equal(c.image, 'busybox')
    assert.equal(c.terminationMessagePolicy, 'File')
    assert.deepEqual(c.resources, {})
    assert.deepEqual(c.volumeMounts, [{ name: 'host-root', mountPath: '/host' }])
    // sysadmin profile: privileged is a *bool, so it must survive decoding
    assert.deepEqual(c.securityContext, { privileged: true })
    // absent in the JSON kubectl would send: omitempty value fields are not reported as false/""
    assert.equal('stdin' in c, false)
    assert.equal('workingDir' in c, false)
    assert.deepEqual(pod.status, {})
  })

  test('kubectl debug --copy-to: the copied spec decodes to exactly the JSON the server had served', async () => {
    const r = await runKubectl(['debug', 'web', '-n', 'demo', '--copy-to=web-debug', '--image=busybox', '--container=debugger',
      '--keep-liveness', '--keep-readiness', '--keep-startup', '--keep-labels', '--keep-annotations'], env)
    assert.equal(r.code, 0, r.stderr)
    const post = srv.requests.filter(q => q.method === 'POST' && q.url.startsWith('/api/v1/namespaces/demo/pods')).at(-1)
    assert.ok(post)
    assert.equal(post.contentType, PROTOBUF_CONTENT_TYPE)
    const copy = decodeProtobuf(post.body)
    assert.equal(copy.metadata.name, 'web-debug')
    assert.deepEqual(copy.metadata.annotations, { team: 'shop' })
    const spec = copy.spec as Record<string, unknown>
    const { nodeName: _nodeName, containers, ...rest } = WEB_SPEC
    // legacy profile: labels go (even with --keep-labels), shareProcessNamespace untouched (flag not given), nodeName cleared
    assert.equal(copy.metadata.labels, undefined)
    assert.deepEqual(spec, {
      ...rest,
      containers: [...containers, { name: 'debugger', image: 'busybox', resources: {}, terminationMessagePolicy: 'File' }]
    })
  })

  test('kubectl debug --copy-to --replace deletes the original with a protobuf DeleteOptions{gracePeriodSeconds: 0}', async () => {
    const r = await runKubectl(['debug', 'web', '-n', 'demo', '--copy-to=web-debug2', '--image=busybox', '--replace'], env)
    assert.equal(r.code, 0, r.stderr)
    const del = srv.requests.find(q => q.method === 'DELETE' && q.url.startsWith('/api/v1/namespaces/demo/pods/web'))
    assert.ok(del, 'no DELETE recorded')
    assert.equal(del.contentType, PROTOBUF_CONTENT_TYPE)
    assert.deepEqual(decodeProtobuf(del.body), { apiVersion: 'v1', kind: 'DeleteOptions', metadata: {}, gracePeriodSeconds: 0 })
  })
})

describe('decodeProtobuf round trips and errors', () => {
  const copyPod: KObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-debug', namespace: 'demo', creationTimestamp: ZERO_TIME, labels: { app: 'web' }, annotations: { a: 'b' }, generateName: 'web-' },
    spec: {
      shareProcessNamespace: true,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 0,
      priority: 0,
      serviceAccountName: 'default',
      dnsPolicy: 'ClusterFirst',
      schedulerName: 'default-scheduler',
      securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
      volumes: [
        { name: 'scratch', emptyDir: { sizeLimit: '64Mi' } },
        { name: 'cfg', configMap: { name: 'web-config', defaultMode: 420, optional: false } },
        {
          name: 'kube-api-access-x',
          projected: {
            defaultMode: 420,
            sources: [
              { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
              { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
              { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } }
            ]
          }
        },
        { name: 'tls', secret: { secretName: 'web-tls' } }
      ],
      containers: [{
        name: 'app',
        image: 'nginx:1.27',
        imagePullPolicy: 'IfNotPresent',
        command: ['nginx'],
        args: ['-g', 'daemon off;'],
        ports: [{ name: 'http', containerPort: 80, protocol: 'TCP' }],
        env: [
          { name: 'EMPTY' },
          { name: 'MODE', value: 'debug' },
          { name: 'POD', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
          { name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1m' } } },
          { name: 'PW', valueFrom: { secretKeyRef: { name: 's', key: 'pw', optional: true } } }
        ],
        envFrom: [{ configMapRef: { name: 'env' } }],
        resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '100m' } },
        livenessProbe: { httpGet: { path: '/healthz', port: 'http', scheme: 'HTTP' }, initialDelaySeconds: 3, periodSeconds: 10 },
        readinessProbe: { tcpSocket: { port: 80 }, failureThreshold: 3 },
        startupProbe: { exec: { command: ['cat', '/tmp/ok'] } },
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] }, readOnlyRootFilesystem: true },
        volumeMounts: [{ name: 'scratch', mountPath: '/tmp' }, { name: 'cfg', mountPath: '/etc/nginx/conf.d', readOnly: true }],
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'File',
        stdin: true,
        tty: true
      }],
      tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/os', operator: 'In', values: ['linux'] }] }] } } }
    },
    status: {}
  }

  test('a --copy-to style pod survives encode → decode unchanged (pointers keep false/0, IntOrString, Quantity)', () => {
    assert.deepEqual(decodeProtobuf(encodeProtobuf(copyPod)), copyPod)
  })

  test('SubjectAccessReview with extra and groups', () => {
    const sar: KObject = {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      metadata: { creationTimestamp: ZERO_TIME },
      spec: { user: 'alice', groups: ['dev', 'system:authenticated'], extra: { scopes: ['a', 'b'] }, uid: 'u-1', nonResourceAttributes: { path: '/healthz', verb: 'get' } },
      status: { allowed: false }
    }
    assert.deepEqual(decodeProtobuf(encodeProtobuf(sar)), sar)
  })

  test('TokenReview and DeleteOptions', () => {
    const tr: KObject = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', metadata: { creationTimestamp: ZERO_TIME }, spec: { token: 'alice-token', audiences: ['api'] }, status: { user: {} } }
    assert.deepEqual(decodeProtobuf(encodeProtobuf(tr)), tr)
    const del: KObject = { apiVersion: 'v1', kind: 'DeleteOptions', metadata: {}, gracePeriodSeconds: 0, propagationPolicy: 'Background', preconditions: { uid: 'u1' } }
    const back = decodeProtobuf(encodeProtobuf(del))
    assert.deepEqual(back, del)
  })

  test('timestamps come back as RFC 3339 (Time to the second, MicroTime with microseconds)', () => {
    const ev: KObject = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'web.1', namespace: 'demo', creationTimestamp: ZERO_TIME },
      involvedObject: { kind: 'Pod', namespace: 'demo', name: 'web' },
      reason: 'PacketDrop',
      message: 'Packet dropped',
      source: { component: 'kube-iptables-tailer' },
      firstTimestamp: '2026-11-27T10:00:00Z',
      lastTimestamp: '2026-11-27T10:00:05Z',
      count: 2,
      type: 'Warning',
      eventTime: '2026-11-27T10:00:05.123456Z',
      reportingComponent: '',
      reportingInstance: ''
    }
    assert.deepEqual(decodeProtobuf(encodeProtobuf(ev)), ev)
  })

  test('bad magic → 400, unknown kind → 415', () => {
    assert.throws(() => decodeProtobuf(Buffer.from('{"kind":"Pod"}')), (e: unknown) => e instanceof StatusError && e.code === 400 && /expected prefix \[107 56 115 0\]/.test(e.message))
    // runtime.Unknown{typeMeta{apiVersion: v1, kind: ConfigMap}} written by hand
    const typeMeta = Buffer.from([0x0a, 0x02, ...Buffer.from('v1'), 0x12, 0x09, ...Buffer.from('ConfigMap')])
    const cm = Buffer.concat([Buffer.from('k8s\0', 'latin1'), Buffer.from([0x0a, typeMeta.length]), typeMeta])
    assert.throws(() => decodeProtobuf(cm), (e: unknown) => e instanceof StatusError && e.code === 415)
  })
})
