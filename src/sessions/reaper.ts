// The TTL reaper every replica runs: deletes copies and node pods whose
// expires-at annotation has passed. Replicas race on purpose: the delete
// carries uid + resourceVersion preconditions, and 404 (already gone) or 409
// (changed or recreated meanwhile) means another replica or a person got there
// first, which is success. Ephemeral containers cannot be deleted; sessions
// report them as expired.
//
// Only verified sessions are reaped: labels and annotations are writable by
// anyone who may create pods, and a planted `expires-at` must never make the
// gateway delete someone's pod. Unverified pods with our labels are left alone
// and reported: a gauge, and one audit record per pod (per replica lifetime).
import { Counter, Gauge, type Registry } from 'prom-client'
import type { AuditLog } from '../audit/types.ts'
import { SYSTEM_ACTOR } from '../audit/writer.ts'
import { isProblemError } from '../errors.ts'
import type { DebugClient } from '../kube/debug-client.ts'
import { ANNOTATION_EXPIRES_AT, ANNOTATION_REQUESTED_BY } from './attribution.ts'
import type { Pod } from '../kube/types.ts'
import { MANAGED_SELECTOR } from './finder.ts'
import { isExpired, podSession, type VerifyFn } from './found.ts'

export type ReapResult = 'deleted' | 'gone' | 'error' | 'unverified'
/** Reported unverified pods remembered per replica (bounded: a flood of planted pods cannot grow memory). */
const MAX_REPORTED = 10_000

export interface ReaperOptions {
  client: DebugClient
  audit: AuditLog
  /** Checks the signature of what is found (src/security/signing.ts). */
  verify: VerifyFn
  intervalMs: number
  registry?: Registry
  clock?: () => number
  onError?: (err: unknown, context: string) => void
  /** Request id prefix in audit records. */
  replica?: string
}

export class Reaper {
  readonly #o: ReaperOptions
  readonly #clock: () => number
  readonly #counter: Counter<'result'>
  readonly #unverified: Gauge
  readonly #reported = new Set<string>()
  #timer: NodeJS.Timeout | undefined
  #running: Promise<void> | undefined
  #round = 0

