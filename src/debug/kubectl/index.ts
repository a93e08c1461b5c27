// Pure builders of what `kubectl debug` sends (kubernetes/kubectl pkg/cmd/debug),
// with our additions. No I/O.
export { buildEphemeralContainer, checkEphemeralOptions, type EphemeralResult } from './ephemeral.ts'
export { buildPodCopy, NO_TRAFFIC_READINESS_GATE, type CopyResult } from './copy.ts'
export { buildNodeDebugPod, checkNodePodOptions, NODE_DEBUG_CONTAINER, type NodePodResult } from './node-pod.ts'
export {
  checkCommon, DEFAULT_PROFILE, isImageReference, normalizeCapability, PULL_POLICIES, streams,
  type BuildContext, type CapabilitiesOption, type CommonOptions, type CopyOptions,
  type EphemeralOptions, type NodePodOptions, type PullPolicy
} from './options.ts'
export {
  applyProfile, checkProfile, DEFAULT_KEEP_FLAGS, HOST_ROOT_MOUNT_PATH, HOST_ROOT_VOLUME, isProfileName, PROFILE_NAMES,
  type ApplyProfileOptions, type Journey, type KeepFlags, type ProfileName
} from './profiles.ts'
export { applyCustom, CUSTOM_FORBIDDEN_MESSAGE, normalizeCustom } from './custom.ts'
export { applySecurityAdditions, hasSecurityAdditions, type SecurityAdditions } from './additions.ts'
export { containerNames, debugContainerName, MAX_POD_NAME, nodeDebugPodName, podCopyName, randomSuffix, SUFFIX_ALPHABET } from './names.ts'
export { isSpecError, SpecError } from './spec-error.ts'
export { EXPIRY_SIGNAL, expiryPrefix, wrapForExpiry, type ExpiryWrap } from './expiry.ts'
export { LEGACY_PROFILE_WARNING, NON_ROOT_POD_WARNING } from './warnings.ts'
