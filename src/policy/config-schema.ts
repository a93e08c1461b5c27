// The policy as configured (config key `policy`): TypeBox schemas, the single
// source of its validation, types and the config documentation. What the
// fields mean when a request is judged is described in policy.ts.
import { Type } from '@sinclair/typebox'
import type { Static } from '@sinclair/typebox'

export const PolicyActionSchema = Type.Union([
  Type.Literal('ephemeral'), Type.Literal('copy'), Type.Literal('node'), Type.Literal('attach'), Type.Literal('logs')
], { description: 'ephemeral container, pod copy, node debug pod, attach, logs' })
export type PolicyAction = Static<typeof PolicyActionSchema>

export const PolicyProfileSchema = Type.Union([
  Type.Literal('legacy'), Type.Literal('general'), Type.Literal('baseline'),
  Type.Literal('restricted'), Type.Literal('netadmin'), Type.Literal('sysadmin')
], { description: 'kubectl debug --profile' })
export type PolicyProfile = Static<typeof PolicyProfileSchema>

const NameList = (description: string) => Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description }))

export const PolicyMatchSchema = Type.Object({
  users: NameList('User names (wildcards `*`, `?`). The subject matches if its user is listed or one of its groups is.'),
  groups: NameList('Group names (wildcards `*`, `?`).'),
  namespaces: NameList('Namespace globs; `*` = all. Absent = all.'),
  nodes: NameList('Node name globs; when set, only requests naming a matching node match.')
}, { additionalProperties: false, default: {} })
export type PolicyMatch = Static<typeof PolicyMatchSchema>

export const PolicyAllowSchema = Type.Object({
  images: Type.Array(Type.String({ minLength: 1 }), { default: [], description: 'Image references or globs (`busybox:*`, `docker.io/library/busybox@sha256:*`, `**@sha256:*`); familiar names normalised as Docker does.' }),
  capabilities: Type.Array(Type.String({ minLength: 1, pattern: '^(?:[Cc][Aa][Pp]_)?[A-Za-z0-9_]+$' }), { default: [], description: 'Capabilities that may be added (with or without CAP_); `ALL` allows any.' }),
  profiles: Type.Array(PolicyProfileSchema, { default: ['general', 'baseline', 'restricted'], description: 'Debug profiles that may be used.' }),
  privileged: Type.Boolean({ default: false, description: 'May the debug container be privileged.' }),
  nodeDebug: Type.Boolean({ default: false, description: 'May node debug pods (and host namespaces / host path mounts) be created.' }),
  runAsRoot: Type.Optional(Type.Boolean({ description: 'false refuses an explicit runAsUser: 0.' })),
  maxTtlSeconds: Type.Integer({ minimum: 1, default: 3600, description: 'Longest session TTL; longer requests are refused.' }),
  defaultTtlSeconds: Type.Optional(Type.Integer({ minimum: 1, description: 'TTL when the request names none (≤ maxTtlSeconds).' })),
  requireReason: Type.Boolean({ default: false, description: 'Requests must carry a non-blank reason.' }),
  // At most 1,000: a user's ledger lists their live sessions in one Lease annotation
  // (sessions/ledger.ts), and annotations are limited to 256 KiB in all.
  maxSessionsPerUser: Type.Integer({ minimum: 1, maximum: 1000, default: 3, description: 'Live sessions one user may hold (counted in the user\'s session ledger, rebuilt from the cluster when full).' }),
  actions: Type.Optional(Type.Array(PolicyActionSchema, { description: 'Actions this rule allows; absent = all (node still needs nodeDebug).' })),
  podSecurity: Type.Optional(Type.Union([Type.Literal('restricted'), Type.Literal('baseline'), Type.Literal('privileged')], { default: 'baseline', description: 'Pod Security Standards level the judged containers (the debug container; for copies the whole pod; for attach/logs the container) may not exceed, with `capabilities` as explicit exceptions. Host access is gated by nodeDebug, privileged containers by privileged, at every level.' })),
  attachOthers: Type.Optional(Type.Boolean({ default: false, description: 'May attach to, and read the logs of, gateway sessions other users requested.' })),
  secretEnv: Type.Optional(Type.Boolean({ default: false, description: 'May the debug container read Secrets/ConfigMaps: env[].valueFrom, envFrom, mounts of secret, configMap, projected or csi volumes.' }))
}, { additionalProperties: false, default: {} })
export type PolicyAllow = Static<typeof PolicyAllowSchema>

export const PolicyRuleSchema = Type.Object({
  name: Type.String({ minLength: 1, description: 'Named in denials and audit records.' }),
  description: Type.Optional(Type.String()),
  match: PolicyMatchSchema,
  allow: PolicyAllowSchema
}, { additionalProperties: false })
export type PolicyRule = Static<typeof PolicyRuleSchema>

export const ExpiryWrapperSchema = Type.Object({
  image: Type.String({ minLength: 1, description: 'Image pattern (as in allow.images) of an image that has `timeout` (busybox, alpine, netshoot, …).' }),
  command: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'The image\'s default command, wrapped when the request names none (`sh`).' })
}, { additionalProperties: false })
export type ExpiryWrapper = Static<typeof ExpiryWrapperSchema>

/** Images known to ship `timeout` and to have no ENTRYPOINT (so `command` replaces only their default shell). */
export const DEFAULT_EXPIRY_WRAPPERS: ExpiryWrapper[] = [
  { image: 'docker.io/library/busybox:*', command: ['sh'] },
  { image: 'docker.io/library/busybox@sha256:*', command: ['sh'] },
  { image: 'docker.io/library/alpine:*', command: ['sh'] },
  { image: 'docker.io/library/alpine@sha256:*', command: ['sh'] },
  { image: 'docker.io/nicolaka/netshoot:*', command: ['zsh'] },
  { image: 'docker.io/nicolaka/netshoot@sha256:*', command: ['zsh'] }
]

export const PolicySchema = Type.Object({
  rules: Type.Array(PolicyRuleSchema, { default: [], description: 'Ordered; the first rule whose match fits decides; none → deny.' }),
  expiryWrapper: Type.Optional(Type.Array(ExpiryWrapperSchema, {
    default: DEFAULT_EXPIRY_WRAPPERS,
    description: 'Ephemeral containers of these images run `timeout -s KILL <ttl> <command>`, so their process ends at the session\'s expiry (Kubernetes cannot remove an ephemeral container). Other images keep running; attach and logs are refused after expiry. [] turns it off.'
  }))
}, { additionalProperties: false })
export type Policy = Static<typeof PolicySchema>
