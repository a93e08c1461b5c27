// REST handlers for the resources the sim serves (core/v1 pods, nodes,
// namespaces, events; read-only RBAC objects; the review APIs) and the pod
// subresources ephemeralcontainers, status, log, attach.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { KObject, UserInfo } from '../apimachinery/types.ts'
import type { RequestInfo } from './request-info.ts'
import type { ServerContext } from './server.ts'
import type { PatchMeta } from '../../lib/strategic-merge.ts'
import { podPatchMeta } from '../../lib/strategic-merge.ts'
import { applyPatch } from '../registry/patch.ts'
import { defaultEphemeralContainers, defaultPod } from '../admission/pod-defaults.ts'
import { prepareEphemeralContainersUpdate, validateEphemeralContainersUpdate, validatePodCreate } from '../admission/pod-validation.ts'
import { admitNamespace, admitPod, warningHeader } from '../admission/pod-security.ts'
import { reviewSelfSubjectAccess, reviewSelfSubjectRules, reviewSubjectAccess, reviewToken } from '../auth/reviews.ts'
import { serveLogs } from '../kubelet/logs.ts'
import type { AttachOptions } from '../kubelet/attach.ts'
import type { ContainerProcess } from '../kubelet/process.ts'
import { alreadyExists, badRequest, conflict, invalid, methodNotSupported, notFound } from '../apimachinery/status.ts'
import { decodeObject, mediaType, queryBool, readBody, sendJSON, wantsTable } from './http-util.ts'
import { PROTOBUF_CONTENT_TYPE } from '../apimachinery/protobuf.ts'
import { objectMatcher } from '../apimachinery/selectors.ts'
import { serveWatch } from './watch.ts'
import { listPage } from '../storage/list.ts'
import { toTable } from './table.ts'
import { qosClass } from '../kubelet/lifecycle.ts'
import { managerOrUserAgent, recordWrite, type ManagerWrite } from '../registry/managed-fields.ts'
import { rfc3339 } from '../storage/store.ts'

type Obj = Record<string, unknown>

export interface ResourceDefinition {
  group: string
  version: string
  resource: string
  kind: string
  listKind: string
  namespaced: boolean
  readOnly?: boolean
  patchMeta: PatchMeta
}

const nodePatchMeta: PatchMeta = {
  fields: {
    metadata: { fields: { ownerReferences: { mergeKey: 'uid' }, finalizers: {} } },
    status: { fields: { conditions: { mergeKey: 'type' }, addresses: { mergeKey: 'type' } } }
  }
}
const plainPatchMeta: PatchMeta = { fields: { metadata: { fields: { ownerReferences: { mergeKey: 'uid' } } } } }

function def (group: string, resource: string, kind: string, namespaced: boolean, extra: Partial<ResourceDefinition> = {}): ResourceDefinition {
  return { group, version: 'v1', resource, kind, listKind: `${kind}List`, namespaced, patchMeta: plainPatchMeta, ...extra }
}

const RBAC = 'rbac.authorization.k8s.io'
export const resourceDefinitions: ResourceDefinition[] = [
  def('', 'pods', 'Pod', true, { patchMeta: podPatchMeta }),
  def('', 'events', 'Event', true),
  def('', 'nodes', 'Node', false, { patchMeta: nodePatchMeta }),
  def('', 'namespaces', 'Namespace', false),
  def(RBAC, 'roles', 'Role', true, { readOnly: true }),
  def(RBAC, 'rolebindings', 'RoleBinding', true, { readOnly: true }),
  def(RBAC, 'clusterroles', 'ClusterRole', false, { readOnly: true }),
  def(RBAC, 'clusterrolebindings', 'ClusterRoleBinding', false, { readOnly: true }),
  // what the gateway serializes one user's creates with across replicas
  def('coordination.k8s.io', 'leases', 'Lease', true)
]

export function findDefinition (group: string, version: string, resource: string): ResourceDefinition | undefined {
  return resourceDefinitions.find(d => d.group === group && d.version === version && d.resource === resource)
}

