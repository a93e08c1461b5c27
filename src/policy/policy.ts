// The gateway policy: what a person may do beyond what RBAC lets them, per
// group/user and namespace. Pure: no I/O, no clock.
//
// Rules are ordered; the FIRST rule whose `match` fits the subject and the
// request wins, and only that rule decides (no fall-through to later rules
// when it denies). No matching rule → deny (field `subject`).
//
// match: `users`/`groups` — the subject matches if its user is in `users` OR
// one of its groups is in `groups` (`*` and `?` wildcards allowed); with
// neither key the rule matches every subject. `namespaces`/`nodes` — globs;
// absent = any; a rule with `nodes` only matches requests that name a node.
//
// allow: see PolicyAllowSchema. Decisions made here:
// - ttlSeconds above the rule's maximum is REJECTED (field `ttlSeconds`)
//   rather than silently capped: the caller asked for something they will
//   not get, and should know. With no ttlSeconds the session gets the rule's
//   defaultTtlSeconds, else the caller's default (config), capped at the max.
// - capabilities compare without the `CAP_` prefix, case-insensitively;
//   `ALL` is allowed only when the rule lists `ALL` (which allows any cap).
// - host namespaces and host path mounts need `nodeDebug: true` (they are
//   node-level access whatever the action).
// - `effective` (set for every create, attach and logs) is the resulting pod:
//   host access anywhere in it, the judged containers against `podSecurity`
//   (the rule's capabilities are exceptions), Secrets in the debug container
//   against `secretEnv` — src/policy/effective.ts. `sessionOwner` other than
//   the subject needs `attachOthers`. One evaluation path for all actions.
// - runAsRoot: false refuses an explicit `runAsUser: 0`; it cannot see an
//   image's default user — pair it with the `baseline`/`restricted` profiles.
// - requireReason and ttlSeconds apply to the create actions (ephemeral, copy,
//   node); attach/logs need no new reason. Fields a request leaves out
//   (profile, images, capabilities for attach/logs) are not checked.
// - every violation is reported (`violations`); `field`/`detail` name the first.

import { canonicalImage, compileImagePattern, parseImageRef } from './image-ref.ts'
import type { ImageMatcher } from './image-ref.ts'
import { effectiveViolations, type EffectiveRule, type EffectiveTarget } from './effective.ts'
import { DEFAULT_EXPIRY_WRAPPERS, type Policy, type PolicyAction, type PolicyRule } from './config-schema.ts'

export interface PolicySubject {
  user: string
  groups: string[]
}

export interface PolicyRequest {
  action: PolicyAction
  namespace: string
  node?: string
  /** Every image the action would run (the debug image; for copies also setImage targets). Absent/empty for attach and logs. */
  images?: string[]
  /** Capabilities added, effective after profile + custom + request. */
  capabilities?: string[]
  privileged?: boolean
  /** Checked when set (create actions always set it; attach/logs need not). */
  profile?: string
  runAsUser?: number
  /** As the caller asked; leave undefined when the request named none. */
  ttlSeconds?: number
  /** The caller's default TTL (config) used when neither the request nor the rule names one. */
  defaultTtlSeconds?: number
  reason?: string
  hostNamespaces?: boolean
  hostPathMounts?: boolean
  /** The resulting pod and the containers judged in it (effective privilege). */
  effective?: EffectiveTarget
  /** attach/logs to a gateway session with verified attribution: who requested it. */
  sessionOwner?: string
}

export interface PolicyViolation {
  field: string
  detail: string
}

export type PolicyDecision =
  | { allowed: true, rule: string, ttlSeconds: number, maxSessionsPerUser: number }
  | { allowed: false, rule?: string, field: string, detail: string, violations: PolicyViolation[] }

/** Actions that create a session: reason and TTL apply to these only (attaching to one does not need a new reason). */
const CREATES: ReadonlySet<PolicyAction> = new Set(['ephemeral', 'copy', 'node'])

/** Used when neither the request, the rule nor the caller names a TTL. */
export const FALLBACK_TTL_SECONDS = 3600

type NameMatcher = (name: string) => boolean

function nameGlob (pattern: string): NameMatcher {
  if (!/[*?]/.test(pattern)) return (name) => name === pattern
  const src = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.')
  const re = new RegExp(`^${src}$`)
  return (name) => re.test(name)
}

function anyOf (patterns: string[] | undefined): NameMatcher | undefined {
  if (patterns === undefined) return undefined
  const ms = patterns.map(nameGlob)
  return (name) => ms.some((m) => m(name))
}

export function normalizeCapability (cap: string): string {
  return cap.trim().toUpperCase().replace(/^CAP_/, '')
}

interface CompiledRule {
  rule: PolicyRule
  users: NameMatcher | undefined
  groups: NameMatcher | undefined
  namespaces: NameMatcher | undefined
  nodes: NameMatcher | undefined
  images: ImageMatcher[]
  caps: Set<string>
  profiles: Set<string>
  effective: EffectiveRule
}

