// Keeps each replica's cache of session ledgers (ledger.ts) current: one watch
// of the ledger Leases in their namespace hands every change another replica
// makes to SessionLedger.observe. Without it, a user whose previous create went
// to another replica (every other one behind a round-robin Service) costs this
// replica a 409, a read and a second write before it can reserve. Freshness
// only: every ledger write stays conditional on the resourceVersion, so a
// missed, late or lost event costs that 409, never a wrong count, and the
// watch failing never fails a request.
//
// Like client-go's reflector (staging/src/k8s.io/client-go/tools/cache/
// reflector.go, ListAndWatch): list to learn where to start, watch with
// bookmarks and a server-side timeout of 5–10 minutes, resume from the last
// resourceVersion seen, list again after 410 Expired, back off (src/lib/backoff.ts) on errors.
import { MANAGED_BY, MANAGED_BY_LABEL } from './attribution.ts'
import { abortableSleep, backoffDelay } from '../lib/backoff.ts'
import { WatchExpiredError, type Lease, type WatchableLeaseClient } from '../kube/lease-client.ts'

export const LEDGER_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY}`

export interface LedgerObserver {
  observe: (lease: Lease) => void
  observeDeleted: (name: string) => void
}

export interface LedgerWatchOptions {
  leases: Pick<WatchableLeaseClient, 'listVersion' | 'watch'>
  namespace: string
  ledger: LedgerObserver
  /** A failed list or watch (the next attempt follows after the backoff). */
  onError?: (err: unknown) => void
  /** Waits between attempts (injectable so tests never depend on time). */
  delay?: (ms: number, signal: AbortSignal) => Promise<void>
  random?: () => number
}

export interface LedgerWatch {
  /** Ends the watch; resolves when its loop has returned. */
  stop: () => Promise<void>
}

/** Between watch cycles that saw no event: full jitter up to 1 s, doubling to 30 s. */
const BACKOFF = { initialMs: 1000, maxMs: 30_000 }
/** client-go's minWatchTimeout; each watch asks for a random timeout between it and twice it, so replicas do not reconnect together. */
const MIN_WATCH_TIMEOUT_S = 300

export function startLedgerWatch (opts: LedgerWatchOptions): LedgerWatch {
  const abort = new AbortController()
  const { signal } = abort
  const delay = opts.delay ?? abortableSleep
  const random = opts.random ?? Math.random
  const run = async (): Promise<void> => {
    let resourceVersion: string | undefined
    // Cycles in a row that saw no event: a server that ends or refuses every watch at once is
    // asked again after a growing pause, not in a tight loop.
    let idleCycles = 0
    while (!signal.aborted) {
      let seen = false
      try {
        resourceVersion ??= await opts.leases.listVersion(opts.namespace, LEDGER_SELECTOR)
        await opts.leases.watch(opts.namespace, {
          labelSelector: LEDGER_SELECTOR,
          resourceVersion,
          timeoutSeconds: Math.floor(MIN_WATCH_TIMEOUT_S * (1 + random())),
          signal
        }, (event) => {
          seen = true
          resourceVersion = event.object.metadata.resourceVersion ?? resourceVersion
          if (event.type === 'DELETED') opts.ledger.observeDeleted(event.object.metadata.name)
          else if (event.type !== 'BOOKMARK') opts.ledger.observe(event.object)
        })
        // The server ended the watch at its timeout: resume where it left off.
      } catch (err) {
        if (signal.aborted) return
        // Events between the resourceVersion and now were compacted away: start from a new list
        // (what was missed only costs 409s on the users it touched).
        if (err instanceof WatchExpiredError) resourceVersion = undefined
        else opts.onError?.(err)
      }
      idleCycles = seen ? 0 : idleCycles + 1
      if (idleCycles > 0 && !signal.aborted) await delay(backoffDelay(idleCycles, BACKOFF, random), signal)
    }
  }
  const loop = run()
  return {
    async stop () {
      abort.abort()
      await loop
    }
  }
}
