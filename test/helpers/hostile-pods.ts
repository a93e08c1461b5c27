// Hostile pods for the effective-privilege tests, created through the sim's
// API as admin (the demo namespace enforces no PodSecurity level, like many
// real namespaces). Kept out of the demo world so demo users do not trip on them.
import type { Sim } from '../../src/sim/index.ts'

type Obj = Record<string, unknown>

const app = { name: 'app', image: 'nginx:1.27' }

/** name → pod spec, and the policy field a developer's denial names (for a copy, where every container is the requester's, when it differs). */
export const HOSTILE: Record<string, { spec: Obj, field: string, copyField?: string }> = {
  'h-pid': { spec: { hostPID: true, containers: [app] }, field: 'hostNamespaces' },
  'h-net': { spec: { hostNetwork: true, containers: [app] }, field: 'hostNamespaces' },
  'h-ipc': { spec: { hostIPC: true, containers: [app] }, field: 'hostNamespaces' },
  'h-path': { spec: { volumes: [{ name: 'root', hostPath: { path: '/' } }], containers: [app] }, field: 'volumes.hostPath' },
  'h-port': { spec: { containers: [{ ...app, ports: [{ containerPort: 80, hostPort: 8080, protocol: 'TCP' }] }] }, field: 'ports.hostPort' },
  'h-priv': { spec: { containers: [app, { name: 'agent', image: 'busybox:1.36', command: ['sleep', '3600'], securityContext: { privileged: true } }] }, field: 'privilegedContainers', copyField: 'securityContext.privileged' }
}

export async function createRawPod (sim: Sim, namespace: string, name: string, spec: Obj): Promise<void> {
  const res = await fetch(`${sim.url}/api/v1/namespaces/${namespace}/pods`, {
    method: 'POST',
    headers: { authorization: `Bearer ${sim.tokens.admin ?? ''}`, 'content-type': 'application/json' },
    body: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace }, spec: { nodeName: 'node-1', ...spec } })
  })
  if (res.status !== 201) throw new Error(`create pod ${name}: ${res.status} ${await res.text()}`)
}

export async function createHostilePods (sim: Sim, namespace = 'demo'): Promise<void> {
  for (const [name, { spec }] of Object.entries(HOSTILE)) await createRawPod(sim, namespace, name, spec)
}