/** The part of an allowed decision that depends only on who and where (CompiledPolicy.sessionGrant). */
export interface SessionGrant {
  rule: string
  ttlSeconds: number
  maxSessionsPerUser: number
}

export interface CompiledPolicy {
  readonly policy: Policy
  /** The default command an ephemeral container of `image` is wrapped with for expiry, or undefined (no wrapper). */
  expiryCommandFor (image: string): string[] | undefined
  evaluate (subject: PolicySubject, request: PolicyRequest): PolicyDecision
  /**
   * What an allowed create would get (evaluate's `rule`, `ttlSeconds` and `maxSessionsPerUser`),
   * from the rule that matches the subject and where (namespace, node) alone: the spec can
   * carry its expiry, and its place under the session limit can be reserved, before the spec
   * is judged. undefined when no rule matches (evaluate denies).
   */
  sessionGrant (subject: PolicySubject, request: Pick<PolicyRequest, 'action' | 'namespace' | 'node' | 'ttlSeconds' | 'defaultTtlSeconds'>): SessionGrant | undefined
}

function compileRule (rule: PolicyRule): CompiledRule {
  return {
    rule,
    users: anyOf(rule.match.users),
    groups: anyOf(rule.match.groups),
    namespaces: anyOf(rule.match.namespaces),
    nodes: anyOf(rule.match.nodes),
    images: rule.allow.images.map((p) => {
      try {
        return compileImagePattern(p)
      } catch {
        return () => false // validatePolicy reports it; an invalid pattern allows nothing
      }
    }),
    caps: new Set(rule.allow.capabilities.map(normalizeCapability)),
    profiles: new Set(rule.allow.profiles),
    effective: {
      name: rule.name,
      podSecurity: rule.allow.podSecurity ?? 'baseline',
      capabilities: new Set(rule.allow.capabilities.map(normalizeCapability)),
      privileged: rule.allow.privileged,
      nodeDebug: rule.allow.nodeDebug,
      secretEnv: rule.allow.secretEnv ?? false
    }
  }
}

function matches (c: CompiledRule, subject: PolicySubject, req: Pick<PolicyRequest, 'namespace' | 'node'>): boolean {
  if (c.users !== undefined || c.groups !== undefined) {
    const byUser = c.users?.(subject.user) ?? false
    const byGroup = c.groups !== undefined && subject.groups.some(c.groups)
    if (!byUser && !byGroup) return false
  }
  if (c.namespaces && !c.namespaces(req.namespace)) return false
  if (c.nodes && (req.node === undefined || !c.nodes(req.node))) return false
  return true
}

function check (c: CompiledRule, subject: PolicySubject, req: PolicyRequest): { violations: PolicyViolation[], ttlSeconds: number } {
  const { rule } = c
  const allow = rule.allow
  const by = `by rule "${rule.name}"`
  const v: PolicyViolation[] = []
  if (allow.actions !== undefined && !allow.actions.includes(req.action)) {
    v.push({ field: 'action', detail: `action "${req.action}" is not allowed ${by}` })
  }
  if (req.action === 'node' && !allow.nodeDebug) {
    v.push({ field: 'action', detail: `node debugging is not allowed ${by}` })
  }
  if (req.hostNamespaces && !allow.nodeDebug) {
    v.push({ field: 'hostNamespaces', detail: `host namespaces are not allowed ${by} (needs nodeDebug)` })
  }
  if (req.hostPathMounts && !allow.nodeDebug) {
    v.push({ field: 'hostPathMounts', detail: `host path mounts are not allowed ${by} (needs nodeDebug)` })
  }
  if (req.profile !== undefined && !c.profiles.has(req.profile)) {
    v.push({ field: 'profile', detail: `profile "${req.profile}" is not allowed ${by} (allowed: ${[...c.profiles].join(', ') || 'none'})` })
  }
  if (req.privileged && !allow.privileged) {
    v.push({ field: 'privileged', detail: `privileged containers are not allowed ${by}` })
  }
  for (const image of req.images ?? []) {
    const ref = parseImageRef(image)
    if (!ref) {
      v.push({ field: 'image', detail: `image "${image}" is not a valid image reference` })
      continue
    }
    const canonical = canonicalImage(ref)
    if (!c.images.some((m) => m(canonical))) {
      const shown = canonical === image ? '' : ` (${canonical})`
      v.push({ field: 'image', detail: `image "${image}"${shown} is not allowed ${by}` })
    }
  }
  for (const raw of req.capabilities ?? []) {
    const cap = normalizeCapability(raw)
    const ok = cap === 'ALL' ? c.caps.has('ALL') : c.caps.has(cap) || c.caps.has('ALL')
    if (!ok) v.push({ field: 'capabilities', detail: `capability ${cap} is not allowed ${by}` })
  }
  if (req.sessionOwner !== undefined && req.sessionOwner !== subject.user && allow.attachOthers !== true) {
    v.push({ field: 'session', detail: `the container is a debug session of "${req.sessionOwner}"; attaching to or reading other users' sessions is not allowed ${by} (needs attachOthers)` })
  }
  if (req.effective !== undefined) v.push(...effectiveViolations(c.effective, req.effective))
  if (req.runAsUser === 0 && allow.runAsRoot === false) {
    v.push({ field: 'runAsUser', detail: `running as root (runAsUser: 0) is not allowed ${by}` })
  }
  if (allow.requireReason && CREATES.has(req.action) && (req.reason === undefined || req.reason.trim() === '')) {
    v.push({ field: 'reason', detail: `a reason is required ${by}` })
  }
  const ttlSeconds = sessionTtl(c, req)
  if (req.ttlSeconds !== undefined && CREATES.has(req.action)) {
    if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < 1) {
      v.push({ field: 'ttlSeconds', detail: 'ttlSeconds must be a positive integer' })
    } else if (ttlSeconds > allow.maxTtlSeconds) {
      v.push({ field: 'ttlSeconds', detail: `ttlSeconds ${ttlSeconds} exceeds the maximum ${allow.maxTtlSeconds} allowed ${by}` })
    }
  }
  return { violations: v, ttlSeconds }
}

