// coordination.k8s.io/v1 Leases over the REST API (raw JSON, like
// debug-client.ts): get, create, update with the resourceVersion precondition
// (optimistic concurrency: a 409 means someone else changed it first), delete.
// Failures are ProblemErrors (src/kube/errors.ts).
import type { KubeConfig } from '@kubernetes/client-node'
import { Problems } from '../errors.ts'
import { toProblem } from './errors.ts'
import { NoClusterError, openKubeRequest, readJson } from './transport.ts'

export interface Lease {
  apiVersion?: string
  kind?: string
  metadata: { name: string, namespace: string, resourceVersion?: string, uid?: string, labels?: Record<string, string>, annotations?: Record<string, string> }
  spec: {
    holderIdentity?: string | null
    leaseDurationSeconds?: number
    /** MicroTime (RFC 3339 with microseconds). */
    acquireTime?: string | null
    renewTime?: string | null
    leaseTransitions?: number
  }
}

export interface LeaseClient {
  get (namespace: string, name: string): Promise<Lease>
  create (lease: Lease): Promise<Lease>
  /** PUT with the lease's resourceVersion: 409 when it changed meanwhile. */
  update (lease: Lease): Promise<Lease>
  /** DELETE with a resourceVersion precondition. */
  delete (namespace: string, name: string, resourceVersion: string): Promise<void>
}

const enc = encodeURIComponent

export function kubeLeaseClient (kubeConfig: KubeConfig, options: { requestTimeoutMs?: number } = {}): LeaseClient {
  const idleMs = options.requestTimeoutMs ?? 15000
  async function call<T> (method: string, path: string, body?: unknown): Promise<T> {
    try {
      return await readJson<T>(await openKubeRequest(kubeConfig, path, { method, body, idleMs }))
    } catch (err) {
      if (err instanceof NoClusterError) throw Problems.upstreamUnavailable(err.message)
      throw toProblem(err)
    }
  }
  const base = (ns: string): string => `/apis/coordination.k8s.io/v1/namespaces/${enc(ns)}/leases`
  return {
    async get (namespace, name) { return await call<Lease>('GET', `${base(namespace)}/${enc(name)}`) },
    async create (lease) { return await call<Lease>('POST', base(lease.metadata.namespace), { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...lease }) },
    async update (lease) {
      return await call<Lease>('PUT', `${base(lease.metadata.namespace)}/${enc(lease.metadata.name)}`, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...lease })
    },
    async delete (namespace, name, resourceVersion) {
      await call<unknown>('DELETE', `${base(namespace)}/${enc(name)}`, { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { resourceVersion } })
    }
  }
}
