// The validating admission step of a write: the PodSecurity plugin's decision
// (../../admission/pod-security.ts) becomes a 403 or Warning headers on the answer.
import type { KObject } from '../../apimachinery/types.ts'
import type { ResourceRequest } from '../context.ts'
import { admitNamespace, admitPod, warningHeader } from '../../admission/pod-security.ts'

/**
 * The PodSecurity admission plugin for a pod create/update: throws its 403, or adds the
 * `warn` level's Warning headers to the answer.
 */
export function admitPodSecurity (r: ResourceRequest, pod: KObject, oldPod?: KObject, subresource?: string): void {
  const ns = r.ctx.store.get('namespaces', undefined, pod.metadata.namespace ?? '')
  const decision = admitPod({ namespaceLabels: ns?.metadata.labels, pod, oldPod, subresource })
  if (decision.error) throw decision.error
  if (decision.warnings.length > 0) r.res.setHeader('Warning', decision.warnings.map(warningHeader))
}

/** PodSecurity on namespaces: 422 for bad labels; warnings when a stricter enforce level meets existing pods. */
export function admitNamespaceLabels (r: ResourceRequest, ns: KObject, old?: KObject): void {
  const decision = admitNamespace({ namespace: ns, oldNamespace: old, pods: old ? r.ctx.store.list('pods', ns.metadata.name ?? '') : [] })
  if (decision.error) throw decision.error
  if (decision.warnings.length > 0) r.res.setHeader('Warning', decision.warnings.map(warningHeader))
}