/** The session's TTL under rule `c`: as asked (check judges it), else the rule's default or the caller's, capped at the rule's maximum. */
function sessionTtl (c: CompiledRule, req: Pick<PolicyRequest, 'action' | 'ttlSeconds' | 'defaultTtlSeconds'>): number {
  const allow = c.rule.allow
  if (req.ttlSeconds !== undefined && CREATES.has(req.action)) return req.ttlSeconds
  return Math.min(allow.defaultTtlSeconds ?? req.defaultTtlSeconds ?? FALLBACK_TTL_SECONDS, allow.maxTtlSeconds)
}

export function compilePolicy (policy: Policy): CompiledPolicy {
  const rules = policy.rules.map(compileRule)
  const wrappers = (policy.expiryWrapper ?? DEFAULT_EXPIRY_WRAPPERS).flatMap(w => {
    try {
      return [{ match: compileImagePattern(w.image), command: w.command }]
    } catch {
      return [] // validatePolicy reports it
    }
  })
  const find = (subject: PolicySubject, req: Pick<PolicyRequest, 'namespace' | 'node'>): CompiledRule | undefined =>
    rules.find((c) => matches(c, subject, req))
  return {
    policy,
    expiryCommandFor (image) {
      const ref = parseImageRef(image)
      if (!ref) return undefined
      const canonical = canonicalImage(ref)
      const w = wrappers.find(x => x.match(canonical))
      return w === undefined ? undefined : [...w.command]
    },
    sessionGrant (subject, req) {
      const c = find(subject, req)
      return c === undefined ? undefined : { rule: c.rule.name, ttlSeconds: sessionTtl(c, req), maxSessionsPerUser: c.rule.allow.maxSessionsPerUser }
    },
    evaluate (subject, req) {
      const c = find(subject, req)
      if (!c) {
        const groups = subject.groups.length > 0 ? subject.groups.join(', ') : 'none'
        const where = req.node !== undefined ? ` on node "${req.node}"` : ''
        const detail = `no policy rule matches user "${subject.user}" (groups: ${groups}) in namespace "${req.namespace}"${where}`
        return { allowed: false, field: 'subject', detail, violations: [{ field: 'subject', detail }] }
      }
      const { violations, ttlSeconds } = check(c, subject, req)
      const first = violations[0]
      if (first) return { allowed: false, rule: c.rule.name, field: first.field, detail: first.detail, violations }
      return { allowed: true, rule: c.rule.name, ttlSeconds, maxSessionsPerUser: c.rule.allow.maxSessionsPerUser }
    }
  }
}

/** Problems the schema cannot express; run at config load. Empty = fine. */
export function validatePolicy (policy: Policy): string[] {
  const problems: string[] = []
  const names = new Set<string>()
  let catchAll: string | undefined
  for (const [i, rule] of policy.rules.entries()) {
    const at = `policy.rules[${i}] ("${rule.name}")`
    if (names.has(rule.name)) problems.push(`${at}: duplicate rule name`)
    names.add(rule.name)
    if (catchAll !== undefined) problems.push(`${at}: unreachable, rule "${catchAll}" before it matches every request`)
    const m = rule.match
    if (catchAll === undefined && m.users === undefined && m.groups === undefined && m.namespaces === undefined && m.nodes === undefined) catchAll = rule.name
    for (const p of rule.allow.images) {
      try {
        compileImagePattern(p)
      } catch (err) {
        problems.push(`${at}.allow.images: ${(err as Error).message}`)
      }
    }
    if (rule.allow.defaultTtlSeconds !== undefined && rule.allow.defaultTtlSeconds > rule.allow.maxTtlSeconds) {
      problems.push(`${at}.allow.defaultTtlSeconds ${rule.allow.defaultTtlSeconds} exceeds maxTtlSeconds ${rule.allow.maxTtlSeconds}`)
    }
  }
  for (const [i, w] of (policy.expiryWrapper ?? []).entries()) {
    try {
      compileImagePattern(w.image)
    } catch (err) {
      problems.push(`policy.expiryWrapper[${i}].image: ${(err as Error).message}`)
    }
  }
  return problems
}
