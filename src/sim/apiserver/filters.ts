// The API server's authentication and authorization filters
// (apiserver pkg/endpoints/filters authentication.go WithAuthentication,
// authorization.go WithAuthorization): bearer token → user, then RBAC on the
// request's attributes.
import type { IncomingMessage } from 'node:http'
import type { UserInfo } from '../apimachinery/types.ts'
import { forbidden, forbiddenPath, unauthorized } from '../apimachinery/status.ts'
import type { ServerContext } from './context.ts'
import type { RequestInfo } from './request-info.ts'

function bearer (req: IncomingMessage): string | undefined {
  const h = req.headers.authorization
  if (!h) return undefined
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h)
  return m?.[1]
}

/** bearer token → user (401 otherwise, as with --anonymous-auth=false). */
export function authenticate (ctx: ServerContext, req: IncomingMessage): UserInfo {
  const token = bearer(req)
  const user = token ? ctx.authn.authenticate(token) : undefined
  if (!user) throw unauthorized()
  noteUserAgent(ctx, user.username, req.headers['user-agent'])
  return user
}

function noteUserAgent (ctx: ServerContext, username: string, ua: string | undefined): void {
  let seen = ctx.userAgents.get(username)
  if (!seen) ctx.userAgents.set(username, seen = new Set())
  if (seen.size < 50) seen.add(ua ?? '')
}

/** The authorization filter: resource attributes from RequestInfo, or the path for non-resource URLs. */
export function authorize (ctx: ServerContext, user: UserInfo, info: RequestInfo, verb = info.verb): void {
  if (!info.isResourceRequest) {
    const d = ctx.rbac.authorize(user, { path: info.path, verb })
    if (!d.allowed) throw forbiddenPath(user.username, verb, info.path)
    return
  }
  const attrs = { namespace: info.namespace || undefined, verb, group: info.apiGroup, version: info.apiVersion, resource: info.resource, subresource: info.subresource || undefined, name: info.name || undefined }
  const d = ctx.rbac.authorize(user, attrs)
  if (!d.allowed) {
    throw forbidden({ user: user.username, verb, resource: info.resource, subresource: info.subresource || undefined, group: info.apiGroup, namespace: info.namespace || undefined, name: info.name || undefined, reason: d.reason || undefined })
  }
}
