// What differs between the three debug actions, as data for the service's one
// order of work (service.ts): permissions, what to read, how to build the spec,
// the mutation, and where the session shows up in the answer.
import type { ResourceAttributes } from '../auth/identity.ts'
import { permissionsFor } from '../auth/permissions.ts'
import type { PolicyAction } from '../policy/config-schema.ts'
import type { PolicyRequest } from '../policy/policy.ts'
import type { AuditTarget } from '../audit/types.ts'
import { Problems, isProblemError } from '../errors.ts'
import type { CallOptions, DebugClient } from '../kube/debug-client.ts'
import { buildEphemeralContainer, buildNodeDebugPod, buildPodCopy, checkCommon, checkEphemeralOptions, checkNodePodOptions, DEFAULT_PROFILE, type ExpiryWrap } from './kubectl/index.ts'
import { signEphemeralContainer, signPod, type Attribution, type SignFn } from '../sessions/attribution.ts'
import type { Container, EphemeralPatch, Pod, SpecWarning } from '../kube/types.ts'
import type { CopyRequest, EphemeralRequest, NodeDebugRequest } from '../schemas/debug.ts'
import type { SessionFinder } from '../sessions/finder.ts'
import { policyInput } from './policy-input.ts'
import { ephemeralSessions, podSession, type FoundSession, type VerifyFn } from '../sessions/found.ts'

export interface PlanDeps {
  client: DebugClient
  finder: SessionFinder
  clock: () => number
  defaultTtlSeconds: number
  nodeDebugNamespace: string
  /** Checks the signature of metadata found on objects (src/security/signing.ts). */
  verify: VerifyFn
  onError?: (err: unknown, context: string) => void
  /** The policy's expiry wrapper: the default command of an image that has `timeout`, else undefined. */
  expiryCommandFor?: (image: string) => string[] | undefined
}

/** The expiry wrapper for an ephemeral container of `image` expiring at `expiresAt`, if the policy has one for the image. */
function expiryWrap (deps: PlanDeps, image: string | undefined, expiresAt: string | undefined): ExpiryWrap | undefined {
  const command = image === undefined ? undefined : deps.expiryCommandFor?.(image)
  const at = expiresAt === undefined ? NaN : Date.parse(expiresAt)
  if (command === undefined || !Number.isFinite(at)) return undefined
  return { seconds: Math.max(1, Math.ceil((at - deps.clock()) / 1000)), defaultCommand: command }
}

/** Request body fields that are ours, not the spec builders'. */
export interface SessionFields { reason?: string, ticket?: string, ttlSeconds?: number, wait?: number, profile?: string }

export interface Built {
  /** The debug container, if any (a setImage-only copy has none). */
  container?: Container
  containerName?: string
  /** Pod the session lives in: the target (ephemeral) or the one to create. */
  podName: string
  pod?: Pod
  patch?: EphemeralPatch
  warnings: SpecWarning[]
  /** What policy judges, derived from the very objects that are sent (signed, with their expiry). */
  policy: PolicyRequest
}

export interface Plan<B extends SessionFields> {
  action: PolicyAction & ('ephemeral' | 'copy' | 'node')
  auditAction: string
  namespace: string
  /** The node a node debug pod runs on (policy rules may match nodes). */
  node?: string
  target: AuditTarget
  permissions: ResourceAttributes[]
  body: B
  /** Identifies the target in the request hash. */
  targetKey: string
  prevalidate: () => void
  /** Reads what the spec needs (after authorization). */
  read: (opts: CallOptions) => Promise<void>
  /** The verified session made for this key, on this very target (namespace, pod or node). */
  existing: (keyHash: string) => Promise<FoundSession | undefined>
  /** The one build of what is sent: attribution (with its expiry) written and signed; policy input derived from it. */
  build: (attribution: Attribution, rand: () => number, sign: SignFn) => Built
  /** The mutation, or its server-side dry run. */
  send: (built: Built, dryRun: boolean, opts: CallOptions) => Promise<Pod>
  /** The session as found in the pod the API server returned. */
  sessionIn: (pod: Pod, sessionId: string) => FoundSession | undefined
  /** After a successful create (copy replace). */
  after?: (built: Built, created: Pod, opts: CallOptions) => Promise<SpecWarning[]>
}

