// Which requests already have an audit record. Every decision is meant to be
// exactly one record: routes and services write the records they know best
// (with rule, permission, target), and the decision-audit plugin writes one for
// any refusal or failure that ended without one. To know which, the AuditLog
// handed to the app is wrapped: each append is counted against its in-flight
// request (and stamped with the client's own request id, which is never the
// record's id). Records of nobody's request (reaper, recovery notes) pass through.
import type { AuditEntry, AuditLog, AuditRecord } from './types.ts'

interface InFlight {
  clientRequestId?: string
  records: number
}

export interface RequestAuditTrackerOptions {
  audit: AuditLog
  /** Called for every entry before it is appended (budget accounting). */
  onEntry?: (entry: AuditEntry) => void
  /** Bound on remembered requests (a request whose end was never seen must not leak). Default 65536. */
  maxInFlight?: number
}

export class RequestAuditTracker {
  readonly log: AuditLog
  readonly #inFlight = new Map<string, InFlight>()
  readonly #max: number

  constructor (opts: RequestAuditTrackerOptions) {
    const { audit, onEntry } = opts
    this.#max = opts.maxInFlight ?? 65536
    const inFlight = this.#inFlight
    this.log = {
      async append (entry: AuditEntry): Promise<AuditRecord> {
        const req = inFlight.get(entry.requestId)
        let e = entry
        if (req !== undefined) {
          req.records++
          if (req.clientRequestId !== undefined && entry.clientRequestId === undefined) e = { ...entry, clientRequestId: req.clientRequestId }
        }
        onEntry?.(e)
        return await audit.append(e)
      },
      writable: () => audit.writable(),
      close: async () => { await audit.close() }
    }
  }

  begin (requestId: string, clientRequestId: string | undefined): void {
    if (this.#inFlight.size >= this.#max) {
      const oldest = this.#inFlight.keys().next()
      if (oldest.done !== true) this.#inFlight.delete(oldest.value)
    }
    this.#inFlight.set(requestId, clientRequestId === undefined ? { records: 0 } : { clientRequestId, records: 0 })
  }

  /** Records appended so far for the request (0 when unknown). */
  records (requestId: string): number {
    return this.#inFlight.get(requestId)?.records ?? 0
  }

  end (requestId: string): void {
    this.#inFlight.delete(requestId)
  }

  /** Requests being tracked (tests: nothing leaks). */
  get size (): number { return this.#inFlight.size }
}
