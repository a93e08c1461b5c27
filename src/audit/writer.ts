// The audit writer: assigns seq/time/id/replica/prevHash, strips secrets, and
// group-commits records so concurrent requests share one write + fdatasync.
//
// Batching: appends queue up; a batch is written when the sink is free — at
// the end of the current event-loop turn (setImmediate) when batchMaxMs is 0
// (the default), or after lingering batchMaxMs ms when it is > 0 — or at once
// when batchMaxRecords are queued. Writing at the end of the turn rather than
// at the first append keeps a turn's records in one batch: each batch costs a
// write and an fdatasync, each with kernel time and the fdatasync a
// thread-pool round trip. We default to no linger because an fdatasync costs
// ~0.2 ms on our machines: lingering 2 ms would add 2 ms to every request at
// low load and buys nothing at high load (PostgreSQL's commit_delay and
// MySQL's binlog_group_commit_sync_delay default to 0 too).
// A batch is written to the page cache (write), then made durable (fdatasync)
// while the process goes on; nothing is written while an fdatasync runs, so
// records that arrive meanwhile queue up and go out together as the next
// batch (the batch size grows with load by itself). append() resolves only
// after the fdatasync of its batch returned, so every acknowledged record is
// covered by an fdatasync that started after it was written.
// Pipelining (pipeline-policy.ts decides whether it pays on this machine):
// when an fdatasync returns, the records queued meanwhile are written and
// their fdatasync started before the appends it acknowledges resolve, and a
// long turn's records reach an idle sink as two batches; so one batch's
// fdatasync runs while the requests acknowledged by the other continue,
// instead of every request waiting for the same fdatasync with the CPU idle.
// Failure: if a write or fdatasync fails, every pending append rejects with
// GW_AUDIT_UNAVAILABLE (503), writable() turns false, and the writer recovers
// by reopening the file — re-reading the chain head from disk and truncating
// a torn tail, since a failed write may have left part of a batch behind. It
// tries on the next append (at most once per recoveryIntervalMs) and on a
// background timer, so /readyz turns green again without traffic. A recovery
// is noted in the chain (`audit.recovered`), as is a truncated torn tail.
// Records that were written before a failed fdatasync may remain in the file
// although their appends rejected: the log may hold a record of an action that
// was refused, never miss one that was acknowledged.
//
// Rotation (rotating-sink.ts) happens between batches: before a batch is
// written, a file that is big or old enough is renamed aside, and retention's
// deletions are noted (`audit.retention`) at the head of that batch and done
// only after it is durable. When retention may not delete (a forwarder has not
// acknowledged the oldest file) the disk budget is reached: appends are
// refused with GW_AUDIT_UNAVAILABLE (503, reason audit-disk-budget) and
// writable() is false until a forwarder catches up; the chain notes when that
// starts (`audit.budget-reached`) and ends (`audit.budget-recovered`, with the
// number of records refused meanwhile). Listeners (onDurable) learn every new
// durable head: forwarders wake on it.

import { performance } from 'node:perf_hooks'
import { Problems } from '../errors.ts'
import { canonicalBody, canonicalRecord, GENESIS_HEAD, hashLine } from './chain.ts'
import type { ChainHead } from './chain.ts'
import { FileSink } from './file-sink.ts'
import type { AuditFileSystem, OpenedFile } from './file-sink.ts'
import { MemorySink } from './memory-sink.ts'
import { PipelinePolicy } from './pipeline-policy.ts'
import { describeRetired, RotatingFileSink } from './rotating-sink.ts'
import type { RetiredFile } from './rotating-sink.ts'
import type { AuditRotationConfig } from './config-schema.ts'
import { redactMember } from './redact.ts'
import { StreamSink } from './stdout-sink.ts'
import type { LineStream } from './stdout-sink.ts'
import type { AuditEntry, AuditLog, AuditRecord } from './types.ts'
import { uuidV7 } from './uuid-v7.ts'

export const SYSTEM_ACTOR = Object.freeze({ user: 'system:kdebug-gateway', groups: [] as string[] })