/** The builders' options: the body without the session fields. */
export function specOptions<B extends SessionFields> (body: B): Omit<B, 'reason' | 'ticket' | 'ttlSeconds' | 'wait'> {
  const { reason: _r, ticket: _t, ttlSeconds: _ttl, wait: _w, ...rest } = body
  return rest
}

/** PATCH pods/POD/ephemeralcontainers; idempotency keys are looked up on the target pod. */
export function ephemeralPlan (deps: PlanDeps, params: { namespace: string, pod: string }, body: EphemeralRequest): Plan<EphemeralRequest> {
  const { namespace, pod: podName } = params
  let target: Pod | undefined
  const plan: Plan<EphemeralRequest> = {
    action: 'ephemeral',
    auditAction: 'ephemeral.create',
    namespace,
    target: { namespace, pod: podName },
    permissions: permissionsFor('ephemeral', { namespace, pod: podName }),
    body,
    targetKey: `${namespace}/${podName}`,
    prevalidate: () => { checkEphemeralOptions(specOptions(body)) },
    read: async (o) => { target = await deps.client.getPod(namespace, podName, o) },
    // The key is looked up on the target pod only: one GET we make anyway.
    existing: async (keyHash) => ephemeralSessions(target as Pod, deps.clock(), deps.verify, a => a.idempotencyKey === keyHash).find(s => s.verified && s.idempotencyKey === keyHash),
    build: (attribution, rand, sign) => {
      const pod = target as Pod
      const expiry = expiryWrap(deps, body.image, attribution.expiresAt)
      const r = buildEphemeralContainer(pod, specOptions(body), { attribution, rand, ...(expiry ? { expiry } : {}) })
      const container = signEphemeralContainer({ namespace, pod: podName }, r.container, sign)
      return {
        container,
        containerName: container.name,
        podName,
        patch: { ...r.patch, spec: { ...r.patch.spec, ephemeralContainers: [container] } },
        warnings: r.warnings,
        policy: policyInput({ action: 'ephemeral', namespace, container, original: pod, profile: body.profile ?? DEFAULT_PROFILE, ttlSeconds: body.ttlSeconds, defaultTtlSeconds: deps.defaultTtlSeconds, reason: body.reason })
      }
    },
    send: async (built, dryRun, o) => await deps.client.addEphemeralContainer(namespace, podName, built.patch as EphemeralPatch, { ...o, dryRun }),
    sessionIn: (pod, id) => ephemeralSessions(pod, deps.clock(), deps.verify, a => a.sessionId === id)[0]
  }
  return plan
}