export function apiVersionOf (d: ResourceDefinition): string {
  return d.group ? `${d.group}/${d.version}` : d.version
}

/** The object as the wire shows it: kind and apiVersion first. */
export function present (d: ResourceDefinition, o: KObject): KObject {
  const { kind: _k, apiVersion: _a, ...rest } = o
  return { kind: d.kind, apiVersion: apiVersionOf(d), ...rest } as KObject
}

/** List items carry no kind/apiVersion (typed lists in Go leave TypeMeta empty). */
function listItem (o: KObject): KObject {
  const { kind: _k, apiVersion: _a, ...rest } = o
  return rest as KObject
}

const GENERATE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789'
function randomSuffix (n = 5): string {
  let s = ''
  for (let i = 0; i < n; i++) s += GENERATE_ALPHABET[Math.floor(Math.random() * GENERATE_ALPHABET.length)]
  return s
}

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

function isDryRun (url: URL): boolean {
  return url.searchParams.getAll('dryRun').includes('All')
}

export interface ResourceRequest {
  ctx: ServerContext
  req: IncomingMessage
  res: ServerResponse
  url: URL
  info: RequestInfo
  user: UserInfo
  watchClosers: Set<() => void>
}

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

function list (r: ResourceRequest, d: ResourceDefinition, ns: string | undefined): boolean {
  const { ctx, url } = r
  const p = url.searchParams
  const match = objectMatcher({ labelSelector: p.get('labelSelector'), fieldSelector: p.get('fieldSelector'), resource: d.resource })
  const page = listPage(ctx.store, {
    resource: d.resource,
    namespaced: d.namespaced,
    namespace: ns,
    match,
    selectors: (p.get('labelSelector') ?? '') !== '' || (p.get('fieldSelector') ?? '') !== '',
    query: { limit: p.get('limit'), continue: p.get('continue'), resourceVersion: p.get('resourceVersion'), resourceVersionMatch: p.get('resourceVersionMatch') }
  })
  const meta: Record<string, unknown> = { resourceVersion: page.resourceVersion }
  if (page.continue) meta.continue = page.continue
  if (page.remainingItemCount !== undefined) meta.remainingItemCount = page.remainingItemCount
  if (wantsTable(r.req)) {
    const table = toTable(d.resource, page.items.map(o => present(d, o)), { resourceVersion: page.resourceVersion, includeObject: p.get('includeObject'), now: ctx.store.now() }) as { metadata: Record<string, unknown> }
    Object.assign(table.metadata, meta)
    sendJSON(r.res, 200, table)
    return true
  }
  sendJSON(r.res, 200, { kind: d.listKind, apiVersion: apiVersionOf(d), metadata: meta, items: page.items.map(listItem) })
  return true
}

function watch (r: ResourceRequest, d: ResourceDefinition, ns: string | undefined, name: string | undefined): boolean {
  const { ctx, url } = r
  const selectorMatch = objectMatcher({ labelSelector: url.searchParams.get('labelSelector'), fieldSelector: url.searchParams.get('fieldSelector'), resource: d.resource })
  const match = name === undefined ? selectorMatch : (o: KObject) => o.metadata.name === name && selectorMatch(o)
  const t = Number(url.searchParams.get('timeoutSeconds') ?? '')
  // `kubectl get -w` asks for Tables: every event object is a one-row Table, only the first with column definitions
  const table = wantsTable(r.req)
  let headersSent = false
  const asTable = (o: KObject): KObject => {
    const out = toTable(d.resource, [present(d, o)], { resourceVersion: o.metadata.resourceVersion, includeObject: url.searchParams.get('includeObject'), now: ctx.store.now(), noHeaders: headersSent }) as KObject
    headersSent = true
    return out
  }
  const closer = serveWatch(r.req, r.res, {
    store: ctx.store,
    resource: d.resource,
    kind: d.kind,
    apiVersion: apiVersionOf(d),
    namespace: ns,
    match,
    resourceVersion: url.searchParams.get('resourceVersion'),
    // Events have no watch cache (pkg/registry/cachesize DefaultWatchCacheSizes: events 0), so
    // their watches are served by the etcd3 watcher, which sends no bookmarks.
    allowBookmarks: queryBool(url.searchParams.get('allowWatchBookmarks')) && d.resource !== 'events',
    watchCache: d.resource !== 'events',
    sendInitialEvents: queryBool(url.searchParams.get('sendInitialEvents')),
    timeoutMs: Number.isFinite(t) && t > 0 ? t * 1000 : ctx.watchTimeoutMs,
    bookmarkIntervalMs: ctx.bookmarkIntervalMs,
    faults: ctx.faults,
    present: table ? asTable : o => present(d, o)
  })
  r.watchClosers.add(closer)
  r.res.on('close', () => r.watchClosers.delete(closer))
  return true
}