export interface AuditLogOptions {
  replica: string
  /** Linger before writing a batch while the sink is idle; 0 = end of the event-loop turn. Default 0. */
  batchMaxMs?: number
  /** Most records per write + fdatasync. Default 256. */
  batchMaxRecords?: number
  /** Milliseconds since the epoch; for `time` and the UUIDv7 timestamp. */
  clock?: () => number
  idGenerator?: (nowMs: number) => string
  /** Least time between two recovery attempts after a failure. Default 1000. */
  recoveryIntervalMs?: number
  /** Whether fdatasyncs overlap the requests they acknowledge (pipeline-policy.ts). Default 'adaptive'. */
  pipelining?: 'adaptive' | 'always' | 'never'
  /** Failures and recoveries, for the app's logger/metrics (the record itself is in the chain). */
  onError?: (err: Error, context: 'write' | 'recover' | 'mirror' | 'budget' | 'retention') => void
}

export interface CreateAuditLogOptions extends AuditLogOptions {
  file?: string
  /** Rotate the file (without: one file that grows forever). */
  rotation?: AuditRotationConfig
  /** The lowest seq every forwarder acknowledged: retention keeps what is above it. */
  acknowledgedSeq?: () => number
  /** Also (or only) write the lines to stdout (no fsync). */
  stdout?: boolean
  /** Test seams. */
  fs?: AuditFileSystem
  stdoutStream?: LineStream
}

export interface AuditLogStats {
  records: number
  batches: number
  failures: number
  lastBatchRecords: number
  maxBatchRecords: number
}

interface PrimarySink {
  /** Reopens and returns the durable chain head, or null when the sink cannot be read back. */
  open (): Promise<OpenedFile | null>
  /** Hands `data` to the sink in order (the page cache for a file); not yet durable. */
  write (data: Uint8Array): Promise<void>
  /** Makes everything written before the call durable (fdatasync for a file). */
  sync (): Promise<void>
  close (): Promise<void>
  /** Rotation (the file sink): see rotating-sink.ts. */
  shouldRotate?: (nowMs: number) => boolean
  budgetBlocked?: (nowMs: number) => string | null
  rotate?: () => Promise<RetiredFile[]>
  retire?: (files: RetiredFile[]) => Promise<void>
  rotatedFiles?: () => number
}

interface Pending {
  /** The entry's redacted members in canonical order (canonicalBody). */
  body: Record<string, unknown>
  time: string
  id: string
  resolve: (r: AuditRecord) => void
  reject: (e: unknown) => void
  /** Written even when the disk budget is reached (the notes that say so). */
  force: boolean
}

/** Records written to the sink that one fdatasync makes durable. */
interface Batch {
  items: Array<{ p: Pending, record: AuditRecord }>
  /** Chain head after its last record. */
  head: ChainHead
  /** Rotated files to delete once the batch (which notes them) is durable. */
  retired: RetiredFile[]
}

/**
 * A turn's records that arrived over at least this long (a long event-loop
 * turn: many requests continuing at once) reach an idle sink as two batches,
 * so that from then on one group's fdatasync runs while the requests of the
 * other (just acknowledged) compute, instead of every request waiting for the
 * same fdatasync and the disk idling while they all compute. About two
 * fdatasyncs on our machines (~0.2 ms each).
 */
const SPLIT_SPAN_MS = 0.5

const NL = 0x0a

