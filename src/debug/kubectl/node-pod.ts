// A pod on a node in the host's namespaces, as kubectl's generateNodeDebugPod builds it, plus our additions.
import { applySecurityAdditions } from './additions.ts'
import { applyPodAttribution, MANAGED_BY, MANAGED_BY_LABEL } from '../../sessions/attribution.ts'
import { applyCustom, normalizeCustom } from './custom.ts'
import { nodeDebugPodName } from './names.ts'
import { checkCommon, COPY_ONLY_FIELDS, rejectFields, streams, type BuildContext, type NodePodOptions } from './options.ts'
import { applyProfile, type ProfileName } from './profiles.ts'
import { SpecError } from './spec-error.ts'
import type { Container, Node, Pod, SpecWarning } from '../../kube/types.ts'
import { legacyProfileWarning, nonRootContainerWarning } from './warnings.ts'

export const NODE_DEBUG_CONTAINER = 'debugger'

export interface NodePodResult {
  pod: Pod
  /** The debug container (the pod's only container). */
  container: string
  warnings: SpecWarning[]
}

/**
 * The checks of `opts` that need no node object (SpecError on the first problem): run before
 * the node is read, and again by buildNodeDebugPod. Returns the profile and the normalized custom spec.
 */
export function checkNodePodOptions (opts: NodePodOptions): { profile: ProfileName, custom: Record<string, unknown> | undefined } {
  rejectFields(opts, COPY_ONLY_FIELDS, 'may only be used with copies')
  rejectFields(opts, ['target'], 'may only be used with ephemeral containers')
  const profile = checkCommon(opts)
  if (opts.image === undefined || opts.image === '') throw new SpecError('image', 'image is required for a node debug pod')
  return { profile, custom: opts.custom === undefined ? undefined : normalizeCustom(opts.custom) }
}

/**
 * `nodeName` pins the pod to the node (no scheduler), it tolerates every taint and never
 * restarts; host namespaces and the node's `/` at /host depend on the profile.
 */
export function buildNodeDebugPod (node: Node | string, opts: NodePodOptions, ctx: BuildContext = {}): NodePodResult {
  const { profile, custom } = checkNodePodOptions(opts)
  const nodeName = typeof node === 'string' ? node : node.metadata.name
  const name = opts.container !== undefined && opts.container !== '' ? opts.container : NODE_DEBUG_CONTAINER
  const { stdin, tty } = streams(opts)

  const c: Container = { name }
  if (opts.env !== undefined && opts.env.length > 0) c.env = structuredClone(opts.env)
  c.image = opts.image
  if (opts.command !== undefined && opts.command.length > 0) c.command = [...opts.command]
  if (opts.args !== undefined && opts.args.length > 0) c.args = [...opts.args]
  c.resources = {}
  c.terminationMessagePolicy = 'File'
  if (opts.imagePullPolicy !== undefined) c.imagePullPolicy = opts.imagePullPolicy
  if (stdin) c.stdin = true
  if (tty) c.tty = true

  const metadata: Pod['metadata'] = { name: nodeDebugPodName(nodeName, ctx.rand) }
  if (opts.namespace !== undefined && opts.namespace !== '') metadata.namespace = opts.namespace
  // kubectl labels its node pods app.kubernetes.io/managed-by: kubectl-debug; ours are ours.
  metadata.labels = { [MANAGED_BY_LABEL]: MANAGED_BY }
  let pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata,
    spec: {
      containers: [c],
      nodeName,
      restartPolicy: 'Never',
      tolerations: [{ operator: 'Exists' }]
    }
  }

  pod = applyProfile(pod, name, { profile, journey: 'node' })
  let container = pod.spec.containers[0] ?? c
  if (custom !== undefined) container = applyCustom(container, custom)
  container = applySecurityAdditions(container, opts)
  pod.spec.containers = [container]
  if (ctx.attribution !== undefined) pod = applyPodAttribution(pod, ctx.attribution, { kind: 'node', container: name })

  const warnings: SpecWarning[] = []
  if (profile === 'legacy') warnings.push(legacyProfileWarning())
  const nonRoot = nonRootContainerWarning(container)
  if (nonRoot !== undefined) warnings.push(nonRoot)
  return { pod, container: name, warnings }
}
