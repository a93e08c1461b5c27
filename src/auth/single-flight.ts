// A bounded TTL cache whose misses are single-flight: while one load for a key
// is in flight, every other caller for that key waits for the same promise, so
// a burst with one unseen token makes exactly one upstream call. Failed loads
// are never cached (each waiter gets the error, the next caller tries again),
// and a load may decline caching by answering ttlMs <= 0.
import { LRUCache } from 'lru-cache'

export interface Loaded<V> {
  value: V
  /** How long to keep the value; <= 0 = hand it to current waiters but don't cache it. */
  ttlMs: number
}

/** hit = served from cache; miss = this call loaded; coalesced = joined a load in flight. */
export type CacheSource = 'hit' | 'miss' | 'coalesced'

export interface CacheStats {
  hits: number
  misses: number
  coalesced: number
  size: number
}

export interface SingleFlightCacheOptions {
  /** Most entries kept; the least recently used go first. */
  max: number
  /** Time source for TTLs (ms); default performance.now. Tests inject a manual clock instead of sleeping. */
  now?: () => number
}

// lru-cache's own fetchMethod is single-flight too, but it takes one loader at
// construction and treats ttl 0 as "forever"; a map of promises is clearer.
export class SingleFlightCache<K extends {}, V> {
  private readonly entries: LRUCache<K, { value: V }>
  private readonly inflight = new Map<K, Promise<V>>()
  private hits = 0
  private misses = 0
  private joined = 0

  constructor (options: SingleFlightCacheOptions) {
    // Values are boxed so `undefined` (e.g. "no such user") can be a cached value.
    // With an injected clock, read it on every lookup (ttlResolution 0): lru-cache otherwise
    // reuses one reading for 1 ms of real time, and a clock moved within that ms would be missed.
    this.entries = new LRUCache<K, { value: V }>({ max: options.max, ...(options.now ? { perf: { now: options.now }, ttlResolution: 0 } : {}) })
  }

  async get (key: K, load: () => Promise<Loaded<V>>): Promise<V> {
    return (await this.lookup(key, load)).value
  }

  /** Like get, and says where the value came from (for `cached` flags and metrics). */
  async lookup (key: K, load: () => Promise<Loaded<V>>): Promise<{ value: V, source: CacheSource }> {
    const hit = this.entries.get(key)
    if (hit) {
      this.hits++
      return { value: hit.value, source: 'hit' }
    }
    const pending = this.inflight.get(key)
    if (pending) {
      this.joined++
      return { value: await pending, source: 'coalesced' }
    }
    this.misses++
    // Cache first, then leave the in-flight map, so no caller slips between the two.
    const promise: Promise<V> = this.load(key, load).finally(() => {
      if (this.inflight.get(key) === promise) this.inflight.delete(key)
    })
    this.inflight.set(key, promise)
    return { value: await promise, source: 'miss' }
  }

  private async load (key: K, load: () => Promise<Loaded<V>>): Promise<V> {
    const { value, ttlMs } = await load()
    if (ttlMs > 0) this.entries.set(key, { value }, { ttl: ttlMs })
    return value
  }

  stats (): CacheStats {
    return { hits: this.hits, misses: this.misses, coalesced: this.joined, size: this.entries.size }
  }
}
