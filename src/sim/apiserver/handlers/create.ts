// POST of a new object (apiserver pkg/endpoints/handlers/create.go; the
// registry's BeforeCreate: names, NamespaceLifecycle, defaulting, validation,
// admission, then storage).
import type { ResourceRequest } from '../context.ts'
import type { KObject } from '../../apimachinery/types.ts'
import { alreadyExists, invalid, notFound } from '../../apimachinery/status.ts'
import { apiVersionOf, present, type ResourceDefinition } from '../../registry/definitions.ts'
import { checkBodyScope, randomSuffix, validateGeneric } from '../../registry/strategy.ts'
import { recordWrite } from '../../registry/managed-fields.ts'
import { defaultPod } from '../../admission/pod-defaults.ts'
import { validatePodCreate } from '../../admission/pod-validation.ts'
import { qosClass } from '../../kubelet/lifecycle.ts'
import { decodeObject, readBody, sendJSON } from '../http-util.ts'
import { admitNamespaceLabels, admitPodSecurity } from './admission.ts'
import { isDryRun, writeOf } from './request.ts'

export async function create (r: ResourceRequest, d: ResourceDefinition, ns: string): Promise<boolean> {
  const body = await readBody(r.req)
  const o = decodeObject(r.req, body)
  checkBodyScope(d, o, d.namespaced ? ns : undefined)
  return createObject(r, d, ns, o)
}

/** The create of a decoded object (also a PUT of a missing object where the strategy allows create on update). */
export function createObject (r: ResourceRequest, d: ResourceDefinition, ns: string, decoded: KObject): boolean {
  const { ctx } = r
  let o = decoded
  o.apiVersion = apiVersionOf(d)
  o.kind = d.kind
  if (d.namespaced) o.metadata.namespace = ns
  else delete o.metadata.namespace
  for (const k of ['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation'] as const) delete o.metadata[k]
  if (!o.metadata.name && o.metadata.generateName) {
    do { o.metadata.name = o.metadata.generateName + randomSuffix() } while (ctx.store.get(d.resource, d.namespaced ? ns : undefined, o.metadata.name))
  }
  if (!o.metadata.name) throw invalid(d.kind, '', [{ type: 'FieldValueRequired', field: 'metadata.name', detail: 'name or generateName is required' }])
  // NamespaceLifecycle admission runs before validation
  if (d.namespaced && !ctx.store.get('namespaces', undefined, ns)) throw notFound('namespaces', ns)
  if (d.resource === 'pods') {
    o = defaultPod(o)
    validatePodCreate(o)
    // validating admission (PodSecurity) runs after the strategy's validation, dry run included
    admitPodSecurity(r, o)
    // pod strategy PrepareForCreate: status starts as Pending with the QoS class
    o.status = { phase: 'Pending', qosClass: qosClass(o) }
  } else {
    validateGeneric(d, o)
  }
  if (d.resource === 'namespaces') {
    admitNamespaceLabels(r, o)
    o.status = { phase: 'Active' }
  }
  recordWrite(o, undefined, writeOf(r, d))
  if (isDryRun(r.url)) {
    const name = o.metadata.name ?? ''
    if (ctx.store.get(d.resource, d.namespaced ? ns : undefined, name)) throw alreadyExists(d.resource, name)
    o.metadata.uid = crypto.randomUUID()
    o.metadata.creationTimestamp = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')
    sendJSON(r.res, 201, present(d, o))
    return true
  }
  const stored = ctx.store.create(d.resource, o)
  if (d.resource === 'pods') ctx.lifecycle.podCreated(stored)
  sendJSON(r.res, 201, present(d, stored))
  return true
}
