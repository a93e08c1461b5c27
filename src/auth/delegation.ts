// Delegation for bots: Impersonate-* headers are honoured exactly as the API
// server's impersonation filter does (k8s.io/apiserver/pkg/endpoints/filters/
// impersonation.go): one `impersonate` check for the authenticated caller per
// requested thing — the user (or service account), each group, each extra
// value, the uid — in that order, the first refusal ending the request. The
// result keeps the caller as `actor`, so audit shows who delegated.
import { Problems } from '../errors.ts'
import { type Identity, type ResourceAttributes } from './identity.ts'
import { subjectOf, type SarAuthorizer } from './authorizer.ts'
import { ALL_AUTHENTICATED } from './authenticator.ts'

export const ANONYMOUS = 'system:anonymous'
export const ALL_UNAUTHENTICATED = 'system:unauthenticated'
const SA_PREFIX = 'system:serviceaccount:'
const EXTRA_PREFIX = 'impersonate-extra-'

/** Header name (lower case) → values, one per header line (Node's `headersDistinct`), or a plain single value. */
export type HeaderMap = Record<string, string | string[] | undefined>

export interface ImpersonationRequest {
  user: string
  uid?: string
  /** Impersonate-Group values; `undefined` when none were sent (then the groups are derived). */
  groups?: string[]
  extra: Record<string, string[]>
}

function values (headers: HeaderMap, name: string): string[] {
  const v = headers[name]
  if (v === undefined) return []
  return Array.isArray(v) ? v : [v]
}

function single (headers: HeaderMap, name: string, label: string): string | undefined {
  const vs = values(headers, name)
  if (vs.length > 1) throw Problems.badRequest(`${label} may be given only once.`)
  return vs[0] === '' ? undefined : vs[0]
}

function unescapeExtraKey (encoded: string): string {
  try {
    return decodeURIComponent(encoded)
  } catch {
    return encoded // as the API server: keep a malformed key rather than drop it
  }
}

/** Reads the Impersonate-* headers; undefined when there are none. Throws 400 for an unusable combination. */
export function parseImpersonation (headers: HeaderMap): ImpersonationRequest | undefined {
  const user = single(headers, 'impersonate-user', 'Impersonate-User')
  const uid = single(headers, 'impersonate-uid', 'Impersonate-Uid')
  const groups = values(headers, 'impersonate-group')
  const extra: Record<string, string[]> = {}
  for (const name of Object.keys(headers).sort()) {
    if (!name.toLowerCase().startsWith(EXTRA_PREFIX)) continue
    const key = unescapeExtraKey(name.slice(EXTRA_PREFIX.length).toLowerCase())
    extra[key] = [...(extra[key] ?? []), ...values(headers, name)]
  }
  const hasExtra = Object.keys(extra).length > 0
  if (user === undefined) {
    if (groups.length > 0 || hasExtra || uid !== undefined) {
      throw Problems.badRequest('Impersonate-Group, Impersonate-Uid and Impersonate-Extra-* require Impersonate-User.')
    }
    return undefined
  }
  if (groups.some(g => g === '')) throw Problems.badRequest('Impersonate-Group must not be empty.')
  const req: ImpersonationRequest = { user, extra }
  if (uid !== undefined) req.uid = uid
  if (groups.length > 0) req.groups = groups
  return req
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

/** `system:serviceaccount:NS:NAME` → {namespace, name}; anything else (including invalid names) is a plain user. */
export function splitServiceAccount (user: string): { namespace: string, name: string } | undefined {
  if (!user.startsWith(SA_PREFIX)) return undefined
  const parts = user.slice(SA_PREFIX.length).split(':')
  if (parts.length !== 2) return undefined
  const [namespace, name] = parts as [string, string]
  if (namespace.length > 63 || !DNS_LABEL.test(namespace)) return undefined
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) return undefined
  return { namespace, name }
}

/** The `impersonate` checks the API server makes for this request, in its order. */
export function impersonationChecks (req: ImpersonationRequest): ResourceAttributes[] {
  const checks: ResourceAttributes[] = []
  const sa = splitServiceAccount(req.user)
  checks.push(sa
    ? { verb: 'impersonate', group: '', version: 'v1', resource: 'serviceaccounts', namespace: sa.namespace, name: sa.name }
    : { verb: 'impersonate', group: '', version: 'v1', resource: 'users', name: req.user })
  for (const g of req.groups ?? []) checks.push({ verb: 'impersonate', group: '', version: 'v1', resource: 'groups', name: g })
  for (const [key, vs] of Object.entries(req.extra)) {
    for (const v of vs) checks.push({ verb: 'impersonate', group: 'authentication.k8s.io', version: 'v1', resource: 'userextras', subresource: key, name: v })
  }
  if (req.uid !== undefined) checks.push({ verb: 'impersonate', group: 'authentication.k8s.io', version: 'v1', resource: 'uids', name: req.uid })
  return checks
}

/** Groups of the impersonated user, as the API server builds them. */
export function impersonatedGroups (req: ImpersonationRequest): string[] {
  const sa = splitServiceAccount(req.user)
  let groups: string[]
  if (req.groups) groups = [...req.groups]
  else if (sa) groups = ['system:serviceaccounts', `system:serviceaccounts:${sa.namespace}`]
  else groups = []
  if (req.user === ANONYMOUS) {
    if (!groups.includes(ALL_UNAUTHENTICATED)) groups.push(ALL_UNAUTHENTICATED)
  } else if (!groups.includes(ALL_AUTHENTICATED) && !groups.includes(ALL_UNAUTHENTICATED)) {
    groups.push(ALL_AUTHENTICATED)
  }
  return groups
}

export interface DelegationInput {
  caller: Identity
  headers: HeaderMap
  authorizer: SarAuthorizer
}

/**
 * The effective identity of a request: the caller itself, or — when it sent
 * Impersonate-* headers and may impersonate every one of them — the requested
 * user with `actor` set to the caller. Refusals are 403 naming the permission.
 */
export async function applyDelegation ({ caller, headers, authorizer }: DelegationInput): Promise<Identity> {
  const req = parseImpersonation(headers)
  if (!req) return caller
  // Asked concurrently; the first refusal in the API server's order is the one reported.
  await authorizer.authorizeAll(caller, impersonationChecks(req), Problems.impersonationForbidden)
  const identity: Identity = { user: req.user, groups: impersonatedGroups(req), method: caller.method, actor: subjectOf(caller) }
  if (req.uid !== undefined) identity.uid = req.uid
  if (Object.keys(req.extra).length > 0) identity.extra = req.extra
  return identity
}
