// Fan-out of drops to SSE subscribers. Each drop is serialised once, and the
// drops published in one event-loop turn go to each subscriber as one write
// (the concatenation shared by every subscriber that gets the same run), so a
// server that falls behind catches up with fewer, larger writes instead of
// one socket write per drop per subscriber. Filters and namespace access are
// applied per subscriber. Memory per subscriber is bounded: past
// maxBacklogBytes of unsent data (slow or stalled reader) the subscriber is
// cut. Drops from a namespace whose access is still being checked wait in a
// per-subscriber queue, so order is kept and nothing is shown before it is allowed.
import { randomBytes } from 'node:crypto'
import { DropRingBuffer, type DropEntry } from './ring-buffer.ts'
import { closeSseStreams, formatSseComment, formatSseEvent, formatSseRetry, startHeartbeat, SseWriter, type SseSink } from '../lib/sse.ts'
import type { DropPredicate } from './filter.ts'
import type { NamespaceAccess } from './access.ts'
import type { Drop, DropEventKind } from './types.ts'

/** What the hub writes to: the client's socket (a fake in unit tests). */
export type SseResponse = SseSink

/** The frame of a replay-buffer entry (`event: drop|drop-update`, `id:`, JSON drop). */
export function formatDropEntry (entry: { id: string, event: string, drop: unknown }): string {
  return formatSseEvent({ event: entry.event, id: entry.id, data: entry.drop })
}

export interface HubMetrics {
  sent (n: number): void
  slowDisconnect (): void
  subscribers (n: number): void
}

export interface DropHubOptions {
  bufferSize: number
  heartbeatSeconds: number
  retryMs: number
  maxBacklogBytes: number
  permissionRecheckSeconds: number
  maxSubscribers: number
  /** Prefix of event ids, per process (default random), so ids of another replica or run read as too old. */
  epoch?: string
  /** How long close() waits for streams to end before destroying them. */
  closeGraceMs?: number
  /** Interval of the stalled-reader sweep (default 1000 ms). */
  slowCheckMs?: number
  metrics?: HubMetrics
  logger?: { info: (obj: object, msg: string) => void }
}

export interface SubscribeOptions {
  res: SseResponse
  filter: DropPredicate
  access: NamespaceAccess
  /** From Last-Event-ID: replay what came after it, or `event: reset` when it is no longer held. */
  lastEventId?: string
  /** Without lastEventId: first replay the held drops that happened at or after this time (epoch ms; `since`). */
  fromMs?: number
  /** Called once when the subscriber is gone, with why. */
  onClose?: (reason: SubscriberCloseReason) => void
}

export type SubscriberCloseReason = 'client' | 'slow' | 'revoked' | 'shutdown'

/** A frame as written: one Buffer per entry, shared by every subscriber (encoded once). */
type Frame = string | Buffer

interface Queued { namespace: string, frame: Frame }

const HEARTBEAT = formatSseComment('heartbeat')

/** The drop's latest occurrence is at or after fromMs (a drop without a time is not history). */
function happenedSince (drop: Drop, fromMs: number): boolean {
  const t = drop.time === null ? NaN : Date.parse(drop.time)
  return Number.isFinite(t) && t >= fromMs
}

// drops that may wait for a permission check even with a tiny replay buffer
const MIN_PENDING = 1024

/**
 * Bytes of drops joined into one write, at most (the socket's default high-water mark; half
 * the backlog limit when that is smaller, so one write never counts as an overflow): a reader
 * that stops reading holds at most one such write beyond the socket's own buffer.
 */
const MAX_WRITE_BYTES = 16 * 1024

/**
 * The drops of one flush, and the joined frames of runs of them: the first subscriber that
 * gets entries a..b unfiltered pays for the concatenation, the others reuse it.
 */
class FlushRun {
  readonly entries: readonly DropEntry[]
  readonly #hub: DropHub
  readonly #joined = new Map<string, Buffer>()

  constructor (entries: readonly DropEntry[], hub: DropHub) {
    this.entries = entries
    this.#hub = hub
  }

