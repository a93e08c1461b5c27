// The attach sessions of this replica, live or about to be (prepared before
// the upgrade): shutdown ends each with 1001 and waits for its audit record.
import type { RelaySession } from './relay/session.ts'

/** A live (or about-to-be-live) session, for shutdown and tests. */
export interface ActiveSession {
  id: string
  namespace: string
  pod: string
  container?: string
  user: string
  relay?: RelaySession
  /** Ends the session (1001 on shutdown); resolves once it is audited. */
  close (code: number, reason: string): Promise<void>
}

export class SessionRegistry {
  readonly #sessions = new Map<string, ActiveSession>()
  /** Set by closeAll: new sessions are refused (503) from then on. */
  closing = false
  add (s: ActiveSession): void { this.#sessions.set(s.id, s) }
  delete (id: string): void { this.#sessions.delete(id) }
  list (): ActiveSession[] { return [...this.#sessions.values()] }
  get size (): number { return this.#sessions.size }
  async closeAll (code: number, reason: string): Promise<void> {
    this.closing = true
    await Promise.all(this.list().map(async s => { await s.close(code, reason) }))
  }
}
