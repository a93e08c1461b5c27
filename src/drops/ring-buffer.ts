// Bounded replay buffer for SSE Last-Event-ID resume. Sequence numbers are
// per replica and restart at 1 with the process, so ids may carry an epoch
// (e.g. a random token per process): an id from another replica or an earlier
// process then reads as 'too-old' (send `event: reset`) instead of silently
// replaying the wrong range.
import type { Drop, DropEventKind } from './types.ts'

export interface DropEntry {
  seq: number
  /** The SSE id: `<epoch>-<seq>`, or `<seq>` without an epoch. */
  id: string
  event: DropEventKind
  drop: Drop
}

export interface DropRingBufferOptions {
  capacity: number
  /** Token without '-' or line breaks identifying this replica/process. */
  epoch?: string
}

export class DropRingBuffer {
  readonly capacity: number
  readonly epoch: string | undefined
  #slots: Array<DropEntry | undefined>
  #lastSeq = 0

  constructor (options: DropRingBufferOptions) {
    if (!Number.isSafeInteger(options.capacity) || options.capacity < 1) throw new RangeError('capacity must be a positive integer')
    if (options.epoch !== undefined && (options.epoch === '' || /[-\s\0]/.test(options.epoch))) {
      throw new RangeError('epoch must be non-empty without "-", whitespace or NUL')
    }
    this.capacity = options.capacity
    this.epoch = options.epoch
    this.#slots = new Array<DropEntry | undefined>(options.capacity)
  }

  get lastSeq (): number { return this.#lastSeq }

  /** Oldest sequence still held (lastSeq + 1 when empty). */
  get firstSeq (): number { return Math.max(1, this.#lastSeq - this.capacity + 1) }

  get size (): number { return Math.min(this.#lastSeq, this.capacity) }

  idFor (seq: number): string {
    return this.epoch === undefined ? String(seq) : `${this.epoch}-${seq}`
  }

  push (event: DropEventKind, drop: Drop): DropEntry {
    const seq = ++this.#lastSeq
    const entry: DropEntry = { seq, id: this.idFor(seq), event, drop }
    this.#slots[(seq - 1) % this.capacity] = entry
    return entry
  }

  /** The sequence number inside an id of this buffer, or undefined if it is not one. */
  parseId (lastEventId: string | number): number | undefined {
    let raw = String(lastEventId).trim()
    if (this.epoch !== undefined) {
      const prefix = `${this.epoch}-`
      if (!raw.startsWith(prefix)) return undefined
      raw = raw.slice(prefix.length)
    }
    if (!/^\d{1,15}$/.test(raw)) return undefined
    return Number(raw)
  }

  /**
   * Entries after lastEventId, oldest first; [] when the client is up to date;
   * 'too-old' when entries it missed were overwritten, or the id is not ours
   * (other replica, earlier process, garbage, or ahead of us).
   */
  since (lastEventId: string | number): DropEntry[] | 'too-old' {
    const seq = this.parseId(lastEventId)
    if (seq === undefined || seq > this.#lastSeq) return 'too-old'
    if (seq < this.firstSeq - 1) return 'too-old'
    const out: DropEntry[] = []
    for (let s = seq + 1; s <= this.#lastSeq; s++) {
      const entry = this.#slots[(s - 1) % this.capacity]
      if (entry !== undefined) out.push(entry)
    }
    return out
  }

  /** All held entries, oldest first. */
  entries (): DropEntry[] {
    const out: DropEntry[] = []
    for (let s = this.firstSeq; s <= this.#lastSeq; s++) {
      const entry = this.#slots[(s - 1) % this.capacity]
      if (entry !== undefined) out.push(entry)
    }
    return out
  }

  /** Latest state of each drop still held, newest first (for the JSON list). */
  recentDrops (limit = Infinity): Drop[] {
    const seen = new Set<string>()
    const out: Drop[] = []
    for (let s = this.#lastSeq; s >= this.firstSeq && out.length < limit; s--) {
      const entry = this.#slots[(s - 1) % this.capacity]
      if (entry === undefined || seen.has(entry.drop.id)) continue
      seen.add(entry.drop.id)
      out.push(entry.drop)
    }
    return out
  }
}
