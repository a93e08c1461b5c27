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

export const WhoamiQuerySchema = Type.Object({
  namespace: Type.Optional(Names.namespace('Namespace for the `can` map.'))
}, { additionalProperties: false })

export const WhoamiSchema = Type.Object({
  user: Type.String(),
  uid: Type.Optional(Type.String()),
  groups: Type.Array(Type.String()),
  authenticatedBy: Type.String({ description: 'tokenreview, oidc, static or ticket' }),
  delegated: Type.Boolean({ description: 'True when a caller acts on behalf of this user via Impersonate-* headers.' }),
  actor: Type.Optional(Type.Ref(PrincipalSchema)),
  namespace: Type.Optional(Type.String()),
  can: Type.Optional(CanMapSchema)
}, { $id: 'Whoami' })

export type Whoami = Static<typeof WhoamiSchema>
