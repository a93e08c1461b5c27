// In-memory object storage of the simulated API server: one global
// resourceVersion counter (like etcd's revision), objects per resource, and a
// bounded history of changes so watches can resume from a resourceVersion and
// get 410 Expired once it has fallen out of the window (like the watch cache).
import { randomUUID } from 'node:crypto'
import type { KObject } from '../apimachinery/types.ts'
import { alreadyExists, conflict, expired, notFound } from '../apimachinery/status.ts'

export type StoreEventType = 'ADDED' | 'MODIFIED' | 'DELETED'

export interface StoreEvent {
  type: StoreEventType
  resource: string
  /** The object after the change (for DELETED: its last state, with the deletion's resourceVersion). */
  object: KObject
  /** The object before the change (MODIFIED / DELETED). */
  previous?: KObject
  rv: number
}

export type StoreListener = (event: StoreEvent) => void

export interface StoreOptions {
  /** How many change events are kept for watch resumption. */
  historySize?: number
  /** Resources whose objects get metadata.generation (registries whose strategy sets it; default pods). */
  generationFor?: string[]
  now?: () => Date
}

export interface UpdateOptions {
  /** When set, the update fails with 409 Conflict unless the stored resourceVersion equals it. */
  expectedResourceVersion?: string
}

function key (namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name
}

export class Store {
  readonly #objects = new Map<string, Map<string, KObject>>()
  readonly #history: StoreEvent[] = []
  /** Open watches, with the resource each one serves (for watchersOf). */
  readonly #listeners = new Map<StoreListener, string | undefined>()
  readonly #historySize: number
  readonly #now: () => Date
  readonly #generationFor: Set<string>
  #rv = 1
  /** Every change with rv > horizon is still in history. */
  #horizon = 1

  constructor (opts: StoreOptions = {}) {
    this.#historySize = opts.historySize ?? 1000
    this.#now = opts.now ?? (() => new Date())
    this.#generationFor = new Set(opts.generationFor ?? ['pods'])
  }

