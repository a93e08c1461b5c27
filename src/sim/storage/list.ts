// LIST as the API server answers it from etcd (k8s.io/apiserver
// pkg/storage/etcd3/store.go GetList), for every resource the sim serves:
// - `limit` pages in key order (namespace/name); a page that stops early
//   carries `metadata.continue` and, without selectors, `remainingItemCount`;
// - `continue` tokens are base64url JSON {"v":"meta.k8s.io/v1","rv":N,
//   "start":"<key>\u0000"} (pkg/storage/continue.go EncodeContinue /
//   DecodeContinue); later pages are read at the first page's resourceVersion;
//   a token older than the compacted revision is 410 Expired carrying a fresh
//   token at rv -1 (interpretListError, handleCompactedErrorForPaging);
// - `resourceVersion` + `resourceVersionMatch` (NotOlderThan / Exact) with the
//   request validation of apimachinery/pkg/apis/meta/internalversion/
//   validation ValidateListOptions (422 Invalid on ListOptions.meta.k8s.io).
import type { KObject } from '../apimachinery/types.ts'
import type { Store } from './store.ts'
import { StatusError, badRequest, expired, invalid } from '../apimachinery/status.ts'
import type { FieldError } from '../apimachinery/status.ts'

export interface ListQuery {
  limit?: string | null
  continue?: string | null
  resourceVersion?: string | null
  resourceVersionMatch?: string | null
}

export interface ListPage {
  items: KObject[]
  resourceVersion: string
  continue?: string
  remainingItemCount?: number
}

const CONTINUE_VERSION = 'meta.k8s.io/v1'
export const CONTINUE_EXPIRED = 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.'
export const LIST_EXPIRED = 'The resourceVersion for the provided list is too old.'

/** ValidateListOptions for a non-watch list. */
export function validateListOptions (q: ListQuery): void {
  const errs: FieldError[] = []
  const match = q.resourceVersionMatch ?? ''
  const rv = q.resourceVersion ?? ''
  if (match !== '') {
    if (rv === '') errs.push({ type: 'FieldValueForbidden', field: 'resourceVersionMatch', detail: 'resourceVersionMatch is forbidden unless resourceVersion is provided' })
    if ((q.continue ?? '') !== '') errs.push({ type: 'FieldValueForbidden', field: 'resourceVersionMatch', detail: 'resourceVersionMatch is forbidden when continue is provided' })
    if (match !== 'Exact' && match !== 'NotOlderThan') errs.push({ type: 'FieldValueNotSupported', field: 'resourceVersionMatch', badValue: match, detail: 'supported values: "Exact", "NotOlderThan", ""' })
    if (match === 'Exact' && rv === '0') errs.push({ type: 'FieldValueForbidden', field: 'resourceVersionMatch', detail: 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"' })
  }
  if (errs.length > 0) throw invalid('ListOptions', '', errs, 'meta.k8s.io')
}

export function encodeContinue (startKey: string, rv: number): string {
  return Buffer.from(JSON.stringify({ v: CONTINUE_VERSION, rv, start: startKey })).toString('base64url')
}

/** DecodeContinue: the start key and resourceVersion, or a 400 "invalid continue token: …". */
export function decodeContinue (token: string): { start: string, rv: number } {
  const bad = (why: string): StatusError => badRequest(`invalid continue token: ${why}`)
  if (!/^[A-Za-z0-9_-]*$/.test(token)) throw bad('continue key is not valid: illegal base64 data')
  let c: { v?: unknown, rv?: unknown, start?: unknown }
  try { c = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as typeof c } catch { throw bad('continue key is not valid: invalid JSON') }
  if (c === null || typeof c !== 'object' || c.v !== CONTINUE_VERSION) throw bad('server does not recognize this encoded key')
  if (typeof c.rv !== 'number' || !Number.isInteger(c.rv) || c.rv === 0) throw bad('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)')
  if (typeof c.start !== 'string' || c.start === '') throw bad('continue key is not valid: encoded start key empty (version meta.k8s.io/v1)')
  // path.Clean defence against traversal out of the listed prefix
  if (c.start.split('/').some(seg => seg === '..' || seg === '.') || c.start.startsWith('/')) throw bad(`continue key is not valid: ${c.start}`)
  return { start: c.start, rv: c.rv }
}

/** The object's key relative to the list's prefix (namespace/name for a cluster-wide list of a namespaced resource). */
function relativeKey (o: KObject, namespaced: boolean, listNamespace: string | undefined): string {
  const name = o.metadata.name ?? ''
  return namespaced && !listNamespace ? `${o.metadata.namespace ?? ''}/${name}` : name
}

function parseRV (rv: string): number {
  if (!/^\d+$/.test(rv)) throw badRequest(`invalid resource version: ${rv}`)
  return Number(rv)
}

function tooLarge (rv: number, current: number): StatusError {
  return new StatusError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `Too large resource version: ${rv}, current: ${current}`, reason: 'Timeout', details: { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 }, code: 504 })
}

/** One LIST page (the caller filters nothing more: `match` is applied here, before the limit). */
export function listPage (store: Store, a: { resource: string, namespaced: boolean, namespace?: string, match: (o: KObject) => boolean, selectors: boolean, query: ListQuery }): ListPage {
  const q = a.query
  validateListOptions(q)
  const limitRaw = q.limit ?? ''
  const limit = /^\d+$/.test(limitRaw) ? Number(limitRaw) : 0
  let atRV = store.resourceVersion
  let start: string | undefined
  if (q.continue) {
    if (q.resourceVersion && q.resourceVersion !== '0') throw badRequest('specifying resource version is not allowed when using continue')
    const c = decodeContinue(q.continue)
    start = c.start
    if (c.rv > 0) {
      if (c.rv < store.horizon) {
        // the page's snapshot is compacted away: 410 with a token to go on at the latest version
        const err = expired(CONTINUE_EXPIRED)
        ;(err.status.metadata as Record<string, unknown>).continue = encodeContinue(start, -1)
        throw err
      }
      atRV = Math.min(c.rv, store.resourceVersion)
    }
  } else if (q.resourceVersion && q.resourceVersion !== '0') {
    const rv = parseRV(q.resourceVersion)
    if (q.resourceVersionMatch === 'Exact') {
      if (rv < store.horizon) throw expired(LIST_EXPIRED)
      if (rv > store.resourceVersion) throw tooLarge(rv, store.resourceVersion)
      atRV = rv
    } else if (rv > store.resourceVersion) {
      throw tooLarge(rv, store.resourceVersion)
    }
  }
  const all = store.listRefsAt(a.resource, a.namespace, atRV)
    .map(o => ({ key: relativeKey(o, a.namespaced, a.namespace), o }))
    .sort((x, y) => x.key < y.key ? -1 : x.key > y.key ? 1 : 0)
  const from = start === undefined ? 0 : all.findIndex(x => x.key >= start)
  const rest = from === -1 ? [] : all.slice(from)
  const items: KObject[] = []
  let last = -1
  for (let i = 0; i < rest.length; i++) {
    if (limit > 0 && items.length >= limit) break
    const x = rest[i]!
    last = i
    if (a.match(x.o)) items.push(structuredClone(x.o))
  }
  const page: ListPage = { items, resourceVersion: String(atRV) }
  if (limit > 0 && items.length >= limit && last < rest.length - 1) {
    page.continue = encodeContinue(rest[last]!.key + '\u0000', atRV)
    if (!a.selectors) page.remainingItemCount = rest.length - 1 - last
  }
  return page
}
