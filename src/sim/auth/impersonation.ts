// The API server's impersonation filter
// (staging/src/k8s.io/apiserver/pkg/endpoints/filters/impersonation.go, legacy
// `impersonate` verb path): every requested user, service account, group,
// extra value and uid is authorized separately for the requester, then the
// request continues as the impersonated user.
import type { IncomingHttpHeaders } from 'node:http'
import type { ResourceAttributes, UserInfo } from '../apimachinery/types.ts'
import type { RbacAuthorizer } from './rbac.ts'
import { badRequest, forbidden } from '../apimachinery/status.ts'

const USER_HEADER = 'impersonate-user'
const GROUP_HEADER = 'impersonate-group'
const UID_HEADER = 'impersonate-uid'
const EXTRA_PREFIX = 'impersonate-extra-'
const AUTHN_GROUP = 'authentication.k8s.io'
const ANONYMOUS = 'system:anonymous'
const AUTHENTICATED = 'system:authenticated'
const UNAUTHENTICATED = 'system:unauthenticated'

/** Header values, repeated headers kept apart (pass `req.headersDistinct` to keep repeats of Impersonate-Group). */
export type HeaderBag = IncomingHttpHeaders | Record<string, string | string[] | undefined>

/** One thing to impersonate, as buildImpersonationRequests makes a v1.ObjectReference of it. */
interface ImpersonationRequest {
  kind: 'User' | 'ServiceAccount' | 'Group' | 'UserExtra' | 'UID'
  namespace: string
  name: string
  apiVersion: string
  fieldPath: string
}

function values (headers: HeaderBag, name: string): string[] {
  const v = headers[name]
  if (v === undefined) return []
  return Array.isArray(v) ? v : [v]
}

/** serviceaccount.SplitUsername: `system:serviceaccount:NS:NAME` with both parts non-empty and no extra colon. */
export function splitServiceAccount (username: string): { namespace: string, name: string } | undefined {
  const prefix = 'system:serviceaccount:'
  if (!username.startsWith(prefix)) return undefined
  const parts = username.slice(prefix.length).split(':')
  if (parts.length !== 2) return undefined
  const [namespace, name] = parts as [string, string]
  if (!namespace || !name) return undefined
  return { namespace, name }
}

function unescapeExtraKey (key: string): string {
  try {
    // url.PathUnescape: '+' stays '+', malformed escapes keep the raw key
    return decodeURIComponent(key)
  } catch {
    return key
  }
}

/** Go's `%v` of a []v1.ObjectReference, used in the 400 message. */
function renderRequests (reqs: ImpersonationRequest[]): string {
  // ObjectReference field order: Kind Namespace Name UID APIVersion ResourceVersion FieldPath
  return `[${reqs.map(r => `{${[r.kind, r.namespace, r.name, '', r.apiVersion, '', r.fieldPath].join(' ')}}`).join(' ')}]`
}

function buildRequests (headers: HeaderBag): ImpersonationRequest[] {
  const reqs: ImpersonationRequest[] = []
  const base = { namespace: '', apiVersion: '', fieldPath: '' }
  // http.Header.Get returns the first value
  const requestedUser = values(headers, USER_HEADER)[0] ?? ''
  const hasUser = requestedUser.length > 0
  if (hasUser) {
    const sa = splitServiceAccount(requestedUser)
    reqs.push(sa ? { ...base, kind: 'ServiceAccount', namespace: sa.namespace, name: sa.name } : { ...base, kind: 'User', name: requestedUser })
  }
  const groups = values(headers, GROUP_HEADER)
  for (const g of groups) reqs.push({ ...base, kind: 'Group', name: g })

  let hasExtra = false
  for (const [header, v] of Object.entries(headers)) {
    const lower = header.toLowerCase()
    if (!lower.startsWith(EXTRA_PREFIX) || v === undefined) continue
    hasExtra = true
    const key = unescapeExtraKey(lower.slice(EXTRA_PREFIX.length))
    for (const value of Array.isArray(v) ? v : [v]) {
      reqs.push({ ...base, kind: 'UserExtra', name: value, apiVersion: `${AUTHN_GROUP}/v1`, fieldPath: key })
    }
  }
  const uid = values(headers, UID_HEADER)[0] ?? ''
  if (uid) reqs.push({ ...base, kind: 'UID', name: uid, apiVersion: `${AUTHN_GROUP}/v1` })

  if ((groups.length > 0 || hasExtra || uid) && !hasUser) {
    throw badRequest(`requested ${renderRequests(reqs)} without impersonating a user`)
  }
  return reqs
}

/**
 * The API server's impersonation filter. Returns `requester` unchanged when no Impersonate-* header is present;
 * otherwise checks `impersonate` on users/groups/serviceaccounts/uids/userextras and returns the impersonated
 * UserInfo (system:authenticated added), or throws StatusError 403 (denied) / 400 (groups, extra or uid without a user).
 */
export function impersonate (headers: HeaderBag, requester: UserInfo, authz: RbacAuthorizer): UserInfo {
  const reqs = buildRequests(headers)
  if (reqs.length === 0) return requester

  const groupsSpecified = values(headers, GROUP_HEADER).length > 0
  let username = ''
  let uid = ''
  let groups: string[] = []
  const extra: Record<string, string[]> = {}

  for (const r of reqs) {
    const attrs: ResourceAttributes = { verb: 'impersonate', resource: '', name: r.name }
    switch (r.kind) {
      case 'ServiceAccount':
        Object.assign(attrs, { resource: 'serviceaccounts', group: '', namespace: r.namespace })
        username = `system:serviceaccount:${r.namespace}:${r.name}`
        // a service account's groups are a fixed mapping, used when no groups were asked for
        if (!groupsSpecified) groups = ['system:serviceaccounts', `system:serviceaccounts:${r.namespace}`]
        break
      case 'User':
        Object.assign(attrs, { resource: 'users', group: '' })
        username = r.name
        break
      case 'Group':
        Object.assign(attrs, { resource: 'groups', group: '' })
        groups.push(r.name)
        break
      case 'UserExtra':
        Object.assign(attrs, { resource: 'userextras', subresource: r.fieldPath, group: AUTHN_GROUP })
        ;(extra[r.fieldPath] ??= []).push(r.name)
        break
      case 'UID':
        Object.assign(attrs, { resource: 'uids', group: AUTHN_GROUP })
        uid = r.name
        break
    }
    const decision = authz.authorize(requester, attrs)
    if (!decision.allowed) {
      throw forbidden({
        user: requester.username,
        verb: 'impersonate',
        resource: attrs.resource,
        subresource: attrs.subresource,
        group: attrs.group,
        namespace: attrs.namespace,
        name: attrs.name,
        reason: decision.reason || undefined
      })
    }
  }

  if (username !== ANONYMOUS) {
    if (!groups.includes(AUTHENTICATED) && !groups.includes(UNAUTHENTICATED)) groups.push(AUTHENTICATED)
  } else if (!groups.includes(UNAUTHENTICATED)) {
    groups.push(UNAUTHENTICATED)
  }

  const user: UserInfo = { username, groups }
  if (uid) user.uid = uid
  if (Object.keys(extra).length > 0) user.extra = extra
  return user
}
