// coordination.k8s.io/v1 Leases over the REST API (raw JSON, like
// debug-client.ts): get, create, update with the resourceVersion precondition
// (optimistic concurrency: a 409 means someone else changed it first), delete,
// and list + watch of a label selector (the ledgers' cache across replicas).
// Failures are ProblemErrors (src/kube/errors.ts).
import type { KubeConfig } from '@kubernetes/client-node'
import { Problems } from '../errors.ts'
import { problemFromStatus, toProblem, type KubeStatus } from './errors.ts'
import { NoClusterError, failureOf, openKubeRequest, readJson, watchEvents } from './transport.ts'

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

export interface LeaseWatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK'
  /** A BOOKMARK carries only metadata.resourceVersion. */
  object: Lease
}

export interface LeaseWatchOptions {
  labelSelector: string
  resourceVersion: string
  /** The server ends the watch after this long (client-go picks 5–10 minutes). */
  timeoutSeconds: number
  signal: AbortSignal
}

/** A watch the API server ended with 410 Expired: start again from a fresh list. */
export class WatchExpiredError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'WatchExpiredError'
  }
}

export interface LeaseClient {
  get (namespace: string, name: string): Promise<Lease>
  create (lease: Lease): Promise<Lease>
  /** PUT with the lease's resourceVersion: 409 when it changed meanwhile. */
  update (lease: Lease): Promise<Lease>
  /** DELETE with a resourceVersion precondition. */
  delete (namespace: string, name: string, resourceVersion: string): Promise<void>
  /** Where a watch of the selected leases starts: the resourceVersion of a (consistent) list of at most one. Absent in a process-local client. */
  listVersion?: (namespace: string, labelSelector: string) => Promise<string>
  /**
   * Hands every event to `onEvent` until the server ends the watch (resolves) or `signal`
   * aborts; an ERROR event rejects (410: WatchExpiredError). Absent in a process-local client.
   */
  watch?: (namespace: string, opts: LeaseWatchOptions, onEvent: (event: LeaseWatchEvent) => void) => Promise<void>
}

/** The API server's lease client: it can also list and watch. */
export type WatchableLeaseClient = LeaseClient & Required<Pick<LeaseClient, 'listVersion' | 'watch'>>

const enc = encodeURIComponent

export function kubeLeaseClient (kubeConfig: KubeConfig, options: { requestTimeoutMs?: number } = {}): WatchableLeaseClient {
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
    },
    async listVersion (namespace, labelSelector) {
      const query = new URLSearchParams({ labelSelector, limit: '1' })
      const list = await call<{ metadata?: { resourceVersion?: string } }>('GET', `${base(namespace)}?${query.toString()}`)
      const rv = list.metadata?.resourceVersion
      if (rv === undefined || rv === '') throw Problems.badGateway('The Kubernetes API server answered a lease list without a resourceVersion.')
      return rv
    },
    async watch (namespace, opts, onEvent) {
      const query = new URLSearchParams({ watch: 'true', labelSelector: opts.labelSelector, resourceVersion: opts.resourceVersion, allowWatchBookmarks: 'true', timeoutSeconds: String(opts.timeoutSeconds) })
      let res
      try {
        // The server ends the watch after timeoutSeconds; a margin before the socket counts as dead.
        res = await openKubeRequest(kubeConfig, base(namespace), { query, signal: opts.signal, idleMs: opts.timeoutSeconds * 1000 + idleMs })
      } catch (err) {
        if (err instanceof NoClusterError) throw Problems.upstreamUnavailable(err.message)
        throw toProblem(err)
      }
      if (res.statusCode === 410) { res.resume(); throw new WatchExpiredError('the watch\'s resourceVersion is too old') }
      if (res.statusCode !== 200) throw await failureOf(res)
      for await (const event of watchEvents<LeaseWatchEvent | { type: 'ERROR', object: KubeStatus }>(res)) {
        if (event.type === 'ERROR') {
          if (event.object.code === 410) throw new WatchExpiredError(event.object.message ?? 'the watch\'s resourceVersion is too old')
          throw problemFromStatus(event.object.code ?? 500, event.object)
        }
        onEvent(event)
      }
      if (!res.complete) throw Problems.upstreamUnavailable('The lease watch closed before the end of the response.')
    }
  }
}