  /** entries[from..to] (inclusive) as one buffer. */
  joined (from: number, to: number): Buffer {
    const key = `${from}:${to}`
    let buf = this.#joined.get(key)
    if (buf === undefined) {
      buf = Buffer.concat(this.entries.slice(from, to + 1).map(e => this.#hub.frameOf(e)))
      this.#joined.set(key, buf)
    }
    return buf
  }
}

/** Frames gathered for one write; `from`/`to` index a FlushRun when they are a contiguous run of it. */
class WriteGroup {
  frames: Buffer[] = []
  bytes = 0
  from = -1
  to = -1
  contiguous = true

  add (frame: Buffer, index: number): void {
    if (this.frames.length === 0) this.from = index
    else if (index !== this.to + 1) this.contiguous = false
    this.to = index
    this.frames.push(frame)
    this.bytes += frame.length
  }

  take (run: FlushRun | undefined): Buffer | undefined {
    const { frames } = this
    let out: Buffer | undefined
    if (frames.length === 1) out = frames[0]
    else if (frames.length > 1) out = run !== undefined && this.contiguous ? run.joined(this.from, this.to) : Buffer.concat(frames)
    this.frames = []
    this.bytes = 0
    this.contiguous = true
    return out
  }
}

/**
 * One SSE client. While its socket accepts data, drops are written as they
 * come. Once a write reports backpressure the subscriber is `blocked`: live
 * drops are not written, and on 'drain' it catches up from the shared ring
 * buffer (from its cursor), so its own memory stays near the socket's
 * high-water mark. Cut as slow when, between two sweeps, it did not drain
 * while its backlog (unsent bytes + matching drops past its cursor) exceeds
 * maxBacklogBytes, or when the buffer overwrote drops it still owes. A
 * synchronous burst (a re-list) alone never cuts a reader that keeps reading.
 */
export class Subscriber {
  /** The stream: backpressure (blocked, drains) and the final frame live there. */
  readonly sse: SseWriter
  readonly filter: DropPredicate
  readonly access: NamespaceAccess
  readonly #hub: DropHub
  readonly #onClose: ((reason: SubscriberCloseReason) => void) | undefined
  /** Sequence of the last entry handled (written, skipped or queued). */
  cursor: number
  /** sse.drains at the last sweep: a blocked subscriber without new drains between two sweeps is stalled. */
  drainsAtSweep = 0
  // only used while some namespace's access is being decided
  #queue: Queued[] = []
  #waiting = false
  closed = false
  closeReason: SubscriberCloseReason = 'client'

  constructor (hub: DropHub, opts: SubscribeOptions, cursor: number, onGone: () => void) {
    this.#hub = hub
    this.sse = new SseWriter(opts.res, {
      maxBufferedBytes: hub.maxBacklogBytes,
      // a blocked subscriber catches up from the buffer once its socket drains
      onDrain: () => { this.#resume() },
      onOverflow: () => { hub.cut(this, 'slow') },
      onClose: onGone
    })
    this.filter = opts.filter
    this.access = opts.access
    this.#onClose = opts.onClose
    this.cursor = cursor
  }

  get blocked (): boolean { return this.sse.blocked }

  /** Writes a control frame or comment regardless of blocking (heartbeats skip blocked subscribers). */
  write (frame: Frame): boolean {
    if (this.closed) return false
    return this.sse.write(frame)
  }

  /**
   * Entries from the hub (live, `run` given) or from the buffer (catch-up), in sequence order,
   * past the cursor: written in as few writes as MAX_WRITE_BYTES allows, stopping when the
   * socket blocks (the rest is caught up from the buffer on 'drain'). Returns drops written.
   */
  deliverAll (entries: readonly DropEntry[], run?: FlushRun): number {
    if (this.closed || this.blocked) return 0
    const group = new WriteGroup()
    let sent = 0
    const writeGroup = (): boolean => {
      const n = group.frames.length
      const joined = group.take(run)
      if (joined === undefined) return true
      const ok = this.write(joined)
      if (!this.closed) sent += n
      return ok
    }
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i] as DropEntry
      if (entry.seq <= this.cursor) continue
      this.cursor = entry.seq
      if (!this.filter(entry.drop)) continue
      const namespace = entry.drop.namespace
      const allowed = this.#queue.length === 0 ? this.access.allows(namespace) : undefined
      if (allowed === false) continue
      if (allowed === undefined) {
        // order is kept: what is gathered goes first, then this waits for its permission answer
        if (!writeGroup()) return sent
        sent += this.#offer(namespace, this.#hub.frameOf(entry))
        if (this.closed || this.blocked) return sent
        continue
      }
      group.add(this.#hub.frameOf(entry), i)
      if (group.bytes >= this.#hub.writeBytes && !writeGroup()) return sent
    }
    writeGroup()
    return sent
  }

  #offer (namespace: string, frame: Frame): number {
    if (this.#queue.length === 0) {
      const allowed = this.access.allows(namespace)
      if (allowed === true) return this.write(frame) ? 1 : (this.closed ? 0 : 1)
      if (allowed === false) return 0
    }
    // queued frames are shared strings (held by the ring buffer anyway), so
    // the queue costs a pointer per entry: bound its length, not its bytes
    if (this.#queue.length >= Math.max(MIN_PENDING, this.#hub.buffer.capacity)) {
      this.#hub.cut(this, 'slow')
      return 0
    }
    this.#queue.push({ namespace, frame })
    this.#drainQueue()
    return 0
  }

  #drainQueue (): void {
    let sent = 0
    while (!this.closed && !this.blocked && this.#queue.length > 0) {
      const head = this.#queue[0] as Queued
      const allowed = this.access.allows(head.namespace)
      if (allowed === undefined) {
        if (!this.#waiting) {
          this.#waiting = true
          this.access.check(head.namespace).then(() => {
            this.#waiting = false
            this.#resume()
          }, () => {})
        }
        break
      }
      this.#queue.shift()
      if (allowed) {
        this.sse.write(head.frame)
        sent++
      }
    }
    this.#hub.countSent(sent)
  }

  /** After 'drain' or a permission answer: the queue first, then what the buffer holds past the cursor. */
  #resume (): void {
    if (this.closed || this.blocked) return
    this.#drainQueue()
    if (this.blocked || this.#queue.length > 0) return
    const missed = this.#hub.buffer.since(this.#hub.buffer.idFor(this.cursor))
    if (missed === 'too-old') {
      this.#hub.cut(this, 'slow')
      return
    }
    this.#hub.replay(this, missed)
  }

  finish (reason: SubscriberCloseReason): void {
    if (this.closed) return
    this.closed = true
    this.closeReason = reason
    this.#queue = []
    this.#onClose?.(reason)
  }
}

export class DropHub {
  readonly buffer: DropRingBuffer
  readonly maxBacklogBytes: number
  /** Bytes gathered into one write before it is sent (see MAX_WRITE_BYTES). */
  readonly writeBytes: number
  readonly #o: DropHubOptions
  readonly #subs = new Set<Subscriber>()
  // entries are immutable once pushed: serialise each one once, for live fan-out and replays
  readonly #frames = new WeakMap<DropEntry, Buffer>()
  #stopHeartbeat: (() => void) | undefined
  #recheck: NodeJS.Timeout | undefined
  #sweep: NodeJS.Timeout | undefined
  #closing = false
  /** Sequence of the last entry handed to live subscribers. */
  #flushedSeq = 0
  #flushScheduled: NodeJS.Immediate | undefined