  get resourceVersion (): number { return this.#rv }
  /** The oldest resourceVersion a watch may still start from. */
  get horizon (): number { return this.#horizon }

  now (): Date { return this.#now() }

  /** Open watch subscriptions (diagnostics: leaks show up here). */
  get watcherCount (): number { return this.#listeners.size }
  /** Open watches of one resource (a gateway holds one per feature: drops' Events, the ledgers' Leases). */
  watchersOf (resource: string): number {
    let n = 0
    for (const r of this.#listeners.values()) if (r === resource) n++
    return n
  }

  #bucket (resource: string): Map<string, KObject> {
    let b = this.#objects.get(resource)
    if (!b) {
      b = new Map()
      this.#objects.set(resource, b)
    }
    return b
  }

  get (resource: string, namespace: string | undefined, name: string): KObject | undefined {
    const o = this.#bucket(resource).get(key(namespace, name))
    return o ? structuredClone(o) : undefined
  }

  mustGet (resource: string, namespace: string | undefined, name: string): KObject {
    const o = this.get(resource, namespace, name)
    if (!o) throw notFound(resource, name)
    return o
  }

  /** Objects of a resource (optionally of one namespace), sorted like etcd keys (namespace, then name). */
  list (resource: string, namespace?: string): KObject[] {
    const out: KObject[] = []
    for (const o of this.#bucket(resource).values()) {
      if (namespace && o.metadata.namespace !== namespace) continue
      out.push(structuredClone(o))
    }
    return out.sort((a, b) => key(a.metadata.namespace, a.metadata.name ?? '').localeCompare(key(b.metadata.namespace, b.metadata.name ?? '')))
  }

  /**
   * The objects as they were at resourceVersion `rv` (an etcd read at a revision): the current
   * state with the retained changes after `rv` undone. 410 Expired when `rv` is compacted away.
   */
  listAt (resource: string, namespace: string | undefined, rv: number): KObject[] {
    return this.listRefsAt(resource, namespace, rv).map(o => structuredClone(o))
  }

  /** listAt without copies: the stored objects themselves, which callers must not modify (a paged LIST copies only its page). */
  listRefsAt (resource: string, namespace: string | undefined, rv: number): readonly KObject[] {
    if (rv >= this.#rv) return [...this.#bucket(resource).values()].filter(o => !namespace || o.metadata.namespace === namespace)
    if (rv < this.#horizon) throw expired('The resourceVersion for the provided list is too old.')
    const byKey = new Map<string, KObject>()
    for (const o of this.#bucket(resource).values()) byKey.set(key(o.metadata.namespace, o.metadata.name ?? ''), o)
    for (let i = this.#history.length - 1; i >= 0; i--) {
      const e = this.#history[i] as StoreEvent
      if (e.rv <= rv) break
      if (e.resource !== resource) continue
      const k = key(e.object.metadata.namespace, e.object.metadata.name ?? '')
      if (e.type === 'ADDED') byKey.delete(k)
      else if (e.previous) byKey.set(k, e.previous)
    }
    return [...byKey.values()].filter(o => !namespace || o.metadata.namespace === namespace)
  }

  /** Sets uid, creationTimestamp, resourceVersion and generation like the registry's BeforeCreate + etcd. */
  create (resource: string, obj: KObject): KObject {
    const name = obj.metadata.name
    if (!name) throw new Error('create: metadata.name required')
    const k = key(obj.metadata.namespace, name)
    const b = this.#bucket(resource)
    if (b.has(k)) throw alreadyExists(resource, name)
    const stored = structuredClone(obj)
    stored.metadata.uid = randomUUID()
    stored.metadata.creationTimestamp = rfc3339(this.#now())
    if (this.#generationFor.has(resource)) stored.metadata.generation = 1
    else delete stored.metadata.generation
    delete stored.metadata.deletionTimestamp
    stored.metadata.resourceVersion = String(++this.#rv)
    b.set(k, stored)
    this.#emit({ type: 'ADDED', resource, object: structuredClone(stored), rv: this.#rv })
    return structuredClone(stored)
  }

  /** Replaces an object; immutable metadata (uid, creationTimestamp) is kept from the stored one. */
  update (resource: string, obj: KObject, opts: UpdateOptions = {}): KObject {
    const name = obj.metadata.name ?? ''
    const k = key(obj.metadata.namespace, name)
    const b = this.#bucket(resource)
    const old = b.get(k)
    if (!old) throw notFound(resource, name)
    if (opts.expectedResourceVersion !== undefined && opts.expectedResourceVersion !== old.metadata.resourceVersion) {
      throw conflict(resource, name, 'the object has been modified; please apply your changes to the latest version and try again')
    }
    const stored = structuredClone(obj)
    stored.metadata.uid = old.metadata.uid
    stored.metadata.creationTimestamp = old.metadata.creationTimestamp
    if (this.#generationFor.has(resource)) {
      stored.metadata.generation = old.metadata.generation
      if (JSON.stringify(stored.spec) !== JSON.stringify(old.spec)) stored.metadata.generation = (old.metadata.generation ?? 0) + 1
    } else {
      delete stored.metadata.generation
    }
    stored.metadata.resourceVersion = String(++this.#rv)
    b.set(k, stored)
    this.#emit({ type: 'MODIFIED', resource, object: structuredClone(stored), previous: structuredClone(old), rv: this.#rv })
    return structuredClone(stored)
  }

  /** Read-modify-write helper; `fn` edits the copy in place or returns a replacement. */
  mutate (resource: string, namespace: string | undefined, name: string, fn: (o: KObject) => KObject | undefined | void): KObject {
    const current = this.mustGet(resource, namespace, name)
    const next = fn(current) ?? current
    return this.update(resource, next)
  }

  delete (resource: string, namespace: string | undefined, name: string): KObject {
    const k = key(namespace, name)
    const b = this.#bucket(resource)
    const old = b.get(k)
    if (!old) throw notFound(resource, name)
    b.delete(k)
    const last = structuredClone(old)
    last.metadata.resourceVersion = String(++this.#rv)
    this.#emit({ type: 'DELETED', resource, object: last, previous: structuredClone(old), rv: this.#rv })
    return structuredClone(last)
  }

  /**
   * Subscribes to changes after `fromRV` (replaying retained history first).
   * Throws 410 Expired when `fromRV` is older than the retained window.
   */
  watch (fromRV: number, listener: StoreListener, resource?: string): () => void {
    if (fromRV < this.#horizon) {
      throw expired(`too old resource version: ${fromRV} (${this.#horizon})`)
    }
    for (const e of this.#history) if (e.rv > fromRV) listener(structuredClone(e))
    this.#listeners.set(listener, resource)
    return () => { this.#listeners.delete(listener) }
  }

  /** Drops all retained history (like an etcd compaction), so older watches get 410. */
  compact (): void {
    this.compactTo(this.#rv)
  }

  /** etcd compaction at revision `rv`: changes up to it are forgotten; reads and watches from before it get 410. */
  compactTo (rv: number): void {
    const to = Math.min(rv, this.#rv)
    if (to <= this.#horizon) return
    while (this.#history.length > 0 && (this.#history[0] as StoreEvent).rv <= to) this.#history.shift()
    this.#horizon = to
  }

  #emit (e: StoreEvent): void {
    this.#history.push(e)
    while (this.#history.length > this.#historySize) {
      const dropped = this.#history.shift()
      if (dropped) this.#horizon = dropped.rv
    }
    for (const l of [...this.#listeners.keys()]) {
      try { l(structuredClone(e)) } catch { /* a broken watcher must not break writes */ }
    }
  }
}

/** metav1.Time: RFC 3339 with second precision, UTC. */
export function rfc3339 (d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z')
}
