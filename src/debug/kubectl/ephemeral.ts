// An ephemeral debug container, as kubectl's generateDebugContainer builds it, plus our additions.
import { applySecurityAdditions } from './additions.ts'
import { applyEnvAttribution } from '../../sessions/attribution.ts'
import { applyCustom, normalizeCustom } from './custom.ts'
import { wrapForExpiry } from './expiry.ts'
import { debugContainerName } from './names.ts'
import { checkCommon, COPY_ONLY_FIELDS, rejectFields, streams, type BuildContext, type EphemeralOptions } from './options.ts'
import { applyProfile, type ProfileName } from './profiles.ts'
import { SpecError } from './spec-error.ts'
import type { EphemeralContainer, EphemeralPatch, Pod, SpecWarning } from '../../kube/types.ts'
import { legacyProfileWarning, nonRootContainerWarning, nonRootPodWarning, targetWarning } from './warnings.ts'

export interface EphemeralResult {
  container: EphemeralContainer
  /**
   * Strategic merge patch body for PATCH pods/POD/ephemeralcontainers
   * (application/strategic-merge-patch+json): the list merges by name, so existing
   * ephemeral containers stay as they are.
   */
  patch: EphemeralPatch
  warnings: SpecWarning[]
}

/**
 * The checks of `opts` that need no pod (SpecError on the first problem): run before the
 * target is read, and again by buildEphemeralContainer. Returns the profile and the
 * normalized custom spec.
 */
export function checkEphemeralOptions (opts: EphemeralOptions): { profile: ProfileName, custom: Record<string, unknown> | undefined } {
  rejectFields(opts, COPY_ONLY_FIELDS, 'may only be used with copies')
  rejectFields(opts, ['namespace'], 'may only be used with node debug pods (the pod decides the namespace)')
  const profile = checkCommon(opts)
  // kubectl: "you must specify --image when not using --copy-to."
  if (opts.image === undefined || opts.image === '') throw new SpecError('image', 'image is required for an ephemeral container')
  return { profile, custom: opts.custom === undefined ? undefined : normalizeCustom(opts.custom) }
}

/**
 * Order of work: kubectl's container fields → profile → custom → capabilities/privileged/
 * runAsUser → expiry wrapper → attribution env. `pod` is the target pod as read from the API server.
 */
export function buildEphemeralContainer (pod: Pod, opts: EphemeralOptions, ctx: BuildContext = {}): EphemeralResult {
  const { profile, custom } = checkEphemeralOptions(opts)
  const name = opts.container !== undefined && opts.container !== '' ? opts.container : debugContainerName(pod, ctx.rand)
  const { stdin, tty } = streams(opts)

  // Field for field what kubectl's EphemeralContainer marshals to (omitempty drops the rest).
  const ec: EphemeralContainer = { name }
  if (opts.env !== undefined && opts.env.length > 0) ec.env = structuredClone(opts.env)
  ec.image = opts.image
  if (opts.command !== undefined && opts.command.length > 0) ec.command = [...opts.command]
  if (opts.args !== undefined && opts.args.length > 0) ec.args = [...opts.args]
  ec.resources = {}
  ec.terminationMessagePolicy = 'File'
  if (opts.imagePullPolicy !== undefined) ec.imagePullPolicy = opts.imagePullPolicy
  if (stdin) ec.stdin = true
  if (tty) ec.tty = true
  if (opts.target !== undefined && opts.target !== '') ec.targetContainerName = opts.target

  // The profile sees the whole pod with the new container appended, as in kubectl.
  const debugPod: Pod = { ...pod, spec: { ...pod.spec, ephemeralContainers: [...(pod.spec.ephemeralContainers ?? []), ec] } }
  const profiled = applyProfile(debugPod, name, { profile, journey: 'ephemeral' })
  let container = profiled.spec.ephemeralContainers?.at(-1) ?? ec
  if (custom !== undefined) container = applyCustom(container, custom)
  container = applySecurityAdditions(container, opts)
  if (ctx.expiry !== undefined) container = wrapForExpiry(container, ctx.expiry)
  if (ctx.attribution !== undefined) container = applyEnvAttribution(container, ctx.attribution)

  const warnings: SpecWarning[] = []
  if (profile === 'legacy') warnings.push(legacyProfileWarning())
  if (ec.targetContainerName !== undefined) warnings.push(targetWarning(ec.targetContainerName))
  const nonRootPod = nonRootPodWarning(container, pod)
  if (nonRootPod !== undefined) warnings.push(nonRootPod)
  const nonRootContainer = nonRootContainerWarning(container)
  if (nonRootContainer !== undefined) warnings.push(nonRootContainer)

  return { container, patch: { spec: { ephemeralContainers: [container] } }, warnings }
}
