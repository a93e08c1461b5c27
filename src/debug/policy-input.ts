// What policy sees of a debug request: computed from the objects the spec
// builders produced (after profile, custom and our additions), not from the
// body, so `custom` or a profile cannot slip a capability past the rules. Pure.
import type { PolicyAction, PolicyRequest } from '../auth/policy.ts'
import type { Container, Pod } from '../kube/spec/index.ts'

export interface PolicyInputArgs {
  action: PolicyAction
  namespace: string
  node?: string
  /** The debug container (ephemeral, the copy's debug container, or the node pod's). */
  container?: Container
  /** The pod that will be created (copies, node pods). */
  pod?: Pod
  /** The original pod (copies): host settings it already has are not new. */
  original?: Pod
  /** Images set on other containers (copies with setImage). */
  extraImages?: string[]
  profile: string
  ttlSeconds?: number
  defaultTtlSeconds: number
  reason?: string
}

function hostNamespaces (pod: Pod | undefined): boolean {
  return pod !== undefined && (pod.spec.hostPID === true || pod.spec.hostNetwork === true || pod.spec.hostIPC === true)
}

function hostPathVolumes (pod: Pod | undefined): Set<string> {
  return new Set((pod?.spec.volumes ?? []).filter(v => v.hostPath !== undefined).map(v => v.name))
}

export function policyInput (a: PolicyInputArgs): PolicyRequest {
  const sc = a.container?.securityContext
  const images = [...new Set([...(a.container?.image ? [a.container.image] : []), ...(a.extraImages ?? [])])]
  // Host paths the debug container mounts: the node pod's /host, or a hostPath volume of the
  // target pod (ephemeral) or copy that `custom` mounted into the debug container.
  const hostVolumes = hostPathVolumes(a.pod ?? a.original)
  const mountsHost = (a.container?.volumeMounts ?? []).some(m => hostVolumes.has(m.name))
  const req: PolicyRequest = {
    action: a.action,
    namespace: a.namespace,
    images,
    capabilities: sc?.capabilities?.add ?? [],
    privileged: sc?.privileged === true,
    profile: a.profile,
    defaultTtlSeconds: a.defaultTtlSeconds,
    hostNamespaces: hostNamespaces(a.pod) && !hostNamespaces(a.original),
    hostPathMounts: mountsHost
  }
  if (a.node !== undefined) req.node = a.node
  if (sc?.runAsUser !== undefined) req.runAsUser = sc.runAsUser
  if (a.ttlSeconds !== undefined) req.ttlSeconds = a.ttlSeconds
  if (a.reason !== undefined) req.reason = a.reason
  return req
}
