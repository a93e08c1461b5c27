// `allowed` of GET /v1/whoami?namespace=: what a debug form may offer. Every
// yes/no comes from the policy's one entry point (evaluate), asked the way the
// actions ask it; the lists (images, profiles, capabilities …) are the deciding
// rule's own allowances, as written. Pure: the caller brings RBAC's answers
// (`can`) and the live session count the create path uses.
import type { CompiledPolicy, PolicySubject } from '../policy/policy.ts'
import type { PolicyAction } from '../policy/config-schema.ts'
import type { Allowed } from '../schemas/identity.ts'

export const POLICY_ACTIONS: readonly PolicyAction[] = ['ephemeral', 'copy', 'node', 'attach', 'logs']

const CREATES: ReadonlySet<PolicyAction> = new Set(['ephemeral', 'copy', 'node'])

/** A non-blank reason, so a rule's requireReason does not hide whether the action itself is allowed (reasonRequired says it is needed). */
const FORM_REASON = 'reason given in the form'

export interface AllowedInput {
  policy: CompiledPolicy
  subject: PolicySubject
  namespace: string
  /** RBAC's answers for the namespace (whoami's `can`). */
  can: Readonly<Record<PolicyAction, boolean>>
  /** sessions.defaultTtlSeconds, as the create path passes it. */
  defaultTtlSeconds: number
  /** The caller's live sessions (SessionFinder.userSessions, as the create path counts them); asked only when a rule matches. */
  liveSessions: () => Promise<number>
}

export async function allowedIn (input: AllowedInput): Promise<Allowed> {
  const { policy, subject, namespace } = input
  const ask = (action: PolicyAction, withReason: boolean): ReturnType<CompiledPolicy['evaluate']> => policy.evaluate(subject, {
    action,
    namespace,
    defaultTtlSeconds: input.defaultTtlSeconds,
    ...(withReason && CREATES.has(action) ? { reason: FORM_REASON } : {})
  })
  const decisions = POLICY_ACTIONS.map(action => ({ action, decision: ask(action, true) }))
  const ruleName = decisions[0]?.decision.rule
  const rule = ruleName === undefined ? undefined : policy.policy.rules.find(r => r.name === ruleName)
  if (rule === undefined) {
    return {
      rule: null,
      actions: [],
      images: [],
      profiles: [],
      capabilities: [],
      privileged: false,
      nodeDebug: false,
      podSecurity: 'restricted',
      secretEnv: false,
      attachOthers: false,
      ttl: { maxSeconds: 0, defaultSeconds: 0 },
      reasonRequired: false,
      sessions: { used: 0, limit: 0 }
    }
  }
  const allowedDecision = decisions.find(d => d.decision.allowed)?.decision
  const a = rule.allow
  const reasonProbe = ask('ephemeral', false)
  return {
    rule: rule.name,
    actions: decisions.filter(d => d.decision.allowed && input.can[d.action]).map(d => d.action),
    images: [...a.images],
    profiles: [...a.profiles],
    capabilities: [...a.capabilities],
    privileged: a.privileged,
    nodeDebug: a.nodeDebug,
    podSecurity: a.podSecurity ?? 'baseline',
    secretEnv: a.secretEnv ?? false,
    attachOthers: a.attachOthers ?? false,
    ttl: {
      maxSeconds: a.maxTtlSeconds,
      defaultSeconds: allowedDecision?.allowed === true ? allowedDecision.ttlSeconds : Math.min(a.defaultTtlSeconds ?? input.defaultTtlSeconds, a.maxTtlSeconds)
    },
    reasonRequired: !reasonProbe.allowed && reasonProbe.violations.some(v => v.field === 'reason'),
    sessions: { used: await input.liveSessions(), limit: a.maxSessionsPerUser }
  }
}