  constructor (options: DropHubOptions) {
    this.#o = options
    this.maxBacklogBytes = options.maxBacklogBytes
    this.writeBytes = Math.max(1, Math.min(MAX_WRITE_BYTES, Math.floor(options.maxBacklogBytes / 2)))
    this.buffer = new DropRingBuffer({ capacity: options.bufferSize, epoch: options.epoch ?? randomBytes(4).toString('hex') })
  }

  get size (): number { return this.#subs.size }
  get full (): boolean { return this.#subs.size >= this.#o.maxSubscribers }
  get closing (): boolean { return this.#closing }

  /** An entry's frame, serialised once (entries never change once pushed). */
  frameOf (entry: DropEntry): Buffer {
    let f = this.#frames.get(entry)
    if (f === undefined) {
      f = Buffer.from(formatDropEntry(entry))
      this.#frames.set(entry, f)
    }
    return f
  }

  /**
   * Adds a drop to the buffer; live subscribers get it at the end of this event-loop turn,
   * together with whatever else was published in the turn (one write each). A burst that
   * would wrap the buffer before then is flushed at once, so live readers lose nothing.
   */
  publish (kind: DropEventKind, drop: Drop): DropEntry {
    const entry = this.buffer.push(kind, drop)
    if (entry.seq - this.#flushedSeq >= Math.max(1, this.buffer.capacity >> 1)) this.flush()
    else this.#flushScheduled ??= setImmediate(() => { this.flush() })
    return entry
  }

  /** Writes what was published since the last flush to every live subscriber. */
  flush (): void {
    if (this.#flushScheduled !== undefined) clearImmediate(this.#flushScheduled)
    this.#flushScheduled = undefined
    const fresh = this.buffer.since(this.buffer.idFor(this.#flushedSeq))
    this.#flushedSeq = this.buffer.lastSeq
    // unreachable while publish flushes before the buffer wraps; a subscriber that misses
    // entries is cut by its own catch-up
    if (fresh === 'too-old' || fresh.length === 0) return
    const run = new FlushRun(fresh, this)
    let sent = 0
    for (const sub of this.#subs) sent += sub.deliverAll(fresh, run)
    this.countSent(sent)
  }

  /** Writes entries to one subscriber in order until its socket blocks. */
  replay (sub: Subscriber, entries: DropEntry[]): void {
    this.countSent(sub.deliverAll(entries))
  }

  countSent (n: number): void {
    if (n > 0) this.#o.metrics?.sent(n)
  }

  /**
   * Registers a subscriber whose response headers are already sent. Writes the
   * retry hint, then the replay (or `reset`), synchronously, so no drop falls
   * between the replay and the live flow.
   */
  subscribe (opts: SubscribeOptions): Subscriber {
    const current = this.buffer.idFor(this.buffer.lastSeq)
    const missed = opts.lastEventId !== undefined
      ? this.buffer.since(opts.lastEventId)
      : opts.fromMs !== undefined ? this.#history(opts.fromMs) : []
    const from = missed === 'too-old' || missed.length === 0 ? this.buffer.lastSeq : (missed[0] as DropEntry).seq - 1
    const sub: Subscriber = new Subscriber(this, opts, from, () => { this.#remove(sub, sub.closed ? sub.closeReason : 'client') })
    this.#subs.add(sub)
    this.#o.metrics?.subscribers(this.#subs.size)
    this.#startTimers()

    if (opts.lastEventId === undefined) {
      // an id without data still sets the client's Last-Event-ID, so a reconnect resumes from here
      // (after the history below: its entries carry their own ids)
      sub.write(`retry: ${this.#o.retryMs}\nid: ${current}\n\n`)
      if (missed !== 'too-old' && missed.length > 0) this.replay(sub, missed)
      return sub
    }
    sub.write(formatSseRetry(this.#o.retryMs))
    if (missed === 'too-old') {
      sub.write(formatSseEvent({ event: 'reset', id: current, data: { reason: 'too-old', lastEventId: opts.lastEventId } }))
      return sub
    }
    this.replay(sub, missed)
    return sub
  }

  /**
   * Held entries, oldest first, from the first whose drop happened at or after fromMs (its latest
   * occurrence) on: a contiguous run, replayed exactly like a Last-Event-ID resume from there.
   */
  #history (fromMs: number): DropEntry[] {
    const entries = this.buffer.entries()
    const first = entries.findIndex(e => happenedSince(e.drop, fromMs))
    return first === -1 ? [] : entries.slice(first)
  }

  /** Latest state of each held drop the filter and access allow, newest first; with fromMs only drops that happened since. */
  async recent (opts: { limit: number, filter: DropPredicate, access: NamespaceAccess, fromMs?: number }): Promise<Drop[]> {
    const all = this.buffer.entries()
    const entries = opts.fromMs === undefined ? all : all.filter(e => happenedSince(e.drop, opts.fromMs as number))
    // Only namespaces whose drops the filter keeps need a permission answer.
    const namespaces = new Set(entries.filter(e => opts.filter(e.drop)).map(e => e.drop.namespace))
    await Promise.all([...namespaces].map(async ns => { if (opts.access.allows(ns) === undefined) await opts.access.check(ns) }))
    const seen = new Set<string>()
    const out: Drop[] = []
    for (let i = entries.length - 1; i >= 0 && out.length < opts.limit; i--) {
      const { drop } = entries[i] as DropEntry
      if (seen.has(drop.id)) continue
      seen.add(drop.id)
      if (opts.filter(drop) && opts.access.allows(drop.namespace) === true) out.push(drop)
    }
    return out
  }

  cut (sub: Subscriber, reason: 'slow' | 'revoked'): void {
    if (sub.closed) return
    if (reason === 'slow') {
      this.#o.metrics?.slowDisconnect()
      sub.finish(reason)
      // its buffer is full: nothing more can reach it, free the memory now
      sub.sse.destroy()
    } else {
      sub.finish(reason)
      sub.sse.end(formatSseEvent({ event: 'revoked', data: { reason: 'forbidden', detail: 'You may no longer list events in this namespace.' } }))
    }
    this.#remove(sub, reason)
  }

  * #writers (): Iterable<SseWriter> {
    for (const sub of this.#subs) yield sub.sse
  }

  #remove (sub: Subscriber, reason: SubscriberCloseReason): void {
    sub.finish(reason)
    if (!this.#subs.delete(sub)) return
    this.#o.metrics?.subscribers(this.#subs.size)
    if (this.#subs.size === 0) this.#stopTimers()
  }

  #startTimers (): void {
    if (this.#stopHeartbeat !== undefined) return
    this.#stopHeartbeat = startHeartbeat(this.#o.heartbeatSeconds * 1000, () => this.#writers(), HEARTBEAT)
    this.#recheck = setInterval(() => { this.#revalidate().catch(() => {}) }, this.#o.permissionRecheckSeconds * 1000)
    this.#sweep = setInterval(() => { this.#sweepSlow() }, this.#o.slowCheckMs ?? 1000)
    this.#recheck.unref()
    this.#sweep.unref()
  }

  #stopTimers (): void {
    this.#stopHeartbeat?.()
    clearInterval(this.#recheck)
    clearInterval(this.#sweep)
    this.#stopHeartbeat = undefined
    this.#recheck = undefined
    this.#sweep = undefined
  }

  /** Unsent bytes plus the matching drops it has not been written yet; Infinity when some were overwritten. */
  backlogBytes (sub: Subscriber): number {
    const owed = this.buffer.since(this.buffer.idFor(sub.cursor))
    if (owed === 'too-old') return Infinity
    let bytes = sub.sse.bufferedBytes
    for (const entry of owed) if (sub.filter(entry.drop)) bytes += this.frameOf(entry).length
    return bytes
  }

  #sweepSlow (): void {
    for (const sub of this.#subs) {
      const stalled = sub.blocked && sub.sse.drains === sub.drainsAtSweep
      sub.drainsAtSweep = sub.sse.drains
      if (stalled && this.backlogBytes(sub) > this.maxBacklogBytes) this.cut(sub, 'slow')
    }
  }

  async #revalidate (): Promise<void> {
    await Promise.all([...this.#subs].map(async sub => {
      const still = await sub.access.revalidate()
      if (!still) this.cut(sub, 'revoked')
    }))
  }

  /** Graceful shutdown: `event: shutdown` to every stream, end them, destroy stragglers after the grace time. */
  async close (): Promise<void> {
    this.#closing = true
    this.#stopTimers()
    this.flush()
    const subs = [...this.#subs]
    for (const sub of subs) sub.finish('shutdown')
    const frame = formatSseEvent({ event: 'shutdown', data: { reason: 'server shutting down', retryMs: this.#o.retryMs } })
    await closeSseStreams(subs.map(s => s.sse), frame, this.#o.closeGraceMs ?? 1000)
    if (subs.length > 0) this.#o.logger?.info({ streams: subs.length }, 'drop streams closed for shutdown')
  }
}
