// The pod picker's shapes: what a portal needs to list pods and their
// containers and to recognise the gateway's own debug containers.
import { Type, type Static } from '@sinclair/typebox'
import { Names } from '../schemas/names.ts'

export const PodContainerStateSchema = Type.Union([Type.Literal('running'), Type.Literal('waiting'), Type.Literal('terminated')], {
  description: 'From the container status; `waiting` until the kubelet reports one.'
})

export const PodSessionRefSchema = Type.Object({
  id: Type.String({ description: 'The debug session (GET /v1/sessions/{id}).' }),
  verified: Type.Boolean({ description: 'The gateway\'s signature over the metadata checks out. Unverified metadata is only a claim: it has no requester.' }),
  requester: Type.Optional(Type.String({ description: 'Who requested the session (verified sessions only).' })),
  reason: Type.Optional(Type.String()),
  expiresAt: Type.Optional(Type.String({ format: 'date-time' }))
}, { $id: 'PodSessionRef', description: 'A debug session the gateway created, read from its signed metadata.' })

export const PodContainerSchema = Type.Object({
  name: Type.String(),
  image: Type.Optional(Type.String()),
  state: PodContainerStateSchema,
  ready: Type.Boolean(),
  restarts: Type.Integer({ minimum: 0 }),
  tty: Type.Boolean(),
  stdin: Type.Boolean()
})

export const PodEphemeralContainerSchema = Type.Object({
  name: Type.String(),
  image: Type.Optional(Type.String()),
  state: PodContainerStateSchema,
  tty: Type.Boolean(),
  stdin: Type.Boolean(),
  targetContainer: Type.Optional(Type.String({ description: 'The container whose process namespace it shares.' })),
  session: Type.Optional(Type.Ref(PodSessionRefSchema))
})

export const PodItemSchema = Type.Object({
  name: Type.String(),
  phase: Type.String({ description: 'Pending, Running, Succeeded, Failed or Unknown.' }),
  node: Type.Optional(Type.String()),
  createdAt: Type.Optional(Type.String({ format: 'date-time' })),
  containers: Type.Array(PodContainerSchema),
  ephemeralContainers: Type.Array(PodEphemeralContainerSchema),
  session: Type.Optional(Type.Ref(PodSessionRefSchema, { description: 'For a pod copy or node debug pod the gateway created.' }))
}, { $id: 'PodItem' })
export type PodItem = Static<typeof PodItemSchema>

export const PodListSchema = Type.Object({
  items: Type.Array(Type.Ref(PodItemSchema)),
  continue: Type.Optional(Type.String({ description: 'Pass as `continue` for the next page; absent on the last page.' }))
}, { $id: 'PodList' })
export type PodListView = Static<typeof PodListSchema>

export const PodListParamsSchema = Type.Object({ namespace: Names.namespace() })

export const PodListQuerySchema = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100, description: 'Most pods in one page.' })),
  continue: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, pattern: '^[A-Za-z0-9_=+/-]+$', description: 'The `continue` of the previous page (opaque; expires with the API server\'s compaction: 410).' }))
}, { additionalProperties: false })
export type PodListQuery = Static<typeof PodListQuerySchema>

export const PODS_SHARED_SCHEMAS = [PodSessionRefSchema, PodItemSchema, PodListSchema]
