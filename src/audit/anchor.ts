// Anchoring: every audit.anchor.intervalSeconds each replica publishes its
// chain head (seq, hash, time) to a coordination.k8s.io/v1 Lease in its
// namespace, labelled kdebug.io/audit-anchor=<replica>. A chain alone cannot
// show that its tail was cut off or rewritten (see verify.ts); the anchor,
// kept by the API server outside the pod's disk, can: `kdebug-audit-verify
// --anchor-from-cluster` requires the chain to reach the anchored seq with the
// anchored hash. A Lease because it is the small object meant for "who holds
// what, renewed periodically" (kubernetes/kubernetes
// staging/src/k8s.io/client-go/tools/leaderelection/resourcelock/leaselock.go
// keeps its record in the spec the same way) and the gateway already has
// least-privilege RBAC for Leases in its namespace.
//
// The anchor never moves backwards: if the Lease holds a later seq than this
// replica's head, or the same seq with another hash, the local log lost or
// changed records after they were anchored. The Lease is then left as it is
// (the evidence stays), the mismatch is reported, and anchoring stops until a
// person looks and deletes the Lease.
import { createHash } from 'node:crypto'
import type { ChainHead } from './chain.ts'
import type { Lease, LeaseClient } from '../kube/lease-client.ts'
import { isProblemError } from '../errors.ts'

export const ANCHOR_LABEL = 'kdebug.io/audit-anchor'
const SEQ_ANNOTATION = 'kdebug.io/audit-seq'
const HASH_ANNOTATION = 'kdebug.io/audit-hash'
const TIME_ANNOTATION = 'kdebug.io/audit-time'
const REPLICA_ANNOTATION = 'kdebug.io/audit-replica'

export interface PublishedAnchor {
  replica: string
  seq: number
  hash: string
  time: string
}

/** A label value for the replica: ≤ 63 characters of [A-Za-z0-9._-], alphanumeric at both ends (apimachinery validation.IsValidLabelValue). */
export function anchorLabelValue (replica: string): string {
  const clean = replica.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '')
  if (clean === replica && clean.length <= 63) return clean
  const digest = createHash('sha256').update(replica).digest('hex').slice(0, 10)
  return `${clean.slice(0, 52).replace(/[^A-Za-z0-9]+$/, '')}-${digest}`
}

/** The Lease's name: a DNS subdomain (lowercase) derived from the replica. */
export function anchorLeaseName (replica: string): string {
  return `kdebug-audit-anchor-${anchorLabelValue(replica).toLowerCase().replace(/[._]/g, '-')}`.slice(0, 253).replace(/-+$/, '')
}

export function anchorFromLease (lease: Lease): PublishedAnchor | null {
  const a = lease.metadata.annotations ?? {}
  const seq = Number(a[SEQ_ANNOTATION])
  const hash = a[HASH_ANNOTATION]
  if (!Number.isSafeInteger(seq) || seq < 0 || typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)) return null
  return { replica: a[REPLICA_ANNOTATION] ?? lease.spec.holderIdentity ?? '', seq, hash, time: a[TIME_ANNOTATION] ?? '' }
}

/** The anchor a replica published, or null when there is none (a GET by name: `get leases` is all a verifier needs). */
export async function fetchAnchor (leases: LeaseClient, namespace: string, replica: string): Promise<PublishedAnchor | null> {
  let lease: Lease
  try {
    lease = await leases.get(namespace, anchorLeaseName(replica))
  } catch (err) {
    if (isProblemError(err) && err.status === 404) return null
    throw err
  }
  const anchor = anchorFromLease(lease)
  if (anchor === null) throw new Error(`Lease ${namespace}/${lease.metadata.name} holds no valid anchor`)
  if (anchor.replica !== replica) throw new Error(`Lease ${namespace}/${lease.metadata.name} anchors replica ${anchor.replica}, not ${replica}`)
  return anchor
}

export interface AnchorStatus {
  /** The last head published (or confirmed unchanged). */
  published?: PublishedAnchor
  /** Set when the Lease is ahead of (or differs from) the local chain: anchoring stopped. */
  mismatch?: string
  lastError?: string
}

