// Request ids. The gateway's id of a request is always one it generated (a
// random UUID): it is the response's x-request-id, the log's requestId and
// the audit record's requestId, so a client cannot forge or collide with the
// correlation of someone else's records. A client's own X-Request-Id, when it
// looks like an id, is kept beside it (`clientRequestId` in audit records) so
// a portal can still find its requests.
import { randomUUID } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

export const REQUEST_ID_HEADER = 'x-request-id'

/** Fastify `genReqId`: never the client's value. */
export function requestIdFor (): string {
  return randomUUID()
}

/** The client's X-Request-Id when it is one sane value; anything else is ignored. */
export function clientRequestIdOf (headers: IncomingHttpHeaders): string | undefined {
  const supplied = headers[REQUEST_ID_HEADER]
  return typeof supplied === 'string' && SANE_REQUEST_ID.test(supplied) ? supplied : undefined
}
