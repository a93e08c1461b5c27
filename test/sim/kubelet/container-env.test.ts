// Container processes see the spec's env as the kubelet sets it (expansion,
// fieldRef, resourceFieldRef), the kubernetes service variables and the
// runtime's HOSTNAME/PATH/HOME/TERM.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startSim, type Sim } from '../../../src/sim/index.ts'
import { containerEnv, expand, fieldRefValue } from '../../../src/sim/kubelet/container-env.ts'
import { waitFor } from '../../helpers/sim-api.ts'

let sim: Sim
before(async () => { sim = await startSim({ startDelayMs: 5 }) })
after(async () => { await sim.close() })

const ADMIN = (): Record<string, string> => ({ authorization: `Bearer ${sim.tokens.admin ?? ''}`, 'content-type': 'application/json' })

test('expand: $(VAR) of earlier variables, $$ escapes, unknown and unterminated references stay', () => {
  const vars: Record<string, string> = { A: 'x', B: 'y' }
  const look = (n: string): string | undefined => vars[n]
  assert.equal(expand('$(A)-$(B)', look), 'x-y')
  assert.equal(expand('$$(A)', look), '$(A)')
  assert.equal(expand('$(NOPE)', look), '$(NOPE)')
  assert.equal(expand('$(A', look), '$(A')
  assert.equal(expand('a$b$', look), 'a$b$')
})

test('fieldRef paths', () => {
  const pod = { metadata: { name: 'p', namespace: 'n', uid: 'u', labels: { app: 'web' }, annotations: { 'a/b': 'c' } }, spec: { nodeName: 'node-1', serviceAccountName: 'sa' }, status: { podIP: '10.244.1.5', podIPs: [{ ip: '10.244.1.5' }], hostIP: '172.18.0.2', hostIPs: [{ ip: '172.18.0.2' }] } }
  assert.deepEqual(['metadata.name', 'metadata.namespace', 'metadata.uid', "metadata.labels['app']", "metadata.annotations['a/b']", 'spec.nodeName', 'spec.serviceAccountName', 'status.podIP', 'status.hostIPs'].map(p => fieldRefValue(pod, p)), ['p', 'n', 'u', 'web', 'c', 'node-1', 'sa', '10.244.1.5', '172.18.0.2'])
  const env = containerEnv(pod, { name: 'c', tty: true, resources: { limits: { cpu: '1500m', memory: '64Mi' } }, env: [{ name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } }, { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory' } } }, { name: 'S', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] })
  assert.equal(env.CPU, '2')
  assert.equal(env.MEM, String(64 * 1024 * 1024))
  assert.equal(env.S, undefined)
  assert.equal(env.TERM, 'xterm')
  assert.equal(env.HOSTNAME, 'p')
})

test('a container\'s processes see its env, resolved', async () => {
  const res = await fetch(`${sim.url}/api/v1/namespaces/demo/pods`, {
    method: 'POST',
    headers: ADMIN(),
    body: JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'envy', labels: { team: 'blue' } },
      spec: {
        nodeName: 'node-1',
        restartPolicy: 'Never',
        containers: [{
          name: 'c',
          image: 'busybox',
          command: ['sh', '-c', 'echo "$GREETING|$POD|$NS|$NODE|$TEAM|$KUBERNETES_SERVICE_HOST|$HOSTNAME"'],
          env: [
            { name: 'WHO', value: 'world' },
            { name: 'GREETING', value: 'hello $(WHO)' },
            { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
            { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
            { name: 'TEAM', valueFrom: { fieldRef: { fieldPath: "metadata.labels['team']" } } }
          ]
        }]
      }
    })
  })
  assert.equal(res.status, 201)
  const text = await waitFor(async () => {
    const r = await fetch(`${sim.url}/api/v1/namespaces/demo/pods/envy/log`, { headers: ADMIN() })
    const t = r.status === 200 ? await r.text() : ''
    return t.includes('\n') ? t : undefined
  }, 'the container output')
  assert.equal(text, 'hello world|envy|demo|node-1|blue|10.96.0.1|envy\n')
})
