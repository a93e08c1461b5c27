// Our additions, applied after everything kubectl does (profile, then custom):
// capabilities, privileged and runAsUser, which kubectl debug has no flags for.
import { normalizeCapability, type CapabilitiesOption } from './options.ts'
import type { Container } from '../../kube/types.ts'

export interface SecurityAdditions {
  capabilities?: CapabilitiesOption
  privileged?: boolean
  runAsUser?: number
}

export function hasSecurityAdditions (a: SecurityAdditions): boolean {
  return a.capabilities !== undefined || a.privileged !== undefined || a.runAsUser !== undefined
}

/**
 * Merges into the container's securityContext: `add` is appended without duplicates (names
 * normalized, see normalizeCapability), `drop` replaces the list when given, `privileged` is
 * set as given (false switches sysadmin's true off). `runAsUser: 0` also sets
 * `runAsNonRoot: false`: a root uid with runAsNonRoot true (from the pod or the restricted
 * profile) would only fail at start with CreateContainerConfigError; policy already decided
 * that root is allowed.
 */
export function applySecurityAdditions<T extends Container> (container: T, a: SecurityAdditions): T {
  if (!hasSecurityAdditions(a)) return container
  const out = structuredClone(container)
  const sc = out.securityContext ?? {}
  if (a.capabilities !== undefined) {
    const caps = sc.capabilities ?? {}
    if (a.capabilities.add !== undefined) {
      const add = (caps.add ?? []).slice()
      for (const cap of a.capabilities.add.map(normalizeCapability)) {
        if (!add.map(normalizeCapability).includes(cap)) add.push(cap)
      }
      caps.add = add
    }
    if (a.capabilities.drop !== undefined) caps.drop = [...new Set(a.capabilities.drop.map(normalizeCapability))]
    sc.capabilities = caps
  }
  if (a.privileged !== undefined) sc.privileged = a.privileged
  if (a.runAsUser !== undefined) {
    sc.runAsUser = a.runAsUser
    if (a.runAsUser === 0) sc.runAsNonRoot = false
  }
  out.securityContext = sc
  return out
}
