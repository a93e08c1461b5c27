// Watch streaming as the API server's watch handler + watch cache do it:
// newline-terminated JSON `{"type":..,"object":..}` values on a chunked 200
// response; 410 Expired as HTTP before the stream starts, as an ERROR event
// after; bookmarks only with allowWatchBookmarks=true; server-side timeout.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { KObject } from '../apimachinery/types.ts'
import type { Store, StoreEvent } from '../storage/store.ts'
import type { Matcher } from '../apimachinery/selectors.ts'
import type { FaultController } from './faults.ts'
import { StatusError, badRequest, expired } from '../apimachinery/status.ts'

export interface WatchOptions {
  store: Store
  resource: string
  kind: string
  apiVersion: string
  namespace?: string
  match: Matcher
  /** The `resourceVersion` query parameter ('' / '0' / undefined = send the current state as ADDED first). */
  resourceVersion?: string | null
  allowBookmarks: boolean
  /** Watch-list (`sendInitialEvents=true`): current state as ADDED, then a BOOKMARK marked initial-events-end. */
  sendInitialEvents?: boolean
  timeoutMs: number
  bookmarkIntervalMs: number
  faults?: FaultController
  /**
   * Served by the watch cache (default). false = straight from the etcd3 watcher (resources with
   * no cache, like events): a compacted resourceVersion is its "The resourceVersion for the
   * provided watch is too old." (etcd3/errors.go interpretWatchError) instead of the cacher's
   * "too old resource version: N (M)".
   */
  watchCache?: boolean
  /** Turns a stored object into what the wire shows (kind/apiVersion). */
  present: (o: KObject) => KObject
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'

/** Maps a store change onto what a watcher with this filter sees (watch cache semantics for selector transitions). */
export function filterEvent (e: StoreEvent, inScope: (o: KObject) => boolean): { type: WatchEventType, object: KObject } | undefined {
  const cur = inScope(e.object)
  const prev = e.previous ? inScope(e.previous) : false
  switch (e.type) {
    case 'ADDED': return cur ? { type: 'ADDED', object: e.object } : undefined
    case 'DELETED': return (prev || cur) ? { type: 'DELETED', object: e.object } : undefined
    case 'MODIFIED':
      if (cur && prev) return { type: 'MODIFIED', object: e.object }
      if (cur) return { type: 'ADDED', object: e.object }
      if (prev) return { type: 'DELETED', object: e.object }
      return undefined
  }
  return undefined
}

function parseRV (rv: string | null | undefined): number | undefined {
  if (rv === undefined || rv === null || rv === '' || rv === '0') return undefined
  if (!/^\d+$/.test(rv)) throw badRequest(`invalid resource version: ${rv}`)
  return Number(rv)
}

/** Starts a watch; throws StatusError (before anything is written) for a malformed version; a too-old one is an ERROR event. Returns a closer. */
export function serveWatch (req: IncomingMessage, res: ServerResponse, opts: WatchOptions): () => void {
  const { store } = opts
  const inScope = (o: KObject): boolean => (!opts.namespace || o.metadata.namespace === opts.namespace) && opts.match(o)
  const fromRV = parseRV(opts.resourceVersion)
  const forced = opts.faults?.takeExpireNextWatch() ?? false
  // 'http' is a fault, not server behaviour: a proxy or old server refusing before the stream starts.
  if (forced === 'http') throw expired(`too old resource version: ${fromRV ?? store.resourceVersion} (${store.resourceVersion})`)

  const queue: StoreEvent[] = []
  let started = false
  let closed = false
  let sent = 0
  const timers: NodeJS.Timeout[] = []

  const write = (type: WatchEventType, object: unknown): void => {
    if (closed) return
    const line = JSON.stringify({ type, object }) + '\n'
    if (type !== 'BOOKMARK' && type !== 'ERROR') sent++
    const limit = opts.faults?.config.dropWatchAfterEvents ?? 0
    if (limit > 0 && sent >= limit) {
      close()
      // cut the connection (no clean chunked end) once the last event is on the wire
      res.write(line, () => res.destroy())
      return
    }
    res.write(line)
  }
  const deliver = (e: StoreEvent): void => {
    if (e.resource !== opts.resource) return
    const out = filterEvent(e, inScope)
    if (out) write(out.type, opts.present(out.object))
  }
  const listener = (e: StoreEvent): void => {
    if (started) deliver(e)
    else queue.push(e)
  }

  const sendInitial = opts.sendInitialEvents === true || fromRV === undefined
  const initial = sendInitial ? store.list(opts.resource, opts.namespace).filter(opts.match) : []
  let unsubscribe: () => void
  try {
    unsubscribe = store.watch(opts.sendInitialEvents || fromRV === undefined ? store.resourceVersion : fromRV, listener, opts.resource)
  } catch (err) {
    // A too-old version is not an HTTP error for a watch: once the request is authorized and
    // the version parsed, the cacher (and etcd3 watch) answer 200 with one ERROR event carrying
    // the 410 Expired Status (cacher.go Watch: newErrWatcher), then end the stream.
    if (!(err instanceof StatusError)) throw err
    const status = opts.watchCache === false ? expired('The resourceVersion for the provided watch is too old.').status : err.status
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' })
    res.end(JSON.stringify({ type: 'ERROR', object: status }) + '\n')
    return () => {}
  }
  const initialRV = store.resourceVersion

  const close = (): void => {
    if (closed) return
    closed = true
    unsubscribe()
    for (const t of timers) clearTimeout(t)
  }

  res.writeHead(200, {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-cache, private',
    'Transfer-Encoding': 'chunked'
  })
  res.flushHeaders()
  started = true
  for (const o of initial) write('ADDED', opts.present(o))
  if (opts.sendInitialEvents && opts.allowBookmarks) {
    write('BOOKMARK', { kind: opts.kind, apiVersion: opts.apiVersion, metadata: { resourceVersion: String(initialRV), annotations: { 'k8s.io/initial-events-end': 'true' } } })
  }
  for (const e of queue.splice(0)) deliver(e)

  if (forced === 'event') {
    const st = expired('The resourceVersion for the provided watch is too old.').status
    write('ERROR', st)
    close()
    res.end()
    return close
  }

  const bookmark = (): void => {
    if (opts.allowBookmarks) write('BOOKMARK', { kind: opts.kind, apiVersion: opts.apiVersion, metadata: { resourceVersion: String(store.resourceVersion) } })
  }
  if (opts.allowBookmarks && opts.bookmarkIntervalMs > 0) {
    const tick = (): void => {
      bookmark()
      if (!closed) timers.push(setTimeout(tick, opts.bookmarkIntervalMs).unref())
    }
    timers.push(setTimeout(tick, opts.bookmarkIntervalMs).unref())
  }
  timers.push(setTimeout(() => {
    // the watch cache sends a last bookmark so the client can resume exactly
    bookmark()
    close()
    res.end()
  }, opts.timeoutMs).unref())

  res.on('close', close)
  return () => {
    if (closed) return
    close()
    res.end()
  }
}
