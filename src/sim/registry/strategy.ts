// What every resource's REST strategy does on a write: names (generateName),
// the request's scope against the body's, generic validation, and which
// fields an update keeps from the stored object (pod strategy PrepareForUpdate
// + ValidateUpdate basics).
import type { KObject } from '../apimachinery/types.ts'
import { badRequest, invalid } from '../apimachinery/status.ts'
import { apiVersionOf, type ResourceDefinition } from './definitions.ts'

type Obj = Record<string, unknown>

const GENERATE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789'
/** generateName's suffix (apiserver pkg/storage/names SimpleNameGenerator, apimachinery util/rand alphanums). */
export function randomSuffix (n = 5): string {
  let s = ''
  for (let i = 0; i < n; i++) s += GENERATE_ALPHABET[Math.floor(Math.random() * GENERATE_ALPHABET.length)]
  return s
}

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

export function checkBodyScope (d: ResourceDefinition, o: KObject, ns: string | undefined, name?: string): void {
  if (o.kind !== undefined && o.kind !== d.kind) throw badRequest(`the object provided is unrecognized (must be of type ${d.kind}): ${String(o.kind)}`)
  if (d.namespaced && o.metadata.namespace && o.metadata.namespace !== ns) throw badRequest('the namespace of the provided object does not match the namespace sent on the request')
  if (name !== undefined && o.metadata.name && o.metadata.name !== name) throw badRequest(`the name of the object (${o.metadata.name}) does not match the name on the URL (${name})`)
}

export function validateGeneric (d: ResourceDefinition, o: KObject): void {
  const name = o.metadata.name ?? ''
  const re = d.resource === 'namespaces' ? dns1123Label : dns1123Subdomain
  if (!re.test(name)) {
    const detail = d.resource === 'namespaces'
      ? "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
      : "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    throw invalid(d.kind, name, [{ type: 'FieldValueInvalid', field: 'metadata.name', badValue: name, detail }])
  }
  if (d.resource === 'events') {
    // legacyValidateEvent: the event lives in the namespace of the object it is about
    const io = (o.involvedObject ?? {}) as Obj
    const ions = String(io.namespace ?? '')
    const ns = o.metadata.namespace ?? ''
    const ok = ions === '' ? (ns === '' || ns === 'default') : ions === ns
    if (!ok) throw invalid('Event', name, [{ type: 'FieldValueInvalid', field: 'involvedObject.namespace', badValue: ions, detail: 'does not match event.namespace' }])
  }
}

const podUpdatableMessage = 'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)'

/** Builds the stored object for an update of the main resource (pod strategy PrepareForUpdate + ValidateUpdate basics). */
export function prepareUpdate (d: ResourceDefinition, old: KObject, incoming: KObject): KObject {
  const next = structuredClone(incoming)
  next.apiVersion = apiVersionOf(d)
  next.kind = d.kind
  next.metadata = { ...next.metadata, name: old.metadata.name, namespace: old.metadata.namespace, uid: old.metadata.uid, creationTimestamp: old.metadata.creationTimestamp }
  if (!d.namespaced) delete next.metadata.namespace
  if (old.metadata.deletionTimestamp) {
    next.metadata.deletionTimestamp = old.metadata.deletionTimestamp
    next.metadata.deletionGracePeriodSeconds = old.metadata.deletionGracePeriodSeconds
  } else {
    delete next.metadata.deletionTimestamp
  }
  if (d.resource === 'pods') {
    next.status = old.status
    const mask = (spec: unknown): string => {
      const s = structuredClone((spec ?? {}) as Obj)
      for (const k of ['containers', 'initContainers'] as const) {
        for (const c of (Array.isArray(s[k]) ? s[k] : []) as Obj[]) delete c.image
      }
      delete s.activeDeadlineSeconds
      delete s.terminationGracePeriodSeconds
      const oldTol = ((old.spec as Obj | undefined)?.tolerations ?? []) as unknown[]
      const newTol = (s.tolerations ?? []) as unknown[]
      if (oldTol.every((t, i) => JSON.stringify(t) === JSON.stringify(newTol[i]))) delete s.tolerations
      return JSON.stringify(s)
    }
    const oldMasked = mask(old.spec)
    if (mask(next.spec) !== oldMasked) {
      throw invalid('Pod', old.metadata.name ?? '', [{ type: 'FieldValueForbidden', field: 'spec', detail: podUpdatableMessage }])
    }
  }
  if (d.resource === 'namespaces' && !next.status) next.status = old.status
  return next
}
