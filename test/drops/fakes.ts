// Fakes for the drop stream units: an SSE response with a controllable
// socket, an authorizer with a mutable RBAC table, and an in-memory events
// API with history, 410s and failures.
import { EventEmitter } from 'node:events'
import type { SseResponse } from '../../src/drops/hub.ts'
import type { DropAuthorizer } from '../../src/drops/access.ts'
import { UpstreamError, type EventListPage, type EventScope, type EventsUpstream, type WatchEvent } from '../../src/drops/upstream.ts'

export class FakeResponse extends EventEmitter implements SseResponse {
  out = ''
  /** When true, writes stay unsent (a reader that stopped reading). */
  stalled = false
  unsent = 0
  /** write() calls that carried data (heartbeats and control frames included). */
  writes = 0
  /** The chunks written, as given (to see which are the same object). */
  chunks: Array<string | Buffer> = []
  destroyed = false
  writableEnded = false

  get writableLength (): number { return this.unsent }

  #pending = ''

  write (chunk: string | Buffer): boolean {
    if (this.destroyed || this.writableEnded) return false
    this.writes++
    this.chunks.push(chunk)
    if (this.stalled) {
      this.#pending += chunk
      this.unsent += chunk.length
      return false
    }
    this.out += chunk
    return true
  }

  /** The reader reads again: flush what was held and signal 'drain'. */
  unstall (): void {
    this.stalled = false
    this.out += this.#pending
    this.#pending = ''
    this.unsent = 0
    this.emit('drain')
  }

  end (): void {
    if (this.writableEnded) return
    this.writableEnded = true
    setImmediate(() => this.emit('close'))
  }

  destroy (): void {
    if (this.destroyed) return
    this.destroyed = true
    this.emit('close')
  }

  /** Parsed SSE events written so far (comments skipped). */
  events (): Array<{ event: string, id?: string, data: string }> {
    const out: Array<{ event: string, id?: string, data: string }> = []
    for (const block of this.out.split('\n\n')) {
      const lines = block.split('\n').filter(l => l !== '' && !l.startsWith(':'))
      const data = lines.filter(l => l.startsWith('data: ')).map(l => l.slice(6)).join('\n')
      if (data === '') continue
      const event = lines.find(l => l.startsWith('event: '))?.slice(7) ?? 'message'
      const id = lines.find(l => l.startsWith('id: '))?.slice(4)
      out.push({ event, id, data })
    }
    return out
  }
}

/** namespace → allowed; '' = cluster scope. Answers after a tick, like a real review. */
export class FakeAuthorizer implements DropAuthorizer {
  allowed = new Set<string>()
  calls = 0
  fail = false

  async authorize (_who: unknown, attrs: { namespace?: string }): Promise<{ allowed: boolean }> {
    this.calls++
    await new Promise(resolve => setImmediate(resolve))
    if (this.fail) throw new Error('review failed')
    return { allowed: this.allowed.has(attrs.namespace ?? '') }
  }
}

export function eventObject (name: string, namespace: string, count: number, rv: number): Record<string, unknown> {
  return {
    kind: 'Event',
    apiVersion: 'v1',
    metadata: { name, namespace, uid: `uid-${namespace}-${name}`, resourceVersion: String(rv) },
    involvedObject: { kind: 'Pod', namespace, name: name.split('.')[0], apiVersion: 'v1' },
    reason: 'PacketDrop',
    message: 'Packet dropped when sending traffic to payments (10.0.0.5) on port 5432/TCP',
    source: { component: 'kube-iptables-tailer' },
    count,
    type: 'Warning'
  }
}

interface Change { type: 'ADDED' | 'MODIFIED' | 'DELETED', object: Record<string, unknown>, rv: number }

interface LiveWatch { from: number, onEvent: (e: WatchEvent) => void, end: (err?: Error) => void, sent: number, namespace?: string }

/** An in-memory API server for core/v1 Events. */
export class FakeEventsApi implements EventsUpstream {
  rv = 100
  objects = new Map<string, Record<string, unknown>>()
  history: Change[] = []
  /** Changes older than this are compacted: a watch from before it gets 410. */
  horizon = 100
  lists: Array<{ scope: EventScope, continue?: string }> = []
  watches: Array<{ scope: EventScope, resourceVersion: string }> = []
  /** Errors thrown by the next calls (list or watch), in order. */
  failures: Error[] = []
  /** The next watch sends this many events, then ends normally (0 = unlimited). */
  endAfter = 0
  /** Next watch delivers its replay then an ERROR 410 event. */
  expireNextAsEvent = false
  pageSize: number | undefined
  #live = new Set<LiveWatch>()

