import { Type, type Static } from '@sinclair/typebox'
import { Names } from './names.ts'

export const PrincipalSchema = Type.Object({
  user: Type.String(),
  groups: Type.Array(Type.String())
}, { $id: 'Principal' })

export const CanMapSchema = Type.Object({
  ephemeral: Type.Boolean({ description: 'Add ephemeral debug containers to pods in the namespace.' }),
  copy: Type.Boolean({ description: 'Create debug copies of pods in the namespace.' }),
  node: Type.Boolean({ description: 'Create node debug pods (cluster-wide `get nodes` + `create pods` in the node debug namespace).' }),
  attach: Type.Boolean({ description: 'Attach to containers in the namespace.' }),
  logs: Type.Boolean({ description: 'Read container logs in the namespace.' }),
  drops: Type.Boolean({ description: 'Watch packet drops (events) in the namespace.' })
})

const PolicyActionName = Type.Union(['ephemeral', 'copy', 'node', 'attach', 'logs'].map(a => Type.Literal(a)))

export const AllowedSchema = Type.Object({
  rule: Type.Union([Type.String(), Type.Null()], { description: 'The policy rule that decides for you here; null: no rule matches, nothing is allowed.' }),
  actions: Type.Array(PolicyActionName, { description: 'Actions both the rule and RBAC (`can`) allow here.' }),
  images: Type.Array(Type.String(), { description: 'Image patterns as in the rule (`busybox:*`, `**@sha256:*`).' }),
  profiles: Type.Array(Type.String(), { description: 'Debug profiles that may be used.' }),
  capabilities: Type.Array(Type.String(), { description: 'Capabilities that may be added (`ALL`: any).' }),
  privileged: Type.Boolean(),
  nodeDebug: Type.Boolean({ description: 'Node debug pods, host namespaces and host path mounts.' }),
  podSecurity: Type.Union([Type.Literal('restricted'), Type.Literal('baseline'), Type.Literal('privileged')], { description: 'Pod Security Standards level the debug container may not exceed.' }),
  secretEnv: Type.Boolean({ description: 'The debug container may read Secrets/ConfigMaps.' }),
  attachOthers: Type.Boolean({ description: 'May attach to, and read, other users\' sessions.' }),
  ttl: Type.Object({
    maxSeconds: Type.Integer({ minimum: 0 }),
    defaultSeconds: Type.Integer({ minimum: 0, description: 'What a session gets when the request names no ttlSeconds.' })
  }),
  reasonRequired: Type.Boolean(),
  sessions: Type.Object({
    used: Type.Integer({ minimum: 0, description: 'Your live sessions, counted as creating one counts them.' }),
    limit: Type.Integer({ minimum: 0 })
  })
}, { $id: 'Allowed', description: 'What a debug form may offer in the namespace: the matching policy rule\'s allowances, and the actions RBAC allows too.' })
export type Allowed = Static<typeof AllowedSchema>

export const WhoamiQuerySchema = Type.Object({
  namespace: Type.Optional(Names.namespace('Namespace for the `can` map and `allowed`.'))
}, { additionalProperties: false })

export const WhoamiSchema = Type.Object({
  user: Type.String(),
  uid: Type.Optional(Type.String()),
  groups: Type.Array(Type.String()),
  authenticatedBy: Type.String({ description: 'tokenreview, oidc, static or ticket' }),
  delegated: Type.Boolean({ description: 'True when a caller acts on behalf of this user via Impersonate-* headers.' }),
  actor: Type.Optional(Type.Ref(PrincipalSchema)),
  namespace: Type.Optional(Type.String()),
  can: Type.Optional(CanMapSchema),
  allowed: Type.Optional(Type.Ref(AllowedSchema))
}, { $id: 'Whoami' })

export type Whoami = Static<typeof WhoamiSchema>
