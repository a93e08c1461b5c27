import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { defaultPod, defaultEphemeralContainers, imageTag } from '../../../src/sim/admission/pod-defaults.ts'
import type { KObject } from '../../../src/sim/apimachinery/types.ts'

const fixed = (): number => 0 // → suffix "bbbbb"

function minimal (): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'demo' },
    spec: { containers: [{ name: 'app', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] }
  }
}

describe('defaultPod', () => {
  test('a minimal pod gets the defaults a real API server shows', () => {
    const out = defaultPod(minimal(), { random: fixed })
    assert.deepEqual(out.spec, {
      containers: [{
        name: 'app',
        image: 'nginx:1.27',
        imagePullPolicy: 'IfNotPresent',
        ports: [{ containerPort: 80, protocol: 'TCP' }],
        resources: {},
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'File',
        volumeMounts: [{ name: 'kube-api-access-bbbbb', readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }]
      }],
      dnsPolicy: 'ClusterFirst',
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
      priority: 0,
      restartPolicy: 'Always',
      schedulerName: 'default-scheduler',
      securityContext: {},
      serviceAccount: 'default',
      serviceAccountName: 'default',
      terminationGracePeriodSeconds: 30,
      tolerations: [
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }
      ],
      volumes: [{
        name: 'kube-api-access-bbbbb',
        projected: {
          defaultMode: 420,
          sources: [
            { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
            { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
            { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } }
          ]
        }
      }]
    })
  })

  test('the input is not mutated', () => {
    const p = minimal()
    const before = JSON.stringify(p)
    defaultPod(p)
    assert.equal(JSON.stringify(p), before)
  })

  test('explicit values win; automountServiceAccountToken false skips the token volume', () => {
    const p = minimal()
    Object.assign(p.spec as object, { restartPolicy: 'Never', dnsPolicy: 'Default', terminationGracePeriodSeconds: 0, automountServiceAccountToken: false, serviceAccountName: 'sa1', enableServiceLinks: false })
    const spec = defaultPod(p).spec as Record<string, unknown>
    assert.equal(spec.restartPolicy, 'Never')
    assert.equal(spec.dnsPolicy, 'Default')
    assert.equal(spec.terminationGracePeriodSeconds, 0)
    assert.equal(spec.enableServiceLinks, false)
    assert.equal(spec.serviceAccount, 'sa1')
    assert.equal(spec.volumes, undefined)
  })

  test('a copied pod (kubectl debug --copy-to) reuses its kube-api-access volume; only the new container gets the mount', () => {
    const first = defaultPod(minimal(), { random: fixed })
    const copy: KObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'copy', namespace: 'demo' }, spec: structuredClone(first.spec) }
    ;(copy.spec as { containers: unknown[] }).containers.push({ name: 'debugger', image: 'busybox', terminationMessagePolicy: 'File' })
    const out = defaultPod(copy, { random: () => 0.5 })
    const spec = out.spec as { volumes: Array<{ name: string }>, containers: Array<{ volumeMounts: Array<{ name: string }> }> }
    assert.deepEqual(spec.volumes.map(v => v.name), ['kube-api-access-bbbbb'])
    assert.deepEqual(spec.containers.map(c => c.volumeMounts.map(m => m.name)), [['kube-api-access-bbbbb'], ['kube-api-access-bbbbb']])
    assert.equal((spec.containers[1] as Record<string, unknown>).imagePullPolicy, 'Always')
  })

  test('node debug pod: tolerating everything adds no default tolerations; hostNetwork copies ports to hostPort', () => {
    const p = minimal()
    Object.assign(p.spec as object, { tolerations: [{ operator: 'Exists' }], hostNetwork: true })
    const spec = defaultPod(p).spec as { tolerations: unknown[], containers: Array<{ ports: unknown[] }> }
    assert.deepEqual(spec.tolerations, [{ operator: 'Exists' }])
    assert.deepEqual(spec.containers[0]?.ports, [{ containerPort: 80, protocol: 'TCP', hostPort: 80 }])
  })

  test('probes, volumes and limits', () => {
    const p = minimal()
    Object.assign(p.spec as object, {
      volumes: [{ name: 'host-root', hostPath: { path: '/' } }, { name: 'scratch' }, { name: 'cfg', configMap: { name: 'c' } }]
    })
    Object.assign((p.spec as { containers: object[] }).containers[0] as object, {
      livenessProbe: { httpGet: { port: 80 } },
      resources: { limits: { cpu: '1' } }
    })
    const spec = defaultPod(p, { random: fixed }).spec as { volumes: unknown[], containers: Array<Record<string, unknown>> }
    assert.deepEqual(spec.volumes.slice(0, 3), [
      { name: 'host-root', hostPath: { path: '/', type: '' } },
      { name: 'scratch', emptyDir: {} },
      { name: 'cfg', configMap: { name: 'c', defaultMode: 420 } }
    ])
    assert.deepEqual(spec.containers[0]?.livenessProbe, { httpGet: { port: 80, path: '/', scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 })
    assert.deepEqual(spec.containers[0]?.resources, { limits: { cpu: '1' }, requests: { cpu: '1' } })
  })

  test('mirror pods are left to themselves by the ServiceAccount plugin', () => {
    const p = minimal()
    p.metadata.annotations = { 'kubernetes.io/config.mirror': 'x' }
    const spec = defaultPod(p).spec as Record<string, unknown>
    assert.equal(spec.serviceAccountName, undefined)
    assert.equal(spec.volumes, undefined)
  })
})

describe('defaultEphemeralContainers', () => {
  test('fills the container defaults of every ephemeral container', () => {
    const p = minimal()
    ;(p.spec as Record<string, unknown>).ephemeralContainers = [{ name: 'dbg', image: 'busybox', targetContainerName: 'app' }]
    const out = defaultEphemeralContainers(p)
    assert.deepEqual((out.spec as { ephemeralContainers: unknown[] }).ephemeralContainers, [{
      name: 'dbg',
      image: 'busybox',
      targetContainerName: 'app',
      imagePullPolicy: 'Always',
      resources: {},
      terminationMessagePath: '/dev/termination-log',
      terminationMessagePolicy: 'File'
    }])
    // regular containers are not touched here
    assert.equal(((out.spec as { containers: Array<Record<string, unknown>> }).containers[0] as Record<string, unknown>).imagePullPolicy, undefined)
  })
})

test('imageTag follows parsers.ParseImageName', () => {
  assert.equal(imageTag('busybox'), 'latest')
  assert.equal(imageTag('busybox:1.36'), '1.36')
  assert.equal(imageTag('localhost:5000/tools/busybox'), 'latest')
  assert.equal(imageTag('registry.k8s.io/pause:3.9'), '3.9')
  assert.equal(imageTag(`busybox@sha256:${'a'.repeat(64)}`), '')
  assert.equal(imageTag(`busybox:latest@sha256:${'a'.repeat(64)}`), 'latest')
  assert.equal(imageTag('BusyBox'), '')
  assert.equal(imageTag(''), '')
})
