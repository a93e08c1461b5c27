// Strategic merge patch metadata of the objects the sim patches: the
// patchStrategy/patchMergeKey struct tags of k8s.io/api/core/v1 and
// k8s.io/apimachinery/pkg/apis/meta/v1 types.go. The algorithm and
// corev1.Container's tags are shared with the gateway in src/lib/strategic-merge.ts.
import { containerPatchMeta, type PatchMeta } from '../../lib/strategic-merge.ts'

const objectMetaPatchMeta: PatchMeta = {
  fields: {
    finalizers: { patchStrategy: 'merge' },
    ownerReferences: { mergeKey: 'uid' }
  }
}

const podSpecPatchMeta: PatchMeta = {
  fields: {
    volumes: { mergeKey: 'name' },
    initContainers: { mergeKey: 'name', fields: containerPatchMeta.fields },
    containers: { mergeKey: 'name', fields: containerPatchMeta.fields },
    ephemeralContainers: { mergeKey: 'name', fields: containerPatchMeta.fields },
    imagePullSecrets: { mergeKey: 'name' },
    hostAliases: { mergeKey: 'ip' },
    topologySpreadConstraints: { mergeKey: 'topologyKey' },
    schedulingGates: { mergeKey: 'name' },
    resourceClaims: { mergeKey: 'name' }
  }
}

const podStatusPatchMeta: PatchMeta = {
  fields: {
    conditions: { mergeKey: 'type' },
    podIPs: { mergeKey: 'ip' },
    hostIPs: { mergeKey: 'ip' },
    resourceClaimStatuses: { mergeKey: 'name' }
  }
}

/** corev1.Pod. */
export const podPatchMeta: PatchMeta = {
  fields: {
    metadata: objectMetaPatchMeta,
    spec: podSpecPatchMeta,
    status: podStatusPatchMeta
  }
}

/** Any object with only ObjectMeta tags (Event, Namespace, Node... none of their own lists merge in the sim). */
export const objectPatchMeta: PatchMeta = { fields: { metadata: objectMetaPatchMeta } }
