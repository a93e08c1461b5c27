// Who a request acts as. `user`/`groups` are the *effective* identity (what
// authorization and the cluster see); `actor` is set when a bot delegated,
// and names who really called.
import type { Principal, ResourceAttributes } from '../kube/user-info.ts'

export type { Principal, ResourceAttributes }

export type AuthMethod = 'tokenreview' | 'oidc' | 'static' | 'ticket'

export interface Identity extends Principal {
  method: AuthMethod
  /** The authenticated caller when the request carried Impersonate-* headers that were honoured. */
  actor?: Principal
}

/** `patch pods/ephemeralcontainers "web" in namespace demo` — how a 403 names the missing permission. */
export function describePermission (a: ResourceAttributes): string {
  const res = (a.subresource ? `${a.resource}/${a.subresource}` : a.resource) + (a.group ? `.${a.group}` : '')
  let s = `${a.verb} ${res}`
  if (a.name) s += ` "${a.name}"`
  s += a.namespace ? ` in namespace ${a.namespace}` : ' (cluster scope)'
  return s
}
