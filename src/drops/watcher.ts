// The one upstream watch per replica (per configured namespace × reason):
// LIST (paged: limit + continue), then WATCH from the list's resourceVersion
// with bookmarks where the server sends them (it does not for events: they
// have no watch cache); a watch that ends or breaks resumes from the last
// resourceVersion seen (object or bookmark); 410 Expired (HTTP, ERROR event,
// or a stale continue token mid-list) re-LISTs from the start, and the DropDeduper
// keeps drops already emitted from being emitted again. Failures back off
// exponentially with full jitter. Each stream has its own deduper: the
// deduper's resourceVersion watermark assumes one ordered stream.
import { abortableSleep, backoffDelay } from '../lib/backoff.ts'
import { DropDeduper } from './dedupe.ts'
import { parseDropEvent } from './parse.ts'
import type { Drop, DropEventKind } from './types.ts'
import { UpstreamError, type EventScope, type EventsUpstream, type WatchEvent } from './upstream.ts'

export type DropSink = (kind: DropEventKind, drop: Drop) => void

export interface WatcherHooks {
  onRestart?: () => void
  onRelist?: () => void
  onReceived?: (kind: DropEventKind) => void
}

export interface DropWatcherOptions {
  upstream: EventsUpstream
  sink: DropSink
  /** [] = cluster-wide. */
  namespaces: readonly string[]
  reasons: readonly string[]
  dedupeEntries: number
  watchTimeoutSeconds: number
  listPageSize: number
  backoff: { initialMs: number, maxMs: number }
  hooks?: WatcherHooks
  logger?: { warn: (obj: object, msg: string) => void, debug: (obj: object, msg: string) => void }
  now?: () => number
  random?: () => number
  /** Resolves after ms, or early when the signal aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>
}

export interface StreamHealth {
  namespace: string | null
  reason: string
  connected: boolean
  resourceVersion: string | null
}

export interface WatcherHealth {
  /** Every stream has listed and is watching. */
  connected: boolean
  lastEventAt: number | null
  restarts: number
  relists: number
  lastError: string | null
  streams: StreamHealth[]
}

function rvOf (object: unknown): string | undefined {
  const meta = (object as { metadata?: { resourceVersion?: unknown } } | null)?.metadata
  return typeof meta?.resourceVersion === 'string' && meta.resourceVersion !== '' ? meta.resourceVersion : undefined
}

function errorText (err: unknown): string {
  if (err instanceof UpstreamError) return `${err.status ?? 'network'}${err.reason ? ` ${err.reason}` : ''}: ${err.message}`
  // network errors: the code says enough and carries no headers or tokens
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : (err instanceof Error ? err.name : 'error')
}

// A watch that ends sooner than this after starting counts as a failure for
// backoff, so a server that closes watches at once cannot make us spin.
const MIN_HEALTHY_WATCH_MS = 1000

class EventStream {
  readonly scope: EventScope & { reason: string }
  readonly deduper: DropDeduper
  resourceVersion: string | undefined
  connected = false
  readonly #w: DropWatcher

  constructor (w: DropWatcher, scope: EventScope & { reason: string }, dedupeEntries: number) {
    this.#w = w
    this.scope = scope
    this.deduper = new DropDeduper({ maxEntries: dedupeEntries })
  }

