// Kubeconfig for the sim: one cluster `sim`, one user + context per world user.
import { stringify } from 'yaml'
import type { WorldUser } from './world.ts'

export interface KubeconfigOptions {
  server: string
  /** PEM of the CA for an https server (written as certificate-authority-data). */
  caPem?: string
  users: WorldUser[]
  /** Context (= user name) selected by default. */
  current: string
  clusterName?: string
}

export function buildKubeconfig (opts: KubeconfigOptions): string {
  const cluster = opts.clusterName ?? 'sim'
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster, cluster: opts.caPem ? { server: opts.server, 'certificate-authority-data': Buffer.from(opts.caPem).toString('base64') } : { server: opts.server } }],
    users: opts.users.map(u => ({ name: u.name, user: { token: u.token } })),
    contexts: opts.users.map(u => ({ name: u.name, context: { cluster, user: u.name } })),
    'current-context': opts.current,
    preferences: {}
  }
  return stringify(doc)
}
