// metadata.managedFields as the API server's field manager writes them for
// non-apply writes: one entry per (manager, operation, subresource), the
// manager taken from `fieldManager` or else the User-Agent's first segment
// (apiserver pkg/endpoints/handlers/rest.go managerOrUserAgent /
// prefixFromUserAgent; an absent User-Agent gives manager ""). Simplified:
// fieldsV1 lists the object's map keys (f:name) recursively; a list is owned
// as a whole instead of per element (k:{…}/v:… keys).
import type { KObject } from '../apimachinery/types.ts'
import { badRequest } from '../apimachinery/status.ts'

type Obj = Record<string, unknown>

/** The manager of a write: `fieldManager`, else the User-Agent up to its first '/'. */
export function managerOrUserAgent (fieldManager: string | null, userAgent: string | undefined): string {
  if (fieldManager !== null && fieldManager !== '') {
    // apimachinery/pkg/api/validation ValidateFieldManager: at most 128 printable characters
    if (fieldManager.length > 128) throw badRequest('fieldManager: Too long: may not be more than 128 bytes')
    return fieldManager
  }
  return (userAgent ?? '').split('/')[0] ?? ''
}

const SKIP_METADATA = new Set(['managedFields', 'uid', 'resourceVersion', 'creationTimestamp', 'generation', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'name', 'namespace'])

function fieldSet (v: unknown, top = false): Obj {
  const out: Obj = {}
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return out
  for (const [k, child] of Object.entries(v as Obj)) {
    if (top && (k === 'kind' || k === 'apiVersion')) continue
    out[`f:${k}`] = child !== null && typeof child === 'object' && !Array.isArray(child) ? fieldSet(child) : {}
  }
  return out
}

/** The fields a write of `obj` sets: the whole object for the main resource, the subresource's part otherwise. */
function ownedFields (obj: KObject, subresource: string | undefined): Obj {
  if (subresource === 'status') return { 'f:status': fieldSet(obj.status) }
  if (subresource === 'ephemeralcontainers') return { 'f:spec': { 'f:ephemeralContainers': {} } }
  const meta = Object.fromEntries(Object.entries(obj.metadata).filter(([k]) => !SKIP_METADATA.has(k)))
  const body: Obj = { ...obj, metadata: meta }
  delete body.status
  const fs = fieldSet(body, true)
  if (Object.keys(meta).length === 0) delete fs['f:metadata']
  return fs
}

export interface ManagerWrite {
  manager: string
  subresource?: string
  apiVersion: string
  time: string
}

/** Sets `next.metadata.managedFields` from the previous entries plus this write (operation Update). */
export function recordWrite (next: KObject, previous: KObject | undefined, w: ManagerWrite): void {
  const entries = ((previous?.metadata.managedFields ?? []) as Obj[])
    .filter(e => !(e.manager === w.manager && e.operation === 'Update' && (e.subresource ?? undefined) === w.subresource))
  entries.push({
    manager: w.manager,
    operation: 'Update',
    apiVersion: w.apiVersion,
    time: w.time,
    fieldsType: 'FieldsV1',
    fieldsV1: ownedFields(next, w.subresource),
    ...(w.subresource ? { subresource: w.subresource } : {})
  })
  next.metadata.managedFields = entries as never
}