  async run (signal: AbortSignal): Promise<void> {
    const o = this.#w.options
    let needList = true
    let attempt = 0
    while (!signal.aborted) {
      let startedAt = 0
      try {
        if (needList) {
          await this.#list(signal)
          needList = false
        }
        startedAt = this.#w.now()
        this.connected = true
        await o.upstream.watch(this.scope, {
          resourceVersion: this.resourceVersion ?? '',
          timeoutSeconds: o.watchTimeoutSeconds,
          signal
        }, event => this.#onEvent(event))
        if (signal.aborted) break
        this.connected = false
        // a normal end (server timeout): resume from the last resourceVersion
        this.#w.noteRestart()
        if (this.#w.now() - startedAt < MIN_HEALTHY_WATCH_MS) attempt++
        else attempt = 0
      } catch (err) {
        this.connected = false
        if (signal.aborted) break
        this.#w.noteError(err, this.scope)
        if (err instanceof UpstreamError && err.expired) {
          // 410: the resume point (a watch resourceVersion, or a continue token of a list in
          // progress: events have no watch cache, so etcd compaction expires both) is gone.
          // Re-list from the start; the deduper keeps what was already emitted from repeating.
          needList = true
          this.#w.noteRelist()
          // re-list at once, unless the re-list itself keeps expiring
          attempt = startedAt === 0 ? attempt + 1 : 0
        } else {
          if (startedAt !== 0) this.#w.noteRestart()
          attempt = startedAt !== 0 && this.#w.now() - startedAt >= MIN_HEALTHY_WATCH_MS ? 1 : attempt + 1
        }
      }
      if (attempt > 0) await o.sleep(backoffDelay(attempt, o.backoff, o.random), signal)
    }
    this.connected = false
  }

  async #list (signal: AbortSignal): Promise<void> {
    const o = this.#w.options
    let cont: string | undefined
    let rv = ''
    do {
      const page = await o.upstream.list(this.scope, { limit: o.listPageSize, continue: cont, signal })
      // a paginated list is a snapshot at the first page's resourceVersion
      if (cont === undefined) rv = page.resourceVersion
      for (const item of page.items) this.#observe('LISTED', item)
      cont = page.continue
    } while (cont !== undefined && !signal.aborted)
    this.deduper.noteResourceVersion(rv)
    this.resourceVersion = rv
  }

  #observe (type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'LISTED', object: unknown): void {
    const drop = parseDropEvent(object, { reasons: [this.scope.reason] })
    if (drop === undefined) return
    const result = this.deduper.observe(type, drop)
    if (result !== undefined) this.#w.emit(result.event, result.drop)
  }

  #onEvent (event: WatchEvent): void {
    const rv = rvOf(event.object)
    switch (event.type) {
      case 'ADDED':
      case 'MODIFIED':
      case 'DELETED':
        this.#w.noteEvent()
        this.#observe(event.type, event.object)
        break
      case 'BOOKMARK':
        // a bookmark promises every change up to its resourceVersion was delivered
        this.deduper.noteResourceVersion(rv)
        break
      default:
        return
    }
    if (rv !== undefined) this.resourceVersion = rv
  }
}

export class DropWatcher {
  readonly options: Required<Omit<DropWatcherOptions, 'hooks' | 'logger'>> & Pick<DropWatcherOptions, 'hooks' | 'logger'>
  readonly #streams: EventStream[]
  #controller: AbortController | undefined
  #running: Promise<unknown> | undefined
  #lastEventAt: number | null = null
  #restarts = 0
  #relists = 0
  #lastError: string | null = null

  constructor (options: DropWatcherOptions) {
    this.options = {
      now: Date.now,
      random: Math.random,
      sleep: abortableSleep,
      ...options
    }
    const scopes = options.namespaces.length === 0 ? [undefined] : [...new Set(options.namespaces)]
    this.#streams = scopes.flatMap(namespace => options.reasons.map(reason =>
      new EventStream(this, { namespace, reason, fieldSelector: `reason=${reason}` }, options.dedupeEntries)))
  }

  now (): number { return this.options.now() }

  start (): void {
    if (this.#running) return
    const controller = new AbortController()
    this.#controller = controller
    this.#running = Promise.all(this.#streams.map(async s => await s.run(controller.signal).catch((err: unknown) => {
      // a bug, not an upstream failure: say so rather than stop silently
      this.options.logger?.warn({ err: errorText(err) }, 'drop watch loop stopped')
    })))
  }

  async close (): Promise<void> {
    this.#controller?.abort()
    await this.#running
  }

  /** The resourceVersion of the only stream (undefined with several). */
  get resourceVersion (): string | undefined {
    return this.#streams.length === 1 ? this.#streams[0]?.resourceVersion : undefined
  }

  health (): WatcherHealth {
    return {
      connected: this.#streams.every(s => s.connected),
      lastEventAt: this.#lastEventAt,
      restarts: this.#restarts,
      relists: this.#relists,
      lastError: this.#lastError,
      streams: this.#streams.map(s => ({
        namespace: s.scope.namespace ?? null,
        reason: s.scope.reason,
        connected: s.connected,
        resourceVersion: s.resourceVersion ?? null
      }))
    }
  }

  emit (kind: DropEventKind, drop: Drop): void {
    this.options.hooks?.onReceived?.(kind)
    this.options.sink(kind, drop)
  }

  noteEvent (): void { this.#lastEventAt = this.now() }

  noteRestart (): void {
    this.#restarts++
    this.options.hooks?.onRestart?.()
  }

  noteRelist (): void {
    this.#relists++
    this.options.hooks?.onRelist?.()
  }

  noteError (err: unknown, scope: EventScope): void {
    this.#lastError = errorText(err)
    this.options.logger?.warn({ namespace: scope.namespace ?? '*', err: this.#lastError }, 'drop watch failed')
  }
}
