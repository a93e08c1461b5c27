// Pure builders of what `kubectl debug` sends, with our additions. No I/O.
export { buildEphemeralContainer, type EphemeralPatch, type EphemeralResult } from './ephemeral.ts'
export { buildPodCopy, NO_TRAFFIC_READINESS_GATE, type CopyResult } from './copy.ts'
export { buildNodeDebugPod, NODE_DEBUG_CONTAINER, type NodePodResult } from './node-pod.ts'
export {
  checkCommon, DEFAULT_PROFILE, isImageReference, normalizeCapability, PULL_POLICIES, streams,
  type Attribution, type BuildContext, type CapabilitiesOption, type CommonOptions, type CopyOptions,
  type EphemeralOptions, type NodePodOptions, type PullPolicy
} from './options.ts'
export {
  applyProfile, checkProfile, DEFAULT_KEEP_FLAGS, HOST_ROOT_MOUNT_PATH, HOST_ROOT_VOLUME, isProfileName, PROFILE_NAMES,
  type ApplyProfileOptions, type Journey, type KeepFlags, type ProfileName
} from './profiles.ts'
export { applyCustom, CUSTOM_FORBIDDEN_MESSAGE, normalizeCustom, RESERVED_ENV_PREFIX } from './custom.ts'
export {
  ANNOTATION_CONTAINER, ANNOTATION_COPY_OF, ANNOTATION_EXPIRES_AT, ANNOTATION_IDEMPOTENCY_KEY, ANNOTATION_REASON,
  ANNOTATION_REQUEST_HASH, ANNOTATION_REQUESTED_BY, ANNOTATION_TICKET, applyEnvAttribution, applyPodAttribution,
  applySecurityAdditions, ENV_EXPIRES_AT, ENV_IDEMPOTENCY_KEY, ENV_REASON, ENV_REQUEST_HASH, ENV_REQUESTED_BY,
  ENV_SESSION, ENV_TICKET, isLabelValue, KDEBUG_PREFIX, LABEL_COPY_OF, LABEL_KIND, LABEL_SESSION, MANAGED_BY,
  MANAGED_BY_LABEL, readEnvAttribution, readPodAttribution, type PodAttribution, type PodAttributionTarget, type SecurityAdditions,
  ANNOTATION_SIGNATURE, ENV_SIGNATURE, readEnvSignature, readPodSignature, signedEphemeralFields, signedPodFields, signEphemeralContainer,
  signPod, type SignFn
} from './additions.ts'
export { containerNames, debugContainerName, MAX_POD_NAME, nodeDebugPodName, podCopyName, randomSuffix, SUFFIX_ALPHABET } from './names.ts'
export { isSpecError, SpecError } from './spec-error.ts'
export { EXPIRY_SIGNAL, expiryPrefix, wrapForExpiry, type ExpiryWrap } from './expiry.ts'
export { LEGACY_PROFILE_WARNING, NON_ROOT_POD_WARNING } from './warnings.ts'
export type * from './types.ts'
