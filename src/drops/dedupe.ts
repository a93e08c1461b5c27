// Decides what a watch/list observation of a PacketDrop Event means for
// subscribers: a new `drop`, a `drop-update` (its count rose: repeats arrive
// as MODIFIED PATCHes of count/lastTimestamp, and Cilium's correlator may also
// replace the message), or nothing (replays after a resumed watch or a
// re-list after 410, same-count modifications, deletions).
//
// Memory is bounded by an LRU of drop ids. An id evicted from it would look
// new if a re-list returned it, so a resourceVersion watermark guards that
// case: after a complete list plus a gap-free watch we have seen every change
// up to the highest resourceVersion observed, so an unknown object whose
// resourceVersion is not above it was already sent. This needs numeric
// resourceVersions (etcd's); with opaque ones only the LRU applies. The
// watermark assumes one ordered stream: use one deduper per upstream watch
// (per namespace when several namespaces are watched separately).
import type { Drop, DropEventKind } from './types.ts'

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'LISTED'

export interface DedupeResult {
  event: DropEventKind
  drop: Drop
}

export interface DropDeduperOptions {
  /** Drop ids remembered (LRU). */
  maxEntries: number
}

interface Known {
  count: number
  rv: bigint | undefined
}

function parseRv (rv: string | null | undefined): bigint | undefined {
  return typeof rv === 'string' && /^\d{1,30}$/.test(rv) ? BigInt(rv) : undefined
}

export class DropDeduper {
  readonly maxEntries: number
  // Map iteration order is insertion order: re-inserting on use makes it an LRU.
  #known = new Map<string, Known>()
  #watermark: bigint | undefined

  constructor (options: DropDeduperOptions) {
    if (!Number.isSafeInteger(options.maxEntries) || options.maxEntries < 1) throw new RangeError('maxEntries must be a positive integer')
    this.maxEntries = options.maxEntries
  }

  get size (): number { return this.#known.size }

  /** Highest resourceVersion known to be fully seen, as a string (undefined before any). */
  get watermark (): string | undefined { return this.#watermark?.toString() }

  /**
   * Record a resourceVersion up to which every change has been seen: a
   * BOOKMARK's, or a list's metadata.resourceVersion once all its items were
   * observed. Never call it for a watch that may have gaps.
   */
  noteResourceVersion (rv: string | null | undefined): void {
    const n = parseRv(rv)
    if (n !== undefined && (this.#watermark === undefined || n > this.#watermark)) this.#watermark = n
  }

  /**
   * ADDED/MODIFIED/DELETED: watch events, in stream order. LISTED: items of a
   * (re-)list, in any order; after the last one call
   * noteResourceVersion(list.metadata.resourceVersion).
   */
  observe (type: WatchEventType, drop: Drop): DedupeResult | undefined {
    if (type === 'DELETED') {
      this.#known.delete(drop.id)
      this.noteResourceVersion(drop.resourceVersion)
      return undefined
    }
    const rv = parseRv(drop.resourceVersion)
    const prev = this.#known.get(drop.id)
    let result: DedupeResult | undefined
    if (prev === undefined) {
      const alreadySeen = rv !== undefined && this.#watermark !== undefined && rv <= this.#watermark
      if (!alreadySeen) result = { event: 'drop', drop }
      this.#remember(drop.id, { count: drop.count, rv })
    } else {
      // an older object version (stale replay) must not roll the count back
      const stale = rv !== undefined && prev.rv !== undefined && rv < prev.rv
      if (!stale && drop.count > prev.count) result = { event: 'drop-update', drop }
      this.#remember(drop.id, stale ? prev : { count: Math.max(drop.count, prev.count), rv: rv ?? prev.rv })
    }
    // watch events arrive in resourceVersion order, list items do not
    if (type !== 'LISTED') this.noteResourceVersion(drop.resourceVersion)
    return result
  }

  /** Whether an id is currently remembered (does not refresh its LRU position). */
  has (id: string): boolean {
    return this.#known.has(id)
  }

  #remember (id: string, known: Known): void {
    this.#known.delete(id)
    this.#known.set(id, known)
    while (this.#known.size > this.maxEntries) {
      const oldest = this.#known.keys().next()
      if (oldest.done === true) break
      this.#known.delete(oldest.value)
    }
  }
}