  constructor (opts: ReaperOptions) {
    this.#o = opts
    this.#clock = opts.clock ?? Date.now
    this.#counter = new Counter({
      name: 'kdebug_reaper_deletions_total',
      help: 'Expired debug pods the TTL reaper handled: deleted, gone (another replica or a person was first), error',
      labelNames: ['result'],
      registers: opts.registry ? [opts.registry] : []
    })
    this.#unverified = new Gauge({
      name: 'kdebug_reaper_unverified_pods',
      help: 'Pods with the gateway\'s labels whose signature does not verify, seen by the last sweep (left alone, never deleted)',
      registers: opts.registry ? [opts.registry] : []
    })
  }

  start (): void {
    if (this.#timer) return
    this.#timer = setInterval(() => { this.runOnce().catch(err => this.#o.onError?.(err, 'reaper')) }, this.#o.intervalMs)
    this.#timer.unref()
  }

  async stop (): Promise<void> {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
    await this.#running
  }

  /** One sweep (overlapping calls share the sweep in progress). */
  async runOnce (): Promise<Array<{ namespace: string, pod: string, result: ReapResult }>> {
    if (this.#running) {
      await this.#running
      return []
    }
    const results: Array<{ namespace: string, pod: string, result: ReapResult }> = []
    this.#running = (async () => {
      try {
        const list = await this.#o.client.listPods({ labelSelector: MANAGED_SELECTOR })
        const now = this.#clock()
        const unverified: Pod[] = []
        const expired: Pod[] = []
        for (const p of list.items) {
          if ((p.metadata as { deletionTimestamp?: string }).deletionTimestamp) continue
          const found = podSession(p, now, this.#o.verify)
          if (found?.verified !== true) unverified.push(p)
          else if (isExpired(p.metadata.annotations?.[ANNOTATION_EXPIRES_AT], now)) expired.push(p)
        }
        this.#unverified.set(unverified.length)
        for (const pod of unverified) {
          await this.#report(pod)
          results.push({ namespace: pod.metadata.namespace ?? '', pod: pod.metadata.name ?? '', result: 'unverified' })
        }
        for (const pod of expired) results.push({ namespace: pod.metadata.namespace ?? '', pod: pod.metadata.name ?? '', result: await this.#reap(pod) })
      } catch (err) {
        this.#o.onError?.(err, 'reaper list')
      }
    })()
    try {
      await this.#running
    } finally {
      this.#running = undefined
    }
    return results
  }

  /** One audit record per unverified pod (by uid), so people can find and remove planted objects. */
  async #report (pod: Pod): Promise<void> {
    const meta = pod.metadata as { name?: string, namespace?: string, uid?: string }
    const key = meta.uid ?? `${meta.namespace ?? ''}/${meta.name ?? ''}`
    if (this.#reported.has(key)) return
    if (this.#reported.size >= MAX_REPORTED) this.#reported.clear()
    this.#reported.add(key)
    await this.#o.audit.append({
      requestId: `reaper-${this.#o.replica ?? 'local'}-${++this.#round}`,
      action: 'reaper.unverified',
      phase: 'event',
      actor: { user: SYSTEM_ACTOR.user, groups: [...SYSTEM_ACTOR.groups] },
      target: { namespace: meta.namespace ?? '', pod: meta.name ?? '' },
      decision: { allowed: false, detail: 'pod carries the gateway\'s labels but no valid signature: left alone' },
      request: { claimedRequestedBy: pod.metadata.annotations?.[ANNOTATION_REQUESTED_BY], expiresAt: pod.metadata.annotations?.[ANNOTATION_EXPIRES_AT] }
    }).catch(err => {
      this.#reported.delete(key)
      this.#o.onError?.(err, 'reaper audit')
    })
  }

  /**
   * Delete with uid + resourceVersion preconditions, so a TTL extended meanwhile is honoured.
   * A 409 may also be just a kubelet status update: re-read once and retry if the pod is the
   * same, not being deleted, and still expired (else the 409 stands: someone else acted).
   */
  async #deleteIfStillExpired (pod: Pod): Promise<void> {
    const meta = pod.metadata as { name?: string, namespace?: string, uid?: string, resourceVersion?: string }
    const namespace = meta.namespace ?? ''
    const name = meta.name ?? ''
    try {
      await this.#o.client.deletePod(namespace, name, { preconditions: { uid: meta.uid, resourceVersion: meta.resourceVersion } })
    } catch (err) {
      if (!isProblemError(err) || err.status !== 409) throw err
      const fresh = await this.#o.client.getPod(namespace, name)
      const m = fresh.metadata as { uid?: string, resourceVersion?: string, deletionTimestamp?: string }
      // Re-checked on the fresh object: its metadata may have been changed (and unsigned) meanwhile.
      if (m.uid !== meta.uid || m.deletionTimestamp || podSession(fresh, this.#clock(), this.#o.verify)?.verified !== true ||
        !isExpired(fresh.metadata.annotations?.[ANNOTATION_EXPIRES_AT], this.#clock())) throw err
      await this.#o.client.deletePod(namespace, name, { preconditions: { uid: m.uid, resourceVersion: m.resourceVersion } })
    }
  }

  async #reap (pod: Pod): Promise<ReapResult> {
    const meta = pod.metadata as { name?: string, namespace?: string, uid?: string, resourceVersion?: string }
    const namespace = meta.namespace ?? ''
    const name = meta.name ?? ''
    const session = podSession(pod, this.#clock(), this.#o.verify)?.session
    const entry = {
      requestId: `reaper-${this.#o.replica ?? 'local'}-${++this.#round}`,
      action: 'reaper.delete',
      actor: { user: SYSTEM_ACTOR.user, groups: [...SYSTEM_ACTOR.groups] },
      target: { namespace, pod: name, ...(session ? { session: session.id } : {}), ...(session?.container ? { container: session.container } : {}) },
      request: { expiresAt: pod.metadata.annotations?.[ANNOTATION_EXPIRES_AT], requestedBy: session?.requestedBy }
    }
    let record
    try {
      // No deletion without its record, as for people.
      record = await this.#o.audit.append({ ...entry, phase: 'request', decision: { allowed: true, detail: 'session expired' } })
    } catch (err) {
      this.#o.onError?.(err, 'reaper audit')
      this.#counter.inc({ result: 'error' })
      return 'error'
    }
    let result: ReapResult
    let status = 200
    let error: string | undefined
    try {
      await this.#deleteIfStillExpired(pod)
      result = 'deleted'
    } catch (err) {
      status = isProblemError(err) ? err.status : 500
      error = isProblemError(err) ? err.detail : 'unknown error'
      result = status === 404 || status === 409 ? 'gone' : 'error'
      if (result === 'error') this.#o.onError?.(err, 'reaper delete')
    }
    this.#counter.inc({ result })
    await this.#o.audit.append({ ...entry, phase: 'outcome', relatesTo: record.id, outcome: { status, result, ...(error ? { error } : {}) } })
      .catch(err => this.#o.onError?.(err, 'reaper audit'))
    return result
  }
}