function get (r: ResourceRequest, d: ResourceDefinition, ns: string | undefined, name: string): boolean {
  const o = r.ctx.store.mustGet(d.resource, ns, name)
  if (wantsTable(r.req)) {
    sendJSON(r.res, 200, toTable(d.resource, [present(d, o)], { resourceVersion: o.metadata.resourceVersion, includeObject: r.url.searchParams.get('includeObject'), now: r.ctx.store.now() }))
    return true
  }
  sendJSON(r.res, 200, present(d, o))
  return true
}

/** The field manager of this write (fieldManager, else the User-Agent prefix) and when it happened. */
function writeOf (r: ResourceRequest, d: ResourceDefinition, subresource?: string): ManagerWrite {
  const manager = managerOrUserAgent(r.url.searchParams.get('fieldManager'), r.req.headers['user-agent'])
  return { manager, apiVersion: apiVersionOf(d), time: rfc3339(r.ctx.store.now()), ...(subresource ? { subresource } : {}) }
}

function checkBodyScope (d: ResourceDefinition, o: KObject, ns: string | undefined, name?: string): void {
  if (o.kind !== undefined && o.kind !== d.kind) throw badRequest(`the object provided is unrecognized (must be of type ${d.kind}): ${String(o.kind)}`)
  if (d.namespaced && o.metadata.namespace && o.metadata.namespace !== ns) throw badRequest('the namespace of the provided object does not match the namespace sent on the request')
  if (name !== undefined && o.metadata.name && o.metadata.name !== name) throw badRequest(`the name of the object (${o.metadata.name}) does not match the name on the URL (${name})`)
}