export class GroupCommitAuditLog implements AuditLog {
  readonly #primary: PrimarySink
  readonly #mirror: StreamSink | undefined
  readonly #replica: string
  readonly #maxMs: number
  readonly #maxRecords: number
  readonly #clock: () => number
  readonly #newId: (nowMs: number) => string
  readonly #recoveryMs: number
  readonly #onError: NonNullable<AuditLogOptions['onError']>
  /** The last durable record (what head() reports and listeners learn). */
  #head: ChainHead = GENESIS_HEAD
  /** The last written record (what the next record chains to). */
  #tail: ChainHead = GENESIS_HEAD
  #queue: Pending[] = []
  /** performance.now() when the first and the last record of #queue were queued. */
  #queuedAt = 0
  #lastQueuedAt = 0
  /** A batch being rotated, serialised and written. */
  #writing: Promise<void> | null = null
  /** The sync in flight, and the batch it makes durable. */
  #syncing: Promise<void> | null = null
  #syncingBatch: Batch | null = null
  /** Bumped by every failure: completions of work started before it are void. */
  #epoch = 0
  #retiring: Promise<void> | null = null
  readonly #policy: PipelinePolicy
  #progress: Array<() => void> = []
  #timer: { kind: 'timeout', handle: ReturnType<typeof setTimeout> } | { kind: 'immediate', handle: ReturnType<typeof setImmediate> } | null = null
  #failure: Error | null = null
  #recovering: Promise<void> | null = null
  #lastRecovery = -Infinity
  #recoveryTimer: ReturnType<typeof setInterval> | null = null
  #closed = false
  #isoMs = NaN
  #iso = ''
  /** Why records are refused (the disk budget is reached), or null. */
  #blocked: string | null = null
  #refusedWhileBlocked = 0
  readonly #listeners = new Set<(head: ChainHead) => void>()
  readonly #stats: AuditLogStats = { records: 0, batches: 0, failures: 0, lastBatchRecords: 0, maxBatchRecords: 0 }

  constructor (primary: PrimarySink, mirror: StreamSink | undefined, opts: AuditLogOptions) {
    if (!opts.replica) throw new Error('audit log: replica is required')
    this.#primary = primary
    this.#mirror = mirror
    this.#replica = opts.replica
    this.#maxMs = Math.max(0, opts.batchMaxMs ?? 0)
    this.#maxRecords = Math.max(1, Math.floor(opts.batchMaxRecords ?? 256))
    this.#clock = opts.clock ?? Date.now
    this.#newId = opts.idGenerator ?? uuidV7
    this.#recoveryMs = Math.max(0, opts.recoveryIntervalMs ?? 1000)
    this.#onError = opts.onError ?? (() => {})
    this.#policy = new PipelinePolicy(performance.now(), opts.pipelining ? { pipelining: opts.pipelining } : {})
  }