  get openWatches (): number { return this.#live.size }

  put (namespace: string, name: string, count: number): void {
    const key = `${namespace}/${name}`
    const type = this.objects.has(key) ? 'MODIFIED' : 'ADDED'
    const object = eventObject(name, namespace, count, ++this.rv)
    this.objects.set(key, object)
    this.#emit({ type, object, rv: this.rv })
  }

  remove (namespace: string, name: string): void {
    const key = `${namespace}/${name}`
    const old = this.objects.get(key)
    if (!old) return
    this.objects.delete(key)
    const object = structuredClone(old)
    ;(object.metadata as Record<string, unknown>).resourceVersion = String(++this.rv)
    this.#emit({ type: 'DELETED', object, rv: this.rv })
  }

  /** Forget history up to now, as etcd compaction does. */
  compact (): void {
    this.horizon = this.rv
    this.history = []
  }

  bookmark (): void {
    for (const w of this.#live) w.onEvent({ type: 'BOOKMARK', object: { kind: 'Event', apiVersion: 'v1', metadata: { resourceVersion: String(this.rv) } } })
  }

  /** End every open watch normally (server timeout). */
  endWatches (): void {
    for (const w of [...this.#live]) w.end()
  }

  #emit (c: Change): void {
    this.history.push(c)
    for (const w of [...this.#live]) this.#deliver(w, c)
  }

  #inScope (scope: { namespace?: string }, o: Record<string, unknown>): boolean {
    return scope.namespace === undefined || (o.metadata as { namespace: string }).namespace === scope.namespace
  }

  #deliver (w: LiveWatch, c: Change): void {
    if (!this.#inScope(w, c.object)) return
    w.onEvent({ type: c.type, object: structuredClone(c.object) })
    w.sent++
    if (this.endAfter > 0 && w.sent >= this.endAfter) w.end()
  }

  async list (scope: EventScope, page: { limit: number, continue?: string }): Promise<EventListPage> {
    this.lists.push({ scope, continue: page.continue })
    await new Promise(resolve => setImmediate(resolve))
    const failure = this.failures.shift()
    if (failure) throw failure
    const all = [...this.objects.values()].filter(o => this.#inScope(scope, o))
    const size = this.pageSize ?? all.length
    const start = page.continue ? Number(page.continue) : 0
    const items = all.slice(start, start + size).map(o => structuredClone(o))
    const next = start + size < all.length ? String(start + size) : undefined
    return { items, resourceVersion: String(this.rv), continue: next }
  }

  async watch (scope: EventScope, from: { resourceVersion: string, signal: AbortSignal }, onEvent: (e: WatchEvent) => void): Promise<void> {
    this.watches.push({ scope, resourceVersion: from.resourceVersion })
    await new Promise(resolve => setImmediate(resolve))
    // An abort during the await above has already fired: a listener added later would never
    // run and the watch would hang. A real request aborted before it is sent rejects at once.
    if (from.signal.aborted) throw new Error('aborted')
    const failure = this.failures.shift()
    if (failure) throw failure
    const fromRv = Number(from.resourceVersion)
    if (fromRv < this.horizon) throw new UpstreamError(`too old resource version: ${fromRv} (${this.horizon})`, 410, 'Expired')
    return await new Promise<void>((resolve, reject) => {
      const w: LiveWatch = {
        from: fromRv,
        onEvent,
        sent: 0,
        namespace: scope.namespace,
        end: (err?: Error) => {
          if (!this.#live.delete(w)) return
          from.signal.removeEventListener('abort', abort)
          if (err) reject(err)
          else resolve()
        }
      }
      const abort = (): void => w.end(new Error('aborted'))
      from.signal.addEventListener('abort', abort, { once: true })
      this.#live.add(w)
      for (const c of this.history.filter(c => c.rv > fromRv)) {
        if (!this.#live.has(w)) return
        this.#deliver(w, c)
      }
      if (this.expireNextAsEvent) {
        this.expireNextAsEvent = false
        w.end(new UpstreamError('The resourceVersion for the provided watch is too old.', 410, 'Expired'))
      }
    })
  }
}