function validateGeneric (d: ResourceDefinition, o: KObject): void {
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

async function create (r: ResourceRequest, d: ResourceDefinition, ns: string): Promise<boolean> {
  const { ctx } = r
  const body = await readBody(r.req)
  let o = decodeObject(r.req, body)
  checkBodyScope(d, o, d.namespaced ? ns : undefined)
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

/**
 * The PodSecurity admission plugin for a pod create/update: throws its 403, or adds the
 * `warn` level's Warning headers to the answer.
 */
function admitPodSecurity (r: ResourceRequest, pod: KObject, oldPod?: KObject, subresource?: string): void {
  const ns = r.ctx.store.get('namespaces', undefined, pod.metadata.namespace ?? '')
  const decision = admitPod({ namespaceLabels: ns?.metadata.labels, pod, oldPod, subresource })
  if (decision.error) throw decision.error
  if (decision.warnings.length > 0) r.res.setHeader('Warning', decision.warnings.map(warningHeader))
}

/** PodSecurity on namespaces: 422 for bad labels; warnings when a stricter enforce level meets existing pods. */
function admitNamespaceLabels (r: ResourceRequest, ns: KObject, old?: KObject): void {
  const decision = admitNamespace({ namespace: ns, oldNamespace: old, pods: old ? r.ctx.store.list('pods', ns.metadata.name ?? '') : [] })
  if (decision.error) throw decision.error
  if (decision.warnings.length > 0) r.res.setHeader('Warning', decision.warnings.map(warningHeader))
}

const podUpdatableMessage = 'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)'

/** Builds the stored object for an update of the main resource (pod strategy PrepareForUpdate + ValidateUpdate basics). */
function prepareUpdate (d: ResourceDefinition, old: KObject, incoming: KObject): KObject {
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

async function update (r: ResourceRequest, d: ResourceDefinition, ns: string | undefined, name: string): Promise<boolean> {
  const { ctx } = r
  const body = await readBody(r.req)
  const o = decodeObject(r.req, body)
  checkBodyScope(d, o, ns, name)
  const old = ctx.store.mustGet(d.resource, ns, name)
  const next = prepareUpdate(d, old, o)
  const expected = o.metadata.resourceVersion || undefined
  if (expected !== undefined && expected !== old.metadata.resourceVersion) throw conflict(d.resource, name, 'the object has been modified; please apply your changes to the latest version and try again')
  if (d.resource !== 'pods') validateGeneric(d, next)
  else admitPodSecurity(r, next, old)
  if (d.resource === 'namespaces') admitNamespaceLabels(r, next, old)
  recordWrite(next, old, writeOf(r, d))
  if (isDryRun(r.url)) {
    sendJSON(r.res, 200, present(d, next))
    return true
  }
  const stored = ctx.store.update(d.resource, next, { expectedResourceVersion: old.metadata.resourceVersion })
  sendJSON(r.res, 200, present(d, stored))
  return true
}

async function patch (r: ResourceRequest, d: ResourceDefinition, ns: string | undefined, name: string): Promise<boolean> {
  const { ctx } = r
  const body = await readBody(r.req)
  const old = ctx.store.mustGet(d.resource, ns, name)
  const patched = applyPatch(present(d, old), mediaType(r.req), body, d.patchMeta)
  // a resourceVersion in the patch is a precondition
  if (patched.metadata.resourceVersion !== old.metadata.resourceVersion) throw conflict(d.resource, name, 'the object has been modified; please apply your changes to the latest version and try again')
  const next = prepareUpdate(d, old, patched)
  if (d.resource !== 'pods') validateGeneric(d, next)
  else admitPodSecurity(r, next, old)
  if (d.resource === 'namespaces') admitNamespaceLabels(r, next, old)
  recordWrite(next, old, writeOf(r, d))
  if (isDryRun(r.url)) {
    sendJSON(r.res, 200, present(d, next))
    return true
  }
  const stored = ctx.store.update(d.resource, next, { expectedResourceVersion: old.metadata.resourceVersion })
  sendJSON(r.res, 200, present(d, stored))
  return true
}

interface DeleteOptions { gracePeriodSeconds?: number, preconditions?: { uid?: string, resourceVersion?: string }, dryRun?: string[] }

async function deleteOptions (r: ResourceRequest): Promise<DeleteOptions> {
  const body = await readBody(r.req)
  let opts: DeleteOptions = {}
  if (body.length > 0) opts = decodeObject(r.req, body) as unknown as DeleteOptions
  const g = r.url.searchParams.get('gracePeriodSeconds')
  if (g !== null && g !== '') opts.gracePeriodSeconds = Number(g)
  return opts
}

function checkPreconditions (d: ResourceDefinition, o: KObject, opts: DeleteOptions): void {
  const p = opts.preconditions
  const name = o.metadata.name ?? ''
  if (p?.uid && p.uid !== o.metadata.uid) throw conflict(d.resource, name, `Precondition failed: UID in precondition: ${p.uid}, UID in object meta: ${o.metadata.uid ?? ''}`)
  if (p?.resourceVersion && p.resourceVersion !== o.metadata.resourceVersion) throw conflict(d.resource, name, `Precondition failed: ResourceVersion in precondition: ${p.resourceVersion}, ResourceVersion in object meta: ${o.metadata.resourceVersion ?? ''}`)
}

/** Deletes one object; returns what the API answers (the pod / a Success Status). */
function deleteOne (r: ResourceRequest, d: ResourceDefinition, o: KObject, opts: DeleteOptions, dryRun: boolean): unknown {
  const { ctx } = r
  const ns = o.metadata.namespace
  const name = o.metadata.name ?? ''
  checkPreconditions(d, o, opts)
  if (d.resource === 'pods') {
    const spec = (o.spec ?? {}) as Obj
    const phase = String((o.status as Obj | undefined)?.phase ?? '')
    let grace = opts.gracePeriodSeconds ?? Number(spec.terminationGracePeriodSeconds ?? 30)
    if (grace < 0) grace = 1
    // pod strategy CheckGracefulDelete: unscheduled or finished pods go at once
    if (!spec.nodeName || phase === 'Succeeded' || phase === 'Failed') grace = 0
    if (dryRun) return present(d, o)
    if (o.metadata.deletionTimestamp && grace >= Number(o.metadata.deletionGracePeriodSeconds ?? 0) && grace > 0) return present(d, o)
    if (grace === 0) {
      const gone = ctx.store.delete('pods', ns, name)
      ctx.lifecycle.podRemoved(gone)
      return present(d, gone)
    }
    const updated = ctx.store.mutate('pods', ns, name, p => {
      p.metadata.deletionTimestamp = new Date(ctx.store.now().getTime() + grace * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')
      p.metadata.deletionGracePeriodSeconds = grace
    })
    ctx.lifecycle.podDeleting(updated, grace)
    return present(d, updated)
  }
  if (dryRun) return present(d, o)
  if (d.resource === 'namespaces') {
    for (const p of ctx.store.list('pods', name)) {
      ctx.store.delete('pods', name, p.metadata.name ?? '')
      ctx.lifecycle.podRemoved(p)
    }
    for (const e of ctx.store.list('events', name)) ctx.store.delete('events', name, e.metadata.name ?? '')
    const gone = ctx.store.delete(d.resource, undefined, name)
    gone.status = { phase: 'Terminating' }
    gone.metadata.deletionTimestamp = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')
    return present(d, gone)
  }
  const gone = ctx.store.delete(d.resource, ns, name)
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, group: d.group || undefined, kind: d.resource, uid: gone.metadata.uid } }
}

async function del (r: ResourceRequest, d: ResourceDefinition, ns: string | undefined, name: string): Promise<boolean> {
  const opts = await deleteOptions(r)
  const o = r.ctx.store.mustGet(d.resource, ns, name)
  const dryRun = isDryRun(r.url) || (opts.dryRun ?? []).includes('All')
  sendJSON(r.res, 200, deleteOne(r, d, o, opts, dryRun))
  return true
}

async function deleteCollection (r: ResourceRequest, d: ResourceDefinition, ns: string | undefined): Promise<boolean> {
  if (d.resource === 'namespaces') throw methodNotSupported(d.resource, 'deletecollection')
  const opts = await deleteOptions(r)
  const match = objectMatcher({ labelSelector: r.url.searchParams.get('labelSelector'), fieldSelector: r.url.searchParams.get('fieldSelector'), resource: d.resource })
  const dryRun = isDryRun(r.url) || (opts.dryRun ?? []).includes('All')
  const items: unknown[] = []
  for (const o of r.ctx.store.list(d.resource, ns).filter(match)) {
    const out = deleteOne(r, d, o, opts, dryRun)
    items.push((out as KObject).kind === 'Status' ? listItem(o) : listItem(out as KObject))
  }
  sendJSON(r.res, 200, { kind: d.listKind, apiVersion: apiVersionOf(d), metadata: { resourceVersion: String(r.ctx.store.resourceVersion) }, items })
  return true
}

async function handleReview (r: ResourceRequest): Promise<boolean> {
  const { info } = r
  const known = (info.apiGroup === 'authentication.k8s.io' && (info.resource === 'tokenreviews' || info.resource === 'selfsubjectreviews')) ||
    (info.apiGroup === 'authorization.k8s.io' && (info.resource === 'subjectaccessreviews' || info.resource === 'selfsubjectaccessreviews' || info.resource === 'selfsubjectrulesreviews'))
  if (!known || info.apiVersion !== 'v1' || info.namespace || info.parts.length > 1) return false
  if (info.verb !== 'create') throw methodNotSupported(info.resource, info.verb)
  const raw = await readBody(r.req)
  if (info.resource === 'selfsubjectreviews') {
    // `kubectl auth whoami`: the review has no spec; the answer is the requester as authenticated (after impersonation)
    if (mediaType(r.req) === PROTOBUF_CONTENT_TYPE) {
      if (!raw.subarray(0, 4).equals(Buffer.from('k8s\0', 'latin1'))) throw badRequest('provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]')
    } else {
      decodeObject(r.req, raw)
    }
    const userInfo: Record<string, unknown> = { username: r.user.username }
    if (r.user.uid) userInfo.uid = r.user.uid
    userInfo.groups = r.user.groups
    if (r.user.extra && Object.keys(r.user.extra).length) userInfo.extra = r.user.extra
    sendJSON(r.res, 201, { kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1', metadata: { creationTimestamp: null }, status: { userInfo } })
    return true
  }
  const body = decodeObject(r.req, raw)
  let out: KObject
  if (info.resource === 'tokenreviews') out = reviewToken(body, r.ctx.authn)
  else if (info.resource === 'subjectaccessreviews') out = reviewSubjectAccess(body, r.ctx.rbac)
  else if (info.resource === 'selfsubjectrulesreviews') out = reviewSelfSubjectRules(body, r.user, r.ctx.rbac)
  else out = reviewSelfSubjectAccess(body, r.user, r.ctx.rbac)
  sendJSON(r.res, 201, out)
  return true
}

// ---- pod subresources ----

interface ContainerLike { name: string }

function names (list: unknown): string[] {
  return (Array.isArray(list) ? list as ContainerLike[] : []).map(c => c.name)
}

/** validateContainer of pkg/registry/core/pod/strategy.go. */
export function pickContainer (pod: KObject, requested: string | null): string {
  const spec = (pod.spec ?? {}) as Obj
  const regular = names(spec.containers)
  const init = names(spec.initContainers)
  const eph = names(spec.ephemeralContainers)
  const podName = pod.metadata.name ?? ''
  if (!requested) {
    if (regular.length === 1 && regular[0]) return regular[0]
    if (regular.length === 0) throw badRequest(`a container name must be specified for pod ${podName}`)
    let msg = `a container name must be specified for pod ${podName}, choose one of: [${regular.join(' ')}]`
    if (init.length) msg += ` or one of the init containers: [${init.join(' ')}]`
    if (eph.length) msg += ` or one of the ephemeral containers: [${eph.join(' ')}]`
    throw badRequest(msg)
  }
  if (![...regular, ...init, ...eph].includes(requested)) throw badRequest(`container ${requested} is not valid for pod ${podName}`)
  return requested
}

function containerState (pod: KObject, container: string): Obj | undefined {
  const st = (pod.status ?? {}) as Obj
  for (const k of ['containerStatuses', 'initContainerStatuses', 'ephemeralContainerStatuses']) {
    const cs = ((st[k] ?? []) as Array<{ name: string, state?: Obj, lastState?: Obj }>).find(s => s.name === container)
    if (cs) return cs.state ?? {}
  }
  return undefined
}

function requireHost (pod: KObject): void {
  if (!(pod.spec as Obj | undefined)?.nodeName) throw badRequest(`pod ${pod.metadata.name ?? ''} does not have a host assigned`)
}

/** The kubelet refuses streams for containers that never started. */
function requireStarted (pod: KObject, container: string): Obj {
  const state = containerState(pod, container)
  const waiting = state?.waiting as Obj | undefined
  if (!state || (waiting && !state.running && !state.terminated)) {
    // kubelet validateContainerLogStatus wording
    const reason = String(waiting?.reason ?? 'ContainerCreating')
    const why = reason === 'ErrImagePull' ? "image can't be pulled" : reason === 'ImagePullBackOff' ? 'trying and failing to pull image' : reason
    throw badRequest(`container "${container}" in pod "${pod.metadata.name ?? ''}" is waiting to start: ${why}`)
  }
  return state
}

/** What the kubelet answers when it cannot attach: its HTTP status and plain-text body. */
export interface KubeletRefusal { httpStatus: number, text: string }

export type AttachResolution =
  | { proc: ContainerProcess, opts: AttachOptions, refusal?: undefined }
  | { refusal: KubeletRefusal, proc?: undefined, opts?: undefined }

function containerSpecOf (pod: KObject, container: string): Obj | undefined {
  const spec = (pod.spec ?? {}) as Obj
  for (const k of ['containers', 'initContainers', 'ephemeralContainers']) {
    const c = ((spec[k] ?? []) as Obj[]).find(x => x.name === container)
    if (c) return c
  }
  return undefined
}

/**
 * The kubelet's half of pods/attach, for a request the API server has already accepted.
 * - pkg/kubelet/cri/streaming/remotecommand/httpstream.go NewOptions: a requested tty drops
 *   stderr silently; no stream at all is a 400 "you must specify at least 1 of stdin, stdout, stderr".
 * - pkg/kubelet/kubelet_pods.go GetAttach: the container must be running (findContainer looks
 *   only at running containers) — else "container C not found in pod NAME_NAMESPACE" — and the
 *   tty used is the container spec's TTY, never the request's.
 * - pkg/kubelet/cri/streaming/server.go validateAttachRequest (CRI runtime): tty with stderr is
 *   InvalidArgument "tty and stderr cannot both be true".
 * Runtime errors reach the client through streaming.WriteError (errors.go): 500 (404 for
 * codes.NotFound) with err.Error() as a plain-text body.
 */
export function kubeletAttach (ctx: ServerContext, pod: KObject, container: string, url: URL): AttachResolution {
  const q = (k: string): boolean => queryBool(url.searchParams.get(k))
  const stdin = q('stdin')
  const stdout = q('stdout')
  let stderr = q('stderr')
  if (q('tty') && stderr) stderr = false
  if (!stdin && !stdout && !stderr) return { refusal: { httpStatus: 400, text: 'you must specify at least 1 of stdin, stdout, stderr' } }
  const ns = pod.metadata.namespace ?? ''
  const name = pod.metadata.name ?? ''
  const state = containerState(pod, container)
  const proc = ctx.processes.get(ns, name, container)
  if (!state?.running || !proc || proc.exited) return { refusal: { httpStatus: 500, text: `container ${container} not found in pod ${name}_${ns}` } }
  const tty = containerSpecOf(pod, container)?.tty === true
  if (tty && stderr) return { refusal: { httpStatus: 500, text: 'rpc error: code = InvalidArgument desc = tty and stderr cannot both be true' } }
  return { proc, opts: { stdin, stdout, stderr, tty, ...(ctx.streamIdleTimeoutMs > 0 ? { idleTimeoutMs: ctx.streamIdleTimeoutMs } : {}) } }
}

/**
 * Resolves pods/attach: the API server's AttachLocation checks (strategy.go streamLocation:
 * container choice, a host assigned) throw a 4xx Status before any upgrade; the kubelet's
 * answer (kubeletAttach) comes back as a resolution the caller delivers per protocol.
 */
export function attachTarget (ctx: ServerContext, info: RequestInfo, url: URL): AttachResolution {
  const pod = ctx.store.mustGet('pods', info.namespace, info.name)
  const container = pickContainer(pod, url.searchParams.get('container'))
  requireHost(pod)
  return kubeletAttach(ctx, pod, container, url)
}

async function handlePodSubresource (r: ResourceRequest, d: ResourceDefinition): Promise<boolean> {
  const { ctx, info, url } = r
  const ns = info.namespace
  const name = info.name
  switch (info.subresource) {
    case 'ephemeralcontainers': return ephemeralContainers(r, d)
    case 'status': {
      if (info.verb === 'get') {
        sendJSON(r.res, 200, present(d, ctx.store.mustGet('pods', ns, name)))
        return true
      }
      if (info.verb !== 'patch' && info.verb !== 'update') throw methodNotSupported('pods/status', info.verb)
      const body = await readBody(r.req)
      const old = ctx.store.mustGet('pods', ns, name)
      const incoming = info.verb === 'patch' ? applyPatch(present(d, old), mediaType(r.req), body, d.patchMeta) : decodeObject(r.req, body)
      if (incoming.metadata.resourceVersion && incoming.metadata.resourceVersion !== old.metadata.resourceVersion) throw conflict('pods', name, 'the object has been modified; please apply your changes to the latest version and try again')
      // status strategy: only status changes are kept
      const next = structuredClone(old)
      next.status = incoming.status
      recordWrite(next, old, writeOf(r, d, 'status'))
      const stored = isDryRun(url) ? next : ctx.store.update('pods', next)
      sendJSON(r.res, 200, present(d, stored))
      return true
    }
    case 'log': {
      if (info.verb !== 'get') throw methodNotSupported('pods/log', info.verb)
      const pod = ctx.store.mustGet('pods', ns, name)
      const container = pickContainer(pod, url.searchParams.get('container'))
      requireHost(pod)
      requireStarted(pod, container)
      const num = (k: string): number | undefined => {
        const v = url.searchParams.get(k)
        return v !== null && /^\d+$/.test(v) ? Number(v) : undefined
      }
      serveLogs(r.res, ctx.processes.get(ns, name, container), { follow: queryBool(url.searchParams.get('follow')), tailLines: num('tailLines'), sinceSeconds: num('sinceSeconds'), timestamps: queryBool(url.searchParams.get('timestamps')), limitBytes: num('limitBytes'), pod: name, container })
      return true
    }
    case 'attach': {
      // reached only without an Upgrade header: AttachLocation's checks run first, then the
      // upgrade-aware proxy answers NewBadRequest("Upgrade request required")
      const pod = ctx.store.mustGet('pods', ns, name)
      pickContainer(pod, url.searchParams.get('container'))
      requireHost(pod)
      throw badRequest('Upgrade request required')
    }
  }
  return false
}

async function ephemeralContainers (r: ResourceRequest, d: ResourceDefinition): Promise<boolean> {
  const { ctx, info } = r
  const ns = info.namespace
  const name = info.name
  if (info.verb === 'get') {
    sendJSON(r.res, 200, present(d, ctx.store.mustGet('pods', ns, name)))
    return true
  }
  if (info.verb !== 'patch' && info.verb !== 'update') throw methodNotSupported('pods/ephemeralcontainers', info.verb)
  const body = await readBody(r.req)
  const old = ctx.store.mustGet('pods', ns, name)
  let incoming: KObject
  if (info.verb === 'patch') {
    incoming = applyPatch(present(d, old), mediaType(r.req), body, podPatchMeta)
  } else {
    incoming = decodeObject(r.req, body)
    checkBodyScope(d, incoming, ns, name)
  }
  const wantRV = incoming.metadata.resourceVersion
  if (wantRV && wantRV !== old.metadata.resourceVersion) throw conflict('pods', name, 'the object has been modified; please apply your changes to the latest version and try again')
  let next = prepareEphemeralContainersUpdate(old, incoming)
  next = defaultEphemeralContainers(next)
  validateEphemeralContainersUpdate(next, old)
  admitPodSecurity(r, next, old, 'ephemeralcontainers')
  recordWrite(next, old, writeOf(r, d, 'ephemeralcontainers'))
  if (isDryRun(r.url)) {
    sendJSON(r.res, 200, present(d, next))
    return true
  }
  const stored = ctx.store.update('pods', next, { expectedResourceVersion: old.metadata.resourceVersion })
  ctx.lifecycle.ephemeralAdded(stored)
  sendJSON(r.res, 200, present(d, stored))
  return true
}
