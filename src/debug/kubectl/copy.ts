// A copy of a pod with a debug container added or a container changed, as kubectl's
// generatePodCopyWithDebugContainer builds it, plus our additions.
import { applySecurityAdditions, hasSecurityAdditions } from './additions.ts'
import { applyPodAttribution, KDEBUG_PREFIX } from '../../sessions/attribution.ts'
import { applyCustom, normalizeCustom } from './custom.ts'
import { debugContainerName, podCopyName } from './names.ts'
import { checkCommon, isImageReference, streams, type BuildContext, type CopyOptions } from './options.ts'
import { applyProfile } from './profiles.ts'
import { SpecError } from './spec-error.ts'
import type { Container, Pod, SpecWarning } from '../../kube/types.ts'
import {
  labelsDroppedWarning, labelsKeptWarning, legacyProfileWarning, nonRootContainerWarning, nonRootPodWarning,
  setImageUnmatchedWarning
} from './warnings.ts'

/**
 * Never set by anyone, so a copy carrying it never becomes Ready and Services (which route to
 * ready endpoints) leave it alone even when it keeps the original's labels.
 */
export const NO_TRAFFIC_READINESS_GATE = 'kdebug.io/allow-service-traffic'

export interface CopyResult {
  pod: Pod
  /** The debug container; undefined for a setImage-only copy (nothing to attach to). */
  container?: string
  warnings: SpecWarning[]
}

/**
 * Order of work: metadata/spec copy → nodeName, shareProcesses, setImage → add or change the
 * container → profile → custom → capabilities/privileged/runAsUser → readiness gate when the
 * original's labels survive → attribution.
 */
export function buildPodCopy (pod: Pod, opts: CopyOptions, ctx: BuildContext = {}): CopyResult {
  const profile = checkCommon(opts)
  if ('target' in opts && (opts as { target?: unknown }).target !== undefined) {
    throw new SpecError('target', 'target is incompatible with copies. Use shareProcesses instead.')
  }
  const setImage = opts.setImage ?? {}
  for (const [name, image] of Object.entries(setImage)) {
    if (typeof image !== 'string' || !isImageReference(image)) {
      throw new SpecError(`setImage.${name}`, `invalid image name "${String(image)}" for container "${name}": invalid reference format`)
    }
  }
  const hasImage = opts.image !== undefined && opts.image !== ''
  const hasSetImage = Object.keys(setImage).length > 0
  const hasCommand = (opts.command?.length ?? 0) > 0
  const hasArgs = (opts.args?.length ?? 0) > 0
  const hasContainer = opts.container !== undefined && opts.container !== ''
  // kubectl Validate: "you must specify --image, --set-image or command arguments."
  if (!hasImage && !hasSetImage && !hasCommand && !hasArgs) {
    throw new SpecError('image', 'you must specify image, setImage or command/args')
  }
  // kubectl Validate: "you must specify an existing container or a new image when specifying args."
  if ((hasCommand || hasArgs) && !hasContainer && !hasImage) {
    throw new SpecError('image', 'you must specify an existing container or a new image when specifying command or args')
  }
  const custom = opts.custom === undefined ? undefined : normalizeCustom(opts.custom)
  const original = pod.metadata.name ?? ''

  let copied: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: opts.name !== undefined && opts.name !== '' ? opts.name : podCopyName(original, ctx.rand) },
    spec: structuredClone(pod.spec)
  }
  if (pod.metadata.namespace !== undefined) copied.metadata.namespace = pod.metadata.namespace
  if (pod.metadata.labels !== undefined) copied.metadata.labels = { ...pod.metadata.labels }
  if (pod.metadata.annotations !== undefined) copied.metadata.annotations = { ...pod.metadata.annotations }
  // ephemeral containers cannot be set on create
  delete copied.spec.ephemeralContainers
  if (opts.shareProcesses !== undefined) copied.spec.shareProcessNamespace = opts.shareProcesses
  if (opts.sameNode !== true) delete copied.spec.nodeName

  const warnings: SpecWarning[] = []
  if (profile === 'legacy') warnings.push(legacyProfileWarning())
  for (const c of copied.spec.containers) {
    const image = setImage[c.name] ?? setImage['*']
    if (image !== undefined && image !== '') c.image = image
  }
  for (const key of Object.keys(setImage)) {
    if (key !== '*' && !copied.spec.containers.some(c => c.name === key)) warnings.push(setImageUnmatchedWarning(key))
  }

  let c = findContainer(copied, opts.container ?? '')
  if (c === undefined) {
    if (!hasImage) {
      if (hasSetImage) {
        // kubectl returns here: a setImage-only copy, no debug container and no profile.
        if (custom !== undefined) throw new SpecError('custom', 'custom needs a debug container: give image or an existing container')
        if (hasSecurityAdditions(opts)) throw new SpecError(securityField(opts), 'capabilities, privileged and runAsUser need a debug container: give image or an existing container')
        return finish(pod, copied, undefined, ctx, warnings)
      }
      throw new SpecError('image', 'you must specify image when creating a new container')
    }
    const name = hasContainer ? opts.container as string : debugContainerName(copied, ctx.rand)
    c = { name, resources: {}, terminationMessagePolicy: 'File' }
    copied.spec.containers.push(c)
  }

  // Changing an existing container (or filling the new one), as kubectl does.
  if (hasCommand) {
    c.command = [...opts.command ?? []]
    if (hasArgs) c.args = [...opts.args ?? []]
    else delete c.args
  } else if (hasArgs) {
    c.args = [...opts.args ?? []]
  }
  if (opts.env !== undefined && opts.env.length > 0) c.env = structuredClone(opts.env)
  if (hasImage) c.image = opts.image
  if (opts.imagePullPolicy !== undefined) c.imagePullPolicy = opts.imagePullPolicy
  const { stdin, tty } = streams(opts)
  if (stdin) c.stdin = true
  else delete c.stdin
  if (tty) c.tty = true
  else delete c.tty
  const name = c.name

  copied = applyProfile(copied, name, { profile, journey: 'copy', keep: opts.keep })
  if (custom !== undefined) {
    // applyCustomProfile looks among regular containers only
    const index = copied.spec.containers.findIndex(x => x.name === name)
    const target = copied.spec.containers[index]
    if (target === undefined) throw new SpecError('custom', `unable to find the ${name} container in the pod ${copied.metadata.name ?? ''}`)
    copied.spec.containers[index] = applyCustom(target, custom)
  }
  if (hasSecurityAdditions(opts)) {
    const replaced = replaceContainer(copied, name, x => applySecurityAdditions(x, opts))
    if (!replaced) throw new SpecError('container', `container "${name}" is not in the copy (init containers are dropped unless keep.initContainers)`)
  }

  const debug = copied.spec.containers.find(x => x.name === name)
  if (debug !== undefined) {
    const nonRootPod = nonRootPodWarning(debug, copied)
    if (nonRootPod !== undefined) warnings.push(nonRootPod)
    const nonRootContainer = nonRootContainerWarning(debug)
    if (nonRootContainer !== undefined) warnings.push(nonRootContainer)
  }
  return finish(pod, copied, name, ctx, warnings)
}

