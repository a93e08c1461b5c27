// What policy sees of a debug request: computed from the objects the spec
// builders produced (after profile, custom and our additions), not from the
// body, so `custom` or a profile cannot slip a capability past the rules. The
// resulting pod is judged as a whole (effective privilege): for an ephemeral
// container the target pod with the container added, for a copy the copy with
// everything it carries over from its source. Pure.
import type { PolicyAction } from '../policy/config-schema.ts'
import type { PolicyRequest } from '../policy/policy.ts'
import type { EffectiveTarget } from '../policy/effective.ts'
import type { Container, EphemeralContainer, Pod } from '../kube/types.ts'

export interface PolicyInputArgs {
  action: PolicyAction
  namespace: string
  node?: string
  /** The debug container (ephemeral, the copy's debug container, or the node pod's). */
  container?: Container
  /** The pod that will be created (copies, node pods). */
  pod?: Pod
  /** The target pod (ephemeral containers): the container joins it. */
  original?: Pod
  /** Images set on other containers (copies with setImage). */
  extraImages?: string[]
  profile: string
  ttlSeconds?: number
  defaultTtlSeconds: number
  reason?: string
}

function names (pod: Pod): string[] {
  const s = pod.spec
  return [...(s.initContainers ?? []), ...s.containers, ...(s.ephemeralContainers ?? [])].map(c => c.name)
}

/** The pod as it will be and the containers judged at the rule's level. */
export function effectiveTarget (a: Pick<PolicyInputArgs, 'action' | 'container' | 'pod' | 'original'>): EffectiveTarget | undefined {
  if (a.action === 'ephemeral') {
    if (a.original === undefined || a.container === undefined) return undefined
    const ec = a.container as EphemeralContainer
    const others = (a.original.spec.ephemeralContainers ?? []).filter(c => c.name !== ec.name)
    const pod: Pod = { ...a.original, spec: { ...a.original.spec, ephemeralContainers: [...others, ec] } }
    // With `target` the container shares the target's process namespace: it can act as the target.
    const judged = [ec.name, ...(ec.targetContainerName !== undefined ? [ec.targetContainerName] : [])]
    return { pod, containers: judged, debugContainer: ec }
  }
  if (a.pod === undefined) return undefined
  // A copy (or node pod) is created whole: every container in it is the requester's doing.
  return { pod: a.pod, containers: names(a.pod), ...(a.container !== undefined ? { debugContainer: a.container } : {}) }
}

export function policyInput (a: PolicyInputArgs): PolicyRequest {
  const sc = a.container?.securityContext
  const images = [...new Set([...(a.container?.image ? [a.container.image] : []), ...(a.extraImages ?? [])])]
  const req: PolicyRequest = {
    action: a.action,
    namespace: a.namespace,
    images,
    capabilities: sc?.capabilities?.add ?? [],
    privileged: sc?.privileged === true,
    profile: a.profile,
    defaultTtlSeconds: a.defaultTtlSeconds
  }
  const effective = effectiveTarget(a)
  if (effective !== undefined) req.effective = effective
  if (a.node !== undefined) req.node = a.node
  if (sc?.runAsUser !== undefined) req.runAsUser = sc.runAsUser
  if (a.ttlSeconds !== undefined) req.ttlSeconds = a.ttlSeconds
  if (a.reason !== undefined) req.reason = a.reason
  return req
}
