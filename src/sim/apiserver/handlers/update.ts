// PUT and PATCH of an object (apiserver pkg/endpoints/handlers/update.go,
// patch.go): the incoming or patched object, the resourceVersion precondition,
// the strategy's update rules, validation, admission, then storage.
import type { KObject } from '../../apimachinery/types.ts'
import type { ResourceRequest } from '../context.ts'
import { Uint64Value, conflict, invalid, notFound } from '../../apimachinery/status.ts'
import { present, type ResourceDefinition } from '../../registry/definitions.ts'
import { checkBodyScope, prepareUpdate, validateGeneric } from '../../registry/strategy.ts'
import { applyPatch } from '../../registry/patch.ts'
import { recordWrite } from '../../registry/managed-fields.ts'
import { decodeObject, mediaType, readBody, sendJSON } from '../http-util.ts'
import { admitNamespaceLabels, admitPodSecurity } from './admission.ts'
import { isDryRun, writeOf } from './request.ts'
import { createObject } from './create.ts'

export async function update (r: ResourceRequest, d: ResourceDefinition, ns: string | undefined, name: string): Promise<boolean> {
  const { ctx } = r
  const body = await readBody(r.req)
  const o = decodeObject(r.req, body)
  checkBodyScope(d, o, ns, name)
  const old = ctx.store.get(d.resource, ns, name)
  // apiserver pkg/registry/generic/registry/store.go Update: a missing object is created when
  // the strategy allows it, before (so regardless of) the resourceVersion check; the answer is
  // a 201. For an existing one, no resourceVersion is an Invalid unless the strategy allows
  // unconditional updates.
  if (old === undefined) {
    if (!d.allowCreateOnUpdate) throw notFound(d.resource, name, d.group)
    return createObject(r, d, ns ?? '', o)
  }
  const next = prepareUpdate(d, old, o)
  const expected = o.metadata.resourceVersion || undefined
  if (expected === undefined && d.requireResourceVersionOnUpdate) {
    throw invalid(d.resource, name, [{ type: 'FieldValueInvalid', field: 'metadata.resourceVersion', badValue: new Uint64Value(0), detail: 'must be specified for an update' }], d.group)
  }
  if (expected !== undefined && expected !== old.metadata.resourceVersion) throw conflict(d.resource, name, 'the object has been modified; please apply your changes to the latest version and try again')
  return store(r, d, old, next)
}

export async function patch (r: ResourceRequest, d: ResourceDefinition, ns: string | undefined, name: string): Promise<boolean> {
  const { ctx } = r
  const body = await readBody(r.req)
  const old = ctx.store.mustGet(d.resource, ns, name)
  const patched = applyPatch(present(d, old), mediaType(r.req), body, d.patchMeta)
  // a resourceVersion in the patch is a precondition
  if (patched.metadata.resourceVersion !== old.metadata.resourceVersion) throw conflict(d.resource, name, 'the object has been modified; please apply your changes to the latest version and try again')
  const next = prepareUpdate(d, old, patched)
  return store(r, d, old, next)
}

/** Validation and admission of the updated object, then the write (or its dry run). */
function store (r: ResourceRequest, d: ResourceDefinition, old: KObject, next: KObject): boolean {
  if (d.resource !== 'pods') validateGeneric(d, next)
  else admitPodSecurity(r, next, old)
  if (d.resource === 'namespaces') admitNamespaceLabels(r, next, old)
  recordWrite(next, old, writeOf(r, d))
  if (isDryRun(r.url)) {
    sendJSON(r.res, 200, present(d, next))
    return true
  }
  const stored = r.ctx.store.update(d.resource, next, { expectedResourceVersion: old.metadata.resourceVersion })
  sendJSON(r.res, 200, present(d, stored))
  return true
}