/** Readiness gate or NetworkPolicy warning depending on what happened to the labels, then attribution. */
function finish (original: Pod, copied: Pod, container: string | undefined, ctx: BuildContext, warnings: SpecWarning[]): CopyResult {
  const before = appLabels(original.metadata.labels)
  const after = copied.metadata.labels ?? {}
  const kept = before.some(([k, v]) => after[k] === v)
  if (kept) {
    const gates = copied.spec.readinessGates ?? []
    if (!gates.some(g => g.conditionType === NO_TRAFFIC_READINESS_GATE)) {
      copied.spec.readinessGates = [...gates, { conditionType: NO_TRAFFIC_READINESS_GATE }]
    }
    warnings.push(labelsKeptWarning(NO_TRAFFIC_READINESS_GATE))
  } else if (before.length > 0) {
    warnings.push(labelsDroppedWarning())
  }
  let pod = copied
  if (ctx.attribution !== undefined) {
    const target = { kind: 'copy' as const, ...(container === undefined ? {} : { container }), ...(original.metadata.name === undefined ? {} : { copyOf: original.metadata.name }) }
    pod = applyPodAttribution(copied, ctx.attribution, target)
  }
  return container === undefined ? { pod, warnings } : { pod, container, warnings }
}

/** The original's own labels (not ones we put there on an earlier copy). */
function appLabels (labels: Record<string, string> | undefined): Array<[string, string]> {
  return Object.entries(labels ?? {}).filter(([k]) => !k.startsWith(KDEBUG_PREFIX))
}

/** containerNameToRef after ephemeral containers are dropped: containers and init containers. */
function findContainer (pod: Pod, name: string): Container | undefined {
  if (name === '') return undefined
  return pod.spec.containers.find(c => c.name === name) ?? pod.spec.initContainers?.find(c => c.name === name)
}

function replaceContainer (pod: Pod, name: string, change: (c: Container) => Container): boolean {
  for (const list of [pod.spec.containers, pod.spec.initContainers ?? []]) {
    const i = list.findIndex(c => c.name === name)
    const found = list[i]
    if (found !== undefined) {
      list[i] = change(found)
      return true
    }
  }
  return false
}

function securityField (opts: CopyOptions): string {
  if (opts.capabilities !== undefined) return 'capabilities'
  return opts.privileged !== undefined ? 'privileged' : 'runAsUser'
}