export interface AuditAnchorOptions {
  leases: LeaseClient
  namespace: string
  replica: string
  /** The durable chain head (GroupCommitAuditLog.head). */
  head: () => ChainHead
  intervalMs: number
  clock?: () => number
  onError?: (err: Error) => void
  /** Called once when the Lease shows the local log lost or changed anchored records. */
  onMismatch?: (detail: string) => void
}

export class AuditAnchor {
  readonly #o: AuditAnchorOptions
  readonly #clock: () => number
  readonly #name: string
  #lease: Lease | null = null
  #timer: ReturnType<typeof setInterval> | null = null
  #running: Promise<void> | null = null
  readonly #status: AnchorStatus = {}

  constructor (opts: AuditAnchorOptions) {
    this.#o = opts
    this.#clock = opts.clock ?? Date.now
    this.#name = anchorLeaseName(opts.replica)
  }

  get leaseName (): string { return this.#name }

  status (): AnchorStatus {
    return { ...this.#status }
  }

  start (): void {
    if (this.#timer !== null || this.#o.intervalMs <= 0) return
    this.#timer = setInterval(() => { this.publish().catch(() => {}) }, this.#o.intervalMs)
    this.#timer.unref()
  }

  /** Stops the timer and publishes the final head. */
  async stop (): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#timer = null
    await this.publish().catch(() => {})
  }

  /** Publishes the current head (single-flight). Resolves when done; failures are in status().lastError. */
  publish (): Promise<void> {
    this.#running ??= this.#publish().finally(() => { this.#running = null })
    return this.#running
  }

  async #publish (): Promise<void> {
    if (this.#status.mismatch !== undefined) return
    const head = this.#o.head()
    if (head.seq === 0) return
    const { leases, namespace, replica } = this.#o
    try {
      const current = this.#lease ?? await leases.get(namespace, this.#name).catch((err: unknown) => {
        if (isProblemError(err) && err.status === 404) return null
        throw err
      })
      const prior = current ? anchorFromLease(current) : null
      if (prior !== null && (prior.seq > head.seq || (prior.seq === head.seq && prior.hash !== head.hash))) {
        const detail = `anchor Lease ${namespace}/${this.#name} holds seq ${prior.seq} (hash ${prior.hash}) but the local chain ends at seq ${head.seq} (hash ${head.hash}): anchored records were lost or changed; anchoring stopped, the Lease is left as evidence`
        this.#status.mismatch = detail
        this.#o.onMismatch?.(detail)
        return
      }
      const time = new Date(this.#clock()).toISOString()
      const next: PublishedAnchor = { replica, seq: head.seq, hash: head.hash, time }
      if (prior !== null && prior.seq === head.seq) {
        this.#status.published = prior
        this.#lease = current
        return
      }
      const body = leaseFor(namespace, this.#name, next, current)
      this.#lease = current === null ? await leases.create(body) : await leases.update(body)
      this.#status.published = next
      delete this.#status.lastError
    } catch (err) {
      this.#lease = null // re-read next time (409: someone changed it)
      const e = err instanceof Error ? err : new Error(String(err))
      this.#status.lastError = e.message
      this.#o.onError?.(e)
    }
  }
}

function leaseFor (namespace: string, name: string, anchor: PublishedAnchor, current: Lease | null): Lease {
  // MicroTime: RFC 3339 with microseconds (k8s.io/apimachinery pkg/apis/meta/v1 micro_time.go RFC3339Micro).
  const micro = anchor.time.replace(/\.(\d{3})Z$/, '.$1000Z')
  return {
    metadata: {
      name,
      namespace,
      ...(current?.metadata.resourceVersion ? { resourceVersion: current.metadata.resourceVersion } : {}),
      labels: { ...(current?.metadata.labels ?? {}), [ANCHOR_LABEL]: anchorLabelValue(anchor.replica) },
      annotations: {
        ...(current?.metadata.annotations ?? {}),
        [SEQ_ANNOTATION]: String(anchor.seq),
        [HASH_ANNOTATION]: anchor.hash,
        [TIME_ANNOTATION]: anchor.time,
        [REPLICA_ANNOTATION]: anchor.replica
      }
    },
    spec: { holderIdentity: anchor.replica, renewTime: micro, ...(current ? {} : { acquireTime: micro }) }
  }
}
