// Routes a resource request to its handler: the review APIs, the pod
// subresources, or the verb on a resource the registry serves.
import type { ResourceRequest } from '../context.ts'
import { methodNotSupported } from '../../apimachinery/status.ts'
import { findDefinition } from '../../registry/definitions.ts'
import { get, list, watch } from './get.ts'
import { create } from './create.ts'
import { patch, update } from './update.ts'
import { del, deleteCollection } from './delete.ts'
import { handleReview } from './reviews.ts'
import { handlePodSubresource } from './pod-subresources.ts'

/** Serves a resource request; false when no such resource/route exists (the caller answers 404). */
export async function handleResource (r: ResourceRequest): Promise<boolean> {
  const { info } = r
  if (info.apiGroup === 'authentication.k8s.io' || info.apiGroup === 'authorization.k8s.io') return handleReview(r)
  const d = findDefinition(info.apiGroup, info.apiVersion, info.resource)
  if (!d) return false
  // cluster-scoped resources have no namespaced routes (namespaces themselves are the exception)
  if (!d.namespaced && info.namespace && d.resource !== 'namespaces') return false
  const named = info.parts.length >= 2
  if (d.namespaced && !info.namespace && named) return false
  if (info.parts.length > 3) return false
  if (info.subresource) return d.resource === 'pods' ? handlePodSubresource(r, d) : false

  const ns = d.namespaced ? info.namespace : undefined
  const name = named ? info.parts[1] ?? '' : ''
  if (d.readOnly && !['get', 'list', 'watch'].includes(info.verb)) throw methodNotSupported(d.resource, info.verb)
  switch (info.verb) {
    case 'list': return list(r, d, ns)
    case 'watch': return watch(r, d, ns, named ? name : undefined)
    case 'get': return get(r, d, ns, name)
    case 'create': if (named) return false; return create(r, d, ns ?? '')
    case 'update': return update(r, d, ns, name)
    case 'patch': return patch(r, d, ns, name)
    case 'delete': return del(r, d, ns, name)
    case 'deletecollection': return deleteCollection(r, d, ns)
  }
  return false
}
