// DELETE of one object or a collection (apiserver pkg/endpoints/handlers/delete.go):
// DeleteOptions, preconditions, and what each resource's registry does — pods
// delete gracefully (strategy CheckGracefulDelete), namespaces take their
// pods and events with them.
import type { KObject } from '../../apimachinery/types.ts'
import type { ResourceRequest } from '../context.ts'
import { conflict, methodNotSupported } from '../../apimachinery/status.ts'
import { objectMatcher } from '../../apimachinery/selectors.ts'
import { apiVersionOf, listItem, present, type ResourceDefinition } from '../../registry/definitions.ts'
import { decodeObject, readBody, sendJSON } from '../http-util.ts'
import { isDryRun } from './request.ts'

type Obj = Record<string, unknown>

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

export async function del (r: ResourceRequest, d: ResourceDefinition, ns: string | undefined, name: string): Promise<boolean> {
  const opts = await deleteOptions(r)
  const o = r.ctx.store.mustGet(d.resource, ns, name)
  const dryRun = isDryRun(r.url) || (opts.dryRun ?? []).includes('All')
  sendJSON(r.res, 200, deleteOne(r, d, o, opts, dryRun))
  return true
}

export async function deleteCollection (r: ResourceRequest, d: ResourceDefinition, ns: string | undefined): Promise<boolean> {
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
