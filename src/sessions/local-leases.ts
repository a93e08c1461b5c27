// Leases kept in this process, with the API server's answers for them (404
// when missing, 409 when the name is taken or the resourceVersion is stale,
// a new uid per create): the session ledger of a single replica
// (sessions.userLeaseNamespace null), so one code path serves both. Lost on
// restart, which the ledger treats like a deleted lease: it counts from the
// cluster again.
import { randomUUID } from 'node:crypto'
import { Problems } from '../errors.ts'
import type { Lease, LeaseClient } from '../kube/lease-client.ts'

export function localLeaseClient (): LeaseClient {
  const leases = new Map<string, Lease>()
  let version = 0
  const key = (namespace: string, name: string): string => `${namespace}/${name}`
  const stored = (lease: Lease, uid: string): Lease => {
    const copy = structuredClone(lease)
    copy.metadata = { ...copy.metadata, uid, resourceVersion: String(++version) }
    leases.set(key(copy.metadata.namespace, copy.metadata.name), copy)
    return structuredClone(copy)
  }
  const current = (namespace: string, name: string): Lease => {
    const lease = leases.get(key(namespace, name))
    if (lease === undefined) throw Problems.notFound(`leases "${name}" not found`, { kubernetesReason: 'NotFound' })
    return lease
  }
  return {
    async get (namespace, name) { return structuredClone(current(namespace, name)) },
    async create (lease) {
      if (leases.has(key(lease.metadata.namespace, lease.metadata.name))) throw Problems.conflict(`leases "${lease.metadata.name}" already exists`, { kubernetesReason: 'AlreadyExists' })
      return stored(lease, randomUUID())
    },
    async update (lease) {
      const old = current(lease.metadata.namespace, lease.metadata.name)
      if (lease.metadata.resourceVersion !== old.metadata.resourceVersion) throw Problems.conflict('the object has been modified; please apply your changes to the latest version and try again', { kubernetesReason: 'Conflict' })
      return stored(lease, old.metadata.uid as string)
    },
    async delete (namespace, name, resourceVersion) {
      const old = current(namespace, name)
      if (resourceVersion !== old.metadata.resourceVersion) throw Problems.conflict('the object has been modified', { kubernetesReason: 'Conflict' })
      leases.delete(key(namespace, name))
    }
  }
}
