// The sim's own endpoints under /__sim/ (not Kubernetes): faults to inject,
// compaction now, the requests it could not serve. system:masters only.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { UserInfo } from '../apimachinery/types.ts'
import { badRequest, forbiddenPath, notFoundPath } from '../apimachinery/status.ts'
import type { ServerContext } from './context.ts'
import { sanitize } from './faults.ts'
import { readBody, sendJSON } from './http-util.ts'

const MASTERS = 'system:masters'

export async function handleAdmin (ctx: ServerContext, req: IncomingMessage, res: ServerResponse, url: URL, user: UserInfo): Promise<void> {
  if (!user.groups.includes(MASTERS)) throw forbiddenPath(user.username, (req.method ?? 'get').toLowerCase(), url.pathname)
  if (url.pathname === '/__sim/faults') {
    if (req.method === 'GET') return sendJSON(res, 200, ctx.faults.config)
    if (req.method === 'DELETE') return sendJSON(res, 200, ctx.faults.reset())
    if (req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH') {
      const body = await readBody(req)
      let parsed: unknown
      try { parsed = JSON.parse(body.toString('utf8') || '{}') } catch { throw badRequest('invalid JSON') }
      return sendJSON(res, 200, ctx.faults.set(sanitize(parsed)))
    }
  }
  if (url.pathname === '/__sim/compact' && req.method === 'POST') {
    ctx.store.compact()
    return sendJSON(res, 200, { resourceVersion: String(ctx.store.resourceVersion) })
  }
  if (url.pathname === '/__sim/unknown-requests' && req.method === 'GET') return sendJSON(res, 200, ctx.unknownRequests)
  throw notFoundPath()
}

/** Notes a request no handler serves, for /__sim/unknown-requests. */
export function recordUnknown (ctx: ServerContext, req: IncomingMessage, url: URL): void {
  const line = `${req.method ?? 'GET'} ${url.pathname}${url.search}`
  if (ctx.unknownRequests.length < 500) ctx.unknownRequests.push(line)
  ctx.log(`sim: unknown request ${line}`)
}
