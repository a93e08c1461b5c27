// What every authentication mode implements. The contract that keeps the
// gateway fail-closed: `undefined` means "this token is not valid" (→ 401);
// a backing service that cannot answer throws a ProblemError (→ 503), so an
// outage is never mistaken for either a valid or an invalid token.
import type { FastifyRequest } from 'fastify'
import type { AuthMethod, Identity, Principal } from './identity.ts'
import type { CacheStats } from './single-flight.ts'
import { ALL_AUTHENTICATED } from '../kube/user-info.ts'

export interface Authenticator {
  readonly method: AuthMethod
  authenticate (token: string): Promise<Principal | undefined>
  /** Cache counters for /metrics, when the mode caches. */
  stats?(): CacheStats
}

export { ALL_AUTHENTICATED }

/** The API server's authenticator chain adds system:authenticated to every authenticated user; modes that don't ask it do the same. */
export function withAuthenticatedGroup (groups: readonly string[]): string[] {
  return groups.includes(ALL_AUTHENTICATED) ? [...groups] : [...groups, ALL_AUTHENTICATED]
}

/** Stream tickets (`?ticket=`): single-use credentials for clients that cannot send headers (browsers' WebSocket, EventSource). */
export interface TicketAuthenticator {
  /** The identity the ticket was issued to (delegation already applied), or undefined when invalid/expired/used. */
  authenticate (ticket: string, request: FastifyRequest): Promise<Identity | undefined>
}
