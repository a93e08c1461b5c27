// Warnings for the response: kubectl's own (word for word, so they can be searched for)
// and ours.
import type { Container, Pod, SpecWarning } from '../../kube/types.ts'

/** debug.go Validate, newest text (kubectl ≥ 1.32). */
export const LEGACY_PROFILE_WARNING = '--profile=legacy is deprecated and will be removed in the future. It is recommended to explicitly specify a profile, for example "--profile=general".'

/** debug.go displayWarning. */
export const NON_ROOT_POD_WARNING = 'Warning: Non-root user is configured for the entire target Pod, and some capabilities granted by debug profile may not work. Please consider using "--custom" with a custom profile that specifies "securityContext.runAsUser: 0".'

export function legacyProfileWarning (): SpecWarning {
  return { code: 'LEGACY_PROFILE', message: LEGACY_PROFILE_WARNING }
}

/** debug.go Validate prints this for --target. */
export function targetWarning (target: string): SpecWarning {
  return {
    code: 'TARGET_RUNTIME_SUPPORT',
    message: `Targeting container ${JSON.stringify(target)}. If you don't see processes from this container it may be because the container runtime doesn't support this feature.`
  }
}

function grantsPrivileges (c: Container): boolean {
  const sc = c.securityContext
  return sc?.privileged === true || (sc?.capabilities?.add?.length ?? 0) > 0
}

/**
 * displayWarning: the pod runs as a non-root uid, and the debug container is privileged or
 * adds capabilities without setting runAsUser 0 itself. We evaluate it on the final container
 * (after our additions), so `runAsUser: 0` in the request silences it, as it should.
 */
export function nonRootPodWarning (container: Container, pod: Pod): SpecWarning | undefined {
  const podUid = pod.spec.securityContext?.runAsUser
  if (podUid === undefined || podUid === 0) return undefined
  const sc = container.securityContext
  if (sc === undefined || sc.runAsUser === 0) return undefined
  if (!grantsPrivileges(container)) return undefined
  return { code: 'NON_ROOT_POD_CAPABILITIES', message: NON_ROOT_POD_WARNING }
}

/** Ours: the same trap when the container itself sets a non-root uid. */
export function nonRootContainerWarning (container: Container): SpecWarning | undefined {
  const uid = container.securityContext?.runAsUser
  if (uid === undefined || uid === 0 || !grantsPrivileges(container)) return undefined
  return {
    code: 'NON_ROOT_CONTAINER_CAPABILITIES',
    message: `The debug container runs as uid ${uid}; added capabilities and privileged mode are not effective for a non-root process unless the image grants file capabilities. Set runAsUser to 0 if the tools need them.`
  }
}

export function labelsDroppedWarning (): SpecWarning {
  return {
    code: 'LABELS_DROPPED',
    message: 'The copy does not carry the original pod\'s labels, so NetworkPolicies that select the original by label (or allow it as a peer by label) may not apply to the copy: its network access can differ from the original\'s. Use keep.labels to keep them.'
  }
}

export function labelsKeptWarning (gate: string): SpecWarning {
  return {
    code: 'LABELS_KEPT',
    message: `The copy keeps the original pod's labels. It carries the readiness gate ${gate}, which is never set, so it never becomes Ready and Services do not route traffic to it (except Services with publishNotReadyAddresses). Controllers whose selector matches these labels (ReplicaSet, DaemonSet, Job) may still adopt the copy and delete it.`
  }
}

export function setImageUnmatchedWarning (name: string): SpecWarning {
  return {
    code: 'SET_IMAGE_UNMATCHED',
    message: `setImage names ${JSON.stringify(name)}, which is not a regular container of the pod; it was ignored (setImage applies to regular containers only).`
  }
}
