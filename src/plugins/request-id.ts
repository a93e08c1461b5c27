// x-request-id: accepted from the client when it looks like an id (so a
// portal can correlate its own logs), generated otherwise, echoed on every
// response including errors and upgrades.
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

export const REQUEST_ID_HEADER = 'x-request-id'

/** Fastify `genReqId`. */
export function requestIdFor (req: IncomingMessage): string {
  const supplied = req.headers[REQUEST_ID_HEADER]
  if (typeof supplied === 'string' && SANE_REQUEST_ID.test(supplied)) return supplied
  return randomUUID()
}
