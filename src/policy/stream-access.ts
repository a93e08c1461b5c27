// Attach and logs are exec-equivalent: whoever attaches to a container gets
// its stdin and output, so the container is judged as if the caller were
// creating it — the same policy evaluation, on the container as it runs in its
// pod (effective privilege). Gateway sessions add two rules: only their
// requester (or a rule with `attachOthers`) may use them, and not after their
// `expiresAt` (410; Kubernetes cannot remove an ephemeral container, so the
// gateway refuses at the door). Attribution counts only when it is verified
// (signed by a replica); anything else is an ordinary container. judgeStream
// is pure; StreamJudge adds the one read it needs (the pod).
import type { CompiledPolicy, PolicySubject } from './policy.ts'
import { Problems } from '../errors.ts'
import type { Pod } from '../kube/types.ts'
import { isExpired, sessionsOfPod, type FoundSession, type VerifyFn } from '../sessions/found.ts'

export interface StreamAccessInput {
  policy: CompiledPolicy
  subject: PolicySubject
  action: 'attach' | 'logs'
  namespace: string
  /** The pod as read from the API server. */
  pod: Pod
  /** As the caller named it; unset = the pod's only container (the API server refuses the rest). */
  container?: string
  now: number
  /** Checks the replicas' signature on session attribution. */
  verify: VerifyFn
}

export interface StreamAccess {
  rule: string
  /** The rule's longest session (caps an attach session's duration). */
  maxTtlSeconds: number
  /** The gateway session the container belongs to (verified attribution only). */
  session?: FoundSession
  /** When that session expires (epoch ms). */
  expiresAtMs?: number
  /** The pod the judgement was made on (attach derives tty and state from it: one read). */
  pod: Pod
}

function containerNames (pod: Pod): string[] {
  const s = pod.spec
  return [...(s.initContainers ?? []), ...s.containers, ...(s.ephemeralContainers ?? [])].map(c => c.name)
}

/** The containers the stream reaches: the named one, or without a name every regular container (the API server picks one or refuses). */
function judged (pod: Pod, container: string | undefined, where: string): string[] {
  if (container === undefined) return pod.spec.containers.map(c => c.name)
  if (!containerNames(pod).includes(container)) throw Problems.notFound(`Container "${container}" not found in pod ${where}.`, { field: 'container' })
  return [container]
}

/** Throws 403 (policy, naming the rule and the field), 404 (no such container) or 410 (expired session); else what the stream may do. */
export function judgeStream (input: StreamAccessInput): StreamAccess {
  const { pod, policy, subject, action, namespace, now } = input
  const where = `${namespace}/${pod.metadata.name ?? ''}`
  const containers = judged(pod, input.container, where)
  const session = sessionsOfPod(pod, now, input.verify).find(s => s.verified === true && s.session.container !== undefined && containers.includes(s.session.container))
  const decision = policy.evaluate(subject, {
    action,
    namespace,
    effective: { pod, containers },
    ...(session !== undefined ? { sessionOwner: session.session.requestedBy } : {})
  })
  if (!decision.allowed) {
    const extras: Record<string, unknown> = { field: decision.field, errors: decision.violations.map(v => ({ field: v.field, message: v.detail })) }
    if (decision.rule !== undefined) extras.rule = decision.rule
    throw Problems.policyDenied(decision.detail, extras)
  }
  const rule = policy.policy.rules.find(r => r.name === decision.rule)
  const out: StreamAccess = { rule: decision.rule, maxTtlSeconds: rule?.allow.maxTtlSeconds ?? 0, pod }
  if (session === undefined) return out
  out.session = session
  const expiresAt = session.session.expiresAt
  if (expiresAt !== undefined && isExpired(expiresAt, now)) {
    throw Problems.gone(`Debug session ${session.session.id} expired at ${expiresAt}; its container can no longer be attached to or read.`, { session: session.session.id, expiresAt })
  }
  const t = expiresAt === undefined ? NaN : Date.parse(expiresAt)
  if (Number.isFinite(t)) out.expiresAtMs = t
  return out
}

export interface StreamJudgeOptions {
  policy: CompiledPolicy
  /**
   * Reads the pod with the gateway's own identity (its ClusterRole has `get pods`), in either
   * authorization mode: the judgement is the gateway's, and `get pods` is not part of what the
   * API server checks for attach or logs, so the caller need not hold it.
   */
  readPod: (namespace: string, name: string) => Promise<Pod>
  verify: VerifyFn
  clock?: () => number
}

/** The one call the attach and logs routes make, after authorization and before any stream is opened. */
export class StreamJudge {
  readonly #o: StreamJudgeOptions
  readonly #clock: () => number
  constructor (opts: StreamJudgeOptions) {
    this.#o = opts
    this.#clock = opts.clock ?? Date.now
  }

  now (): number { return this.#clock() }

  async judge (args: { subject: PolicySubject, action: 'attach' | 'logs', namespace: string, pod: string, container?: string }): Promise<StreamAccess> {
    const pod = await this.#o.readPod(args.namespace, args.pod)
    const input: StreamAccessInput = { policy: this.#o.policy, subject: args.subject, action: args.action, namespace: args.namespace, pod, now: this.#clock(), verify: this.#o.verify }
    if (args.container !== undefined) input.container = args.container
    return judgeStream(input)
  }
}