  /** Opens the sink and resumes the chain; notes a truncated torn tail. Throws when the file cannot be used. */
  async start (): Promise<void> {
    const opened = await this.#primary.open()
    if (opened) this.#head = this.#tail = opened.head
    if (opened?.torn) {
      await this.#note(tornNote(opened))
      if (this.#failure) throw new Error(`audit log: cannot record the torn-tail truncation: ${describeError(this.#failure)}`, { cause: this.#failure })
    }
  }

  /** Where the chain ends now: the last durable record's seq and line hash. */
  head (): ChainHead {
    return { ...this.#head }
  }

  stats (): AuditLogStats {
    return { ...this.#stats }
  }

  writable (): boolean {
    return this.#failure === null && !this.#closed && this.#budgetReason() === null
  }

  /** Why the log refuses records now, or null when it is writable. */
  unavailableReason (): string | null {
    if (this.#closed) return 'the audit log is closed'
    if (this.#failure) return `the audit sink failed: ${describeError(this.#failure)}`
    return this.#budgetReason()
  }

  /** The disk budget is reached (records are refused until a forwarder catches up). */
  budgetReached (): boolean {
    return this.#budgetReason() !== null
  }

  /** Rotated files on disk besides the active one. */
  rotatedFiles (): number {
    return this.#primary.rotatedFiles?.() ?? 0
  }

  /** Called after every durable batch with the new head (forwarders wake on it). Returns an unsubscribe. */
  onDurable (listener: (head: ChainHead) => void): () => void {
    this.#listeners.add(listener)
    return () => { this.#listeners.delete(listener) }
  }

  append (entry: AuditEntry): Promise<AuditRecord> {
    // Not async: the common path hands back the record's own promise (an
    // async wrapper would add a promise and microtask turns to every record).
    if (this.#closed || this.#failure) return this.#appendAfterFailure(entry)
    try {
      this.#checkBudget()
      return this.#enqueue(entry)
    } catch (err) {
      return Promise.reject(err)
    }
  }

  async #appendAfterFailure (entry: AuditEntry): Promise<AuditRecord> {
    if (this.#closed) throw Problems.auditUnavailable('The audit log is closed; mutating requests are refused.')
    if (this.#failure) {
      await this.#tryRecover()
      if (this.#failure) throw unavailable(this.#failure)
    }
    this.#checkBudget()
    return await this.#enqueue(entry)
  }

  #budgetReason (): string | null {
    return this.#primary.budgetBlocked?.(this.#clock()) ?? null
  }

  /** Refuses while the disk budget is reached; notes in the chain when that starts and ends. */
  #checkBudget (): void {
    const reason = this.#budgetReason()
    if (reason !== null) {
      if (this.#blocked === null) {
        this.#blocked = reason
        this.#note({ requestId: 'audit', action: 'audit.budget-reached', phase: 'event', actor: SYSTEM_ACTOR, outcome: { status: 503, error: reason } }, true)
        this.#onError(new Error(reason), 'budget')
      }
      this.#refusedWhileBlocked++
      throw budgetProblem(reason)
    }
    if (this.#blocked !== null) {
      const refused = this.#refusedWhileBlocked
      this.#blocked = null
      this.#refusedWhileBlocked = 0
      this.#note({ requestId: 'audit', action: 'audit.budget-recovered', phase: 'event', actor: SYSTEM_ACTOR, outcome: { status: 0, refused, error: `${refused} record(s) were refused with 503 while the disk budget was reached` } })
    }
  }

  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#stopRecoveryTimer()
    await this.#recovering // it may queue notes: drain after it
    while (this.#busy() || this.#queue.length > 0) {
      const progressed = this.#nextProgress()
      this.#flush()
      if (this.#busy()) await progressed
    }
    await this.#retiring
    await this.#primary.close()
  }

  #busy (): boolean {
    return this.#writing !== null || this.#syncing !== null
  }

  /** Resolves when a write or sync settles (close waits on it). */
  #nextProgress (): Promise<void> {
    return new Promise((resolve) => { this.#progress.push(resolve) })
  }

  #progressed (): void {
    const waiting = this.#progress
    if (waiting.length === 0) return
    this.#progress = []
    for (const resolve of waiting) resolve()
  }

  #enqueue (entry: AuditEntry, force = false): Promise<AuditRecord> {
    // Copy now (the caller may mutate its object after append() returns): the
    // redacted copy is already in canonical key order, so serialising it
    // needs no second pass.
    const body = canonicalBody(entry, redactMember)
    const now = this.#clock()
    if (now !== this.#isoMs) { this.#isoMs = now; this.#iso = new Date(now).toISOString() } // many records share a millisecond under load
    return new Promise((resolve, reject) => {
      const at = performance.now()
      this.#lastQueuedAt = at
      if (this.#queue.length === 0) this.#queuedAt = at
      this.#queue.push({ body, time: this.#iso, id: this.#newId(now), resolve, reject, force })
      this.#schedule()
    })
  }

  #note (entry: AuditEntry, force = false): Promise<void> {
    return this.#enqueue(entry, force).then(() => {}, (err: unknown) => this.#onError(asError(err), 'write'))
  }

  #schedule (): void {
    if (this.#queue.length >= this.#maxRecords) this.#flush()
    if (this.#timer === null && this.#queue.length > 0) {
      const fire = (): void => { this.#timer = null; this.#flush(true) }
      this.#timer = this.#maxMs > 0
        ? { kind: 'timeout', handle: setTimeout(fire, this.#maxMs) }
        : { kind: 'immediate', handle: setImmediate(fire) }
    }
  }

  #clearTimer (): void {
    const t = this.#timer
    if (t === null) return
    if (t.kind === 'timeout') clearTimeout(t.handle)
    else clearImmediate(t.handle)
    this.#timer = null
  }

  /**
   * Writes queued records (at most batchMaxRecords) when the sink is free:
   * nothing being written and no fdatasync in flight (so a rotation, which
   * happens before a write, always finds every written record durable).
   * Called by the timer and the count trigger, and again whenever a write or
   * fdatasync completes. `split` (the end of a turn): see SPLIT_SPAN_MS.
   */
  #flush (split = false): void {
    if (this.#queue.length === 0 || this.#writing !== null || this.#syncing !== null) return
    let take = this.#maxRecords
    const n = this.#queue.length
    if (split && this.#maxMs === 0 && this.#policy.pipelined && n >= 2 && n <= take && this.#lastQueuedAt - this.#queuedAt >= SPLIT_SPAN_MS) take = Math.ceil(n / 2)
    const records = this.#queue.splice(0, take)
    if (this.#queue.length === 0) this.#clearTimer()
    const writing = this.#writeBatch(records)
    this.#writing = writing
    writing.finally(() => {
      if (this.#writing === writing) this.#writing = null
      this.#progressed()
      this.#flush()
    }).catch(() => {})
  }

  async #writeBatch (batch: Pending[]): Promise<void> {
    const epoch = this.#epoch
    let retired: RetiredFile[] = []
    try {
      const now = this.#primary.shouldRotate ? this.#clock() : 0
      if (this.#primary.shouldRotate?.(now) === true) {
        await this.#retiring
        const reason = this.#primary.budgetBlocked?.(now) ?? null
        if (reason !== null) {
          // Budget reached: only the notes that say so are written (a few lines over the budget).
          const problem = budgetProblem(reason)
          for (const p of batch) if (p.force !== true) p.reject(problem)
          batch = batch.filter((p) => p.force === true)
        } else if (this.#primary.rotate) {
          retired = await this.#primary.rotate()
          batch = [...retired.map((f) => this.#pending(retentionNote(f))), ...batch]
        }
      }
    } catch (err) {
      this.#failOrReject(epoch, asError(err), batch)
      return
    }
    // Each line is encoded once, into the batch's buffer, and hashed from there.
    let seq = this.#tail.seq
    let hash = this.#tail.hash
    let data = Buffer.allocUnsafe(batch.length * 1024)
    let used = 0
    const items: Batch['items'] = []
    for (const p of batch) {
      const record = canonicalRecord(seq + 1, p.time, p.id, this.#replica, p.body, hash)
      let line: string
      try {
        line = JSON.stringify(record)
      } catch (err) {
        p.reject(err)
        continue
      }
      const need = used + line.length * 3 + 1
      if (need > data.byteLength) data = Buffer.concat([data.subarray(0, used)], Math.max(need, data.byteLength * 2))
      const end = used + data.write(line, used, 'utf8')
      hash = hashLine(data.subarray(used, end))
      data[end] = NL
      used = end + 1
      seq = record.seq
      items.push({ p, record })
    }
    if (items.length === 0) return
    const head = { seq, hash }
    try {
      data = data.subarray(0, used)
      await this.#primary.write(data)
      if (this.#mirror) {
        await this.#mirror.write(data).catch((err: unknown) => this.#onError(asError(err), 'mirror'))
      }
    } catch (err) {
      this.#failOrReject(epoch, asError(err), items.map((d) => d.p))
      return
    }
    if (epoch !== this.#epoch) {
      // The log failed while this batch was being written: it is not acknowledged.
      rejectAll(items.map((d) => d.p), unavailable(this.#failure ?? new Error('the audit sink failed')))
      return
    }
    this.#tail = head
    this.#startSync({ items, head, retired })
  }

  #startSync (b: Batch): void {
    const epoch = this.#epoch
    this.#syncingBatch = b
    const syncing = this.#primary.sync().then(
      () => { if (epoch === this.#epoch) this.#synced(b) },
      (err: unknown) => { if (epoch === this.#epoch) this.#fail(asError(err), []) }
    ).finally(() => {
      if (this.#syncing === syncing) this.#syncing = null
      this.#progressed()
      this.#flush()
    })
    this.#syncing = syncing
  }

  /** `b` is durable: acknowledge its appends. */
  #synced (b: Batch): void {
    this.#syncingBatch = null
    this.#syncing = null
    this.#head = b.head
    const n = b.items.length
    this.#policy.synced(n, performance.now())
    this.#stats.batches++
    this.#stats.records += n
    this.#stats.lastBatchRecords = n
    if (n > this.#stats.maxBatchRecords) this.#stats.maxBatchRecords = n
    if (b.retired.length > 0 && this.#primary.retire) {
      // Deleted only once their notes are durable; a failure leaves them for the next rotation.
      const retiring = this.#primary.retire(b.retired)
        .catch((err: unknown) => this.#onError(asError(err), 'retention'))
        .finally(() => { if (this.#retiring === retiring) this.#retiring = null })
      this.#retiring = retiring
    }
    // Pipelined: records that queued meanwhile are written (and their
    // fdatasync started) before the acknowledged requests continue.
    if (this.#policy.pipelined) this.#flush()
    for (const { p, record } of b.items) p.resolve(record)
    for (const l of this.#listeners) l({ ...b.head })
  }

  /** A pending entry nobody waits for (notes the writer adds to a batch itself). */
  #pending (entry: AuditEntry): Pending {
    const body = canonicalBody(entry, redactMember)
    const now = this.#clock()
    const fail = (err: unknown): void => this.#onError(asError(err), 'write')
    return { body, force: false, time: new Date(now).toISOString(), id: this.#newId(now), resolve: () => {}, reject: fail }
  }

  #failOrReject (epoch: number, err: Error, batch: Pending[]): void {
    if (epoch === this.#epoch) this.#fail(err, batch)
    else rejectAll(batch, unavailable(this.#failure ?? err))
  }

  #fail (err: Error, batch: Pending[]): void {
    this.#epoch++
    this.#failure = err
    this.#stats.failures++
    this.#lastRecovery = performance.now()
    const rejected = [...(this.#syncingBatch?.items.map((d) => d.p) ?? []), ...batch, ...this.#queue.splice(0)]
    this.#syncingBatch = null
    this.#clearTimer()
    rejectAll(rejected, unavailable(err))
    this.#onError(err, 'write')
    if (!this.#closed && this.#recoveryTimer === null) {
      this.#recoveryTimer = setInterval(() => { this.#tryRecover(true).catch(() => {}) }, Math.max(this.#recoveryMs, 10))
      this.#recoveryTimer.unref()
    }
  }

  /** Single-flight; from appends at most once per recoveryIntervalMs (the timer is its own limit). */
  #tryRecover (fromTimer = false): Promise<void> {
    if (!this.#failure || this.#closed) return Promise.resolve()
    if (this.#recovering) return this.#recovering
    if (!fromTimer && performance.now() - this.#lastRecovery < this.#recoveryMs) return Promise.resolve()
    this.#lastRecovery = performance.now()
    this.#recovering = this.#recover().finally(() => { this.#recovering = null })
    return this.#recovering
  }

  async #recover (): Promise<void> {
    const cause = this.#failure
    // A write or sync started before the failure may still be running on the old file descriptor.
    await this.#writing?.catch(() => {})
    await this.#syncing?.catch(() => {})
    let opened: OpenedFile | null
    try {
      opened = await this.#primary.open()
    } catch (err) {
      this.#onError(asError(err), 'recover')
      return
    }
    // Without a readable sink, continue from the last durable record.
    this.#tail = this.#head = opened ? opened.head : this.#head
    this.#failure = null
    this.#stopRecoveryTimer()
    // Queued before any append that waited for this recovery, so they come first.
    if (opened?.torn) this.#note(tornNote(opened))
    this.#note({
      requestId: 'audit',
      action: 'audit.recovered',
      phase: 'event',
      actor: SYSTEM_ACTOR,
      outcome: { status: 0, error: describeError(cause) }
    })
  }

  #stopRecoveryTimer (): void {
    if (this.#recoveryTimer) clearInterval(this.#recoveryTimer)
    this.#recoveryTimer = null
  }
}

function rejectAll (pending: Pending[], err: Error): void {
  for (const p of pending) p.reject(err)
}
function retentionNote (f: RetiredFile): AuditEntry {
  return {
    requestId: 'audit',
    action: 'audit.retention',
    phase: 'event',
    actor: SYSTEM_ACTOR,
    outcome: { status: 0, error: 'rotated file deleted by retention (audit.rotation.maxFiles); every forwarder had acknowledged it', ...describeRetired(f) }
  }
}

function budgetProblem (reason: string): Error {
  return Problems.auditUnavailable(`Mutating requests are refused: ${reason}.`, { reason: 'audit-disk-budget', retryAfter: 30 })
}

function tornNote (opened: OpenedFile): AuditEntry {
  return {
    requestId: 'audit',
    action: 'audit.torn-tail-truncated',
    phase: 'event',
    actor: SYSTEM_ACTOR,
    outcome: {
      status: 0,
      error: 'the last line had no newline (a write was interrupted); it was never acknowledged and was removed',
      bytes: opened.torn?.bytes,
      sha256: opened.torn?.sha256,
      offset: opened.torn?.offset
    }
  }
}

function asError (err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err))
}

function describeError (err: Error | null): string {
  if (!err) return 'unknown'
  const code = (err as NodeJS.ErrnoException).code
  return code ? `${code}: ${err.message}` : err.message
}

function unavailable (cause: Error): Error {
  return Problems.auditUnavailable(undefined, {}, { cause })
}

/** The file and/or stdout audit log. Resolves once the chain head is known (and a torn tail noted). */
export async function createAuditLog (opts: CreateAuditLogOptions): Promise<GroupCommitAuditLog> {
  if (!opts.file && !opts.stdout) throw new Error('audit log: configure a file, stdout, or both')
  const stream = opts.stdout ? new StreamSink(opts.stdoutStream ?? process.stdout) : undefined
  let primary: PrimarySink
  let mirror: StreamSink | undefined
  if (opts.file) {
    primary = opts.rotation
      ? new RotatingFileSink({ file: opts.file, rotation: opts.rotation, ...(opts.fs ? { fs: opts.fs } : {}), ...(opts.acknowledgedSeq ? { acknowledgedSeq: opts.acknowledgedSeq } : {}) })
      : new FileSink(opts.fs ? { file: opts.file, fs: opts.fs } : { file: opts.file })
    mirror = stream
  } else {
    const only = stream as StreamSink
    // Nothing to read back: keep the in-memory head across failures.
    primary = { open: async () => null, write: (d) => only.write(d), sync: async () => {}, close: async () => {} }
  }
  const log = new GroupCommitAuditLog(primary, mirror, opts)
  try {
    await log.start()
  } catch (err) {
    await log.close().catch(() => {})
    throw err
  }
  return log
}

export type MemoryAuditLog = GroupCommitAuditLog & {
  readonly sink: MemorySink
  /** Parsed records written so far. */
  readonly records: AuditRecord[]
}

/** An in-memory audit log for tests (same chain and batching); `sink.setFailure(err)` makes it unwritable. */
export function createMemoryAuditLog (opts: Partial<AuditLogOptions> = {}): MemoryAuditLog {
  const sink = new MemorySink()
  const log = new GroupCommitAuditLog(sink, undefined, { replica: 'test', recoveryIntervalMs: 0, ...opts })
  return Object.defineProperties(log, {
    sink: { value: sink },
    records: { get: () => sink.records }
  }) as MemoryAuditLog
}

/** An AuditLog that writes nothing: for benchmarks' "audit off" baseline only. */
export function createNoopAuditLog (replica = 'noop'): AuditLog {
  let seq = 0
  return {
    append: async (entry) => ({ ...entry, seq: ++seq, time: new Date().toISOString(), id: uuidV7(), replica, prevHash: '' }),
    writable: () => true,
    close: async () => {}
  }
}