/** POST pods (a copy), then with `replace` DELETE the original as kubectl --replace does. */
export function copyPlan (deps: PlanDeps, params: { namespace: string, pod: string }, body: CopyRequest): Plan<CopyRequest> {
  const { namespace, pod: podName } = params
  let original: Pod | undefined
  const permissions = permissionsFor('copy', { namespace, pod: podName })
  if (body.replace === true) permissions.push({ verb: 'delete', resource: 'pods', namespace, name: podName })
  const plan: Plan<CopyRequest> = {
    action: 'copy',
    auditAction: 'copy.create',
    namespace,
    target: { namespace, pod: podName },
    permissions,
    body,
    targetKey: `${namespace}/${podName}`,
    prevalidate: () => {
      checkCommon(specOptions(body))
      if ((body as { target?: unknown }).target !== undefined) throw Problems.validation('/body/target: target is incompatible with copies. Use shareProcesses instead.')
    },
    read: async (o) => { original = await deps.client.getPod(namespace, podName, o) },
    existing: async (keyHash) => (await deps.finder.podSessions({ namespace }))
      .find(s => s.verified && s.idempotencyKey === keyHash && s.session.namespace === namespace && s.session.kind === 'copy' && s.session.copyOf === podName),
    build: (attribution, rand, sign) => {
      const pod = original as Pod
      const r = buildPodCopy(pod, specOptions(body), { attribution, rand })
      const copy = signPod(r.pod, sign)
      const container = r.container === undefined ? undefined : copy.spec.containers.find(c => c.name === r.container)
      const built: Built = {
        podName: copy.metadata.name ?? '',
        pod: copy,
        warnings: r.warnings,
        policy: policyInput({ action: 'copy', namespace, container, pod: copy, original: pod, extraImages: Object.values(body.setImage ?? {}), profile: body.profile ?? DEFAULT_PROFILE, ttlSeconds: body.ttlSeconds, defaultTtlSeconds: deps.defaultTtlSeconds, reason: body.reason })
      }
      if (container !== undefined) {
        built.container = container
        built.containerName = container.name
      }
      return built
    },
    send: async (built, dryRun, o) => await deps.client.createPod(namespace, built.pod as Pod, { ...o, dryRun }),
    sessionIn: (pod) => podSession(pod, deps.clock(), deps.verify),
    after: async (_built, _created, o) => {
      if (body.replace !== true) return []
      // kubectl --replace: delete the original at once; the copy already exists, so a failure is a warning.
      try {
        const uid = (original?.metadata as { uid?: string } | undefined)?.uid
        await deps.client.deletePod(namespace, podName, { ...o, gracePeriodSeconds: 0, ...(uid ? { preconditions: { uid } } : {}) })
        return []
      } catch (err) {
        deps.onError?.(err, 'copy replace')
        return [{ code: 'REPLACE_FAILED', message: `The copy was created but the original pod could not be deleted: ${isProblemError(err) ? err.detail : 'unknown error'}` }]
      }
    }
  }
  return plan
}

/** GET the node, POST the node debug pod in the body's namespace or the configured one. */
export function nodePlan (deps: PlanDeps, params: { node: string }, body: NodeDebugRequest): Plan<NodeDebugRequest> {
  const { node } = params
  const namespace = body.namespace ?? deps.nodeDebugNamespace
  let nodeObj: Awaited<ReturnType<DebugClient['getNode']>> | undefined
  const plan: Plan<NodeDebugRequest> = {
    action: 'node',
    auditAction: 'node.create',
    namespace,
    node,
    target: { namespace, node },
    permissions: permissionsFor('node', { node, namespace }),
    body,
    targetKey: `node/${node}/${namespace}`,
    prevalidate: () => { checkNodePodOptions({ ...specOptions(body), namespace }) },
    read: async (o) => { nodeObj = await deps.client.getNode(node, o) },
    existing: async (keyHash) => (await deps.finder.podSessions({ namespace }))
      .find(s => s.verified && s.idempotencyKey === keyHash && s.session.namespace === namespace && s.session.kind === 'node' && s.session.node === node),
    build: (attribution, rand, sign) => {
      const r = buildNodeDebugPod(nodeObj ?? node, { ...specOptions(body), namespace }, { attribution, rand })
      const pod = signPod(r.pod, sign)
      const container = pod.spec.containers.find(c => c.name === r.container)
      return {
        container,
        containerName: r.container,
        podName: pod.metadata.name ?? '',
        pod,
        warnings: r.warnings,
        policy: policyInput({ action: 'node', namespace, node, container, pod, profile: body.profile ?? DEFAULT_PROFILE, ttlSeconds: body.ttlSeconds, defaultTtlSeconds: deps.defaultTtlSeconds, reason: body.reason })
      }
    },
    send: async (built, dryRun, o) => await deps.client.createPod(namespace, built.pod as Pod, { ...o, dryRun }),
    sessionIn: (pod) => podSession(pod, deps.clock(), deps.verify)
  }
  return plan
}
