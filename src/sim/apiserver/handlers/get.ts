// GET of one object, LIST and WATCH (apiserver pkg/endpoints/handlers/get.go
// GetResource, ListResource — which serves watches too), as JSON or as Tables.
import type { KObject } from '../../apimachinery/types.ts'
import type { ResourceRequest } from '../context.ts'
import { apiVersionOf, listItem, present, type ResourceDefinition } from '../../registry/definitions.ts'
import { objectMatcher } from '../../apimachinery/selectors.ts'
import { listPage } from '../../storage/list.ts'
import { queryBool, sendJSON, wantsTable } from '../http-util.ts'
import { serveWatch } from '../watch.ts'
import { toTable } from '../table.ts'

export function list (r: ResourceRequest, d: ResourceDefinition, ns: string | undefined): boolean {
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

export function watch (r: ResourceRequest, d: ResourceDefinition, ns: string | undefined, name: string | undefined): boolean {
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

export function get (r: ResourceRequest, d: ResourceDefinition, ns: string | undefined, name: string): boolean {
  const o = r.ctx.store.mustGet(d.resource, ns, name)
  if (wantsTable(r.req)) {
    sendJSON(r.res, 200, toTable(d.resource, [present(d, o)], { resourceVersion: o.metadata.resourceVersion, includeObject: r.url.searchParams.get('includeObject'), now: r.ctx.store.now() }))
    return true
  }
  sendJSON(r.res, 200, present(d, o))
  return true
}
