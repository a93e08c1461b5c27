// Request and response shapes of the debug actions and sessions: the
// single source of validation, TypeScript types and OpenAPI. Bodies are
// closed (unknown fields → 400 naming them), `custom` included: a partial
// Kubernetes container spec (src/schemas/container.ts).
import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { CONTAINER_NAME_OR_STAR_PATTERN, Names } from './names.ts'
import { CustomContainerSchema } from './container.ts'

/** A raw Kubernetes object passed through as is (fast-json-stringify must not drop fields). */
const KubeObject = (description: string) => Type.Unsafe<Record<string, unknown>>({ type: 'object', additionalProperties: true, description })

export const EnvVarSchema = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 1024 }),
  value: Type.Optional(Type.String({ maxLength: 32768 }))
}, { additionalProperties: false })

export const CapabilitiesSchema = Type.Object({
  add: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 64 })),
  drop: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 64 }))
}, { additionalProperties: false })

export const ProfileSchema = Type.Union(
  ['legacy', 'general', 'baseline', 'restricted', 'netadmin', 'sysadmin'].map(p => Type.Literal(p)),
  { description: 'kubectl debug --profile (default general).' })

const common = {
  image: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'Debug image (`--image`).' })),
  container: Type.Optional(Names.container('Debug container name (`-c`); default `debugger-xxxxx` (node pods: `debugger`).')),
  command: Type.Optional(Type.Array(Type.String(), { maxItems: 256, description: 'Words after `--`.' })),
  args: Type.Optional(Type.Array(Type.String(), { maxItems: 256, description: 'Words after `--` with `--arguments-only`.' })),
  env: Type.Optional(Type.Array(EnvVarSchema, { maxItems: 256, description: '`--env`; names starting with KDEBUG_ are reserved.' })),
  imagePullPolicy: Type.Optional(Type.Union([Type.Literal('Always'), Type.Literal('IfNotPresent'), Type.Literal('Never')])),
  profile: Type.Optional(ProfileSchema),
  custom: Type.Optional(Type.Ref(CustomContainerSchema)),
  capabilities: Type.Optional(CapabilitiesSchema),
  privileged: Type.Optional(Type.Boolean()),
  runAsUser: Type.Optional(Type.Integer({ minimum: 0, maximum: 2147483647 })),
  stdin: Type.Optional(Type.Boolean({ description: '`-i` (default true).' })),
  tty: Type.Optional(Type.Boolean({ description: '`-t` (default: the value of stdin).' })),
  reason: Type.Optional(Type.String({ maxLength: 1024, description: 'Why; policy may require it. Recorded on the object and in the audit log.' })),
  ticket: Type.Optional(Type.String({ maxLength: 256, description: 'Incident or change ticket.' })),
  ttlSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 7 * 24 * 3600, description: 'Session lifetime; policy caps it.' })),
  wait: Type.Optional(Type.Integer({ minimum: 0, maximum: 300, description: 'Seconds to wait for the container to run, terminate or fail to pull (202 on timeout).' }))
}

export const EphemeralRequestSchema = Type.Object({
  ...common,
  image: Type.String({ minLength: 1, maxLength: 1024, description: 'Debug image (`--image`).' }),
  target: Type.Optional(Names.container('Container whose process namespace to share (`--target`).'))
}, {
  $id: 'EphemeralRequest',
  additionalProperties: false,
  examples: [{ image: 'busybox:1.36', target: 'app', reason: 'checking DNS from the pod', ttlSeconds: 1800, wait: 30 }]
})
export type EphemeralRequest = Static<typeof EphemeralRequestSchema>

export const KeepSchema = Type.Object({
  labels: Type.Optional(Type.Boolean()),
  annotations: Type.Optional(Type.Boolean()),
  liveness: Type.Optional(Type.Boolean()),
  readiness: Type.Optional(Type.Boolean()),
  startup: Type.Optional(Type.Boolean()),
  initContainers: Type.Optional(Type.Boolean())
}, { additionalProperties: false })

export const CopyRequestSchema = Type.Object({
  ...common,
  name: Type.Optional(Names.pod('Name of the copy (`--copy-to`); default `<pod>-debug-xxxxx`.')),
  sameNode: Type.Optional(Type.Boolean()),
  shareProcesses: Type.Optional(Type.Boolean({ description: 'Default true.' })),
  replace: Type.Optional(Type.Boolean({ description: 'Delete the original after the copy is created (needs `delete pods`).' })),
  setImage: Type.Optional(Type.Record(Type.String(), Type.String({ minLength: 1, maxLength: 1024 }), {
    description: '`{container: image}`, `*` = every regular container.',
    maxProperties: 256,
    propertyNames: { pattern: CONTAINER_NAME_OR_STAR_PATTERN, maxLength: 63 }
  })),
  keep: Type.Optional(KeepSchema)
}, {
  $id: 'CopyRequest',
  additionalProperties: false,
  examples: [{ image: 'busybox:1.36', reason: 'reproduce the crash with a shell', keep: { labels: false } }]
})
export type CopyRequest = Static<typeof CopyRequestSchema>

export const NodeDebugRequestSchema = Type.Object({
  ...common,
  image: Type.String({ minLength: 1, maxLength: 1024, description: 'Debug image (`--image`).' }),
  namespace: Type.Optional(Names.namespace('Namespace of the debug pod (default: sessions.nodeDebugNamespace).'))
}, {
  $id: 'NodeDebugRequest',
  additionalProperties: false,
  examples: [{ image: 'busybox:1.36', profile: 'sysadmin', reason: 'kubelet disk pressure', ticket: 'INC-1234' }]
})
export type NodeDebugRequest = Static<typeof NodeDebugRequestSchema>

export const DryRunQuerySchema = Type.Object({
  dryRun: Type.Optional(Type.Boolean({ description: 'Do everything except the mutation; return the exact object that would be sent.' }))
}, { additionalProperties: false })

export const PodParamsSchema = Type.Object({
  namespace: Names.namespace(),
  pod: Names.pod()
})
export const NodeParamsSchema = Type.Object({ node: Names.node() })
// A label value: the id is used in a label selector, so nothing else may get in.
export const SessionParamsSchema = Type.Object({ id: Type.String({ minLength: 1, maxLength: 63, pattern: '^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$' }) })

export const SessionStateSchema = Type.Union(
  ['pending', 'waiting', 'running', 'terminated', 'image-pull-failed', 'expired', 'deleting'].map(s => Type.Literal(s)),
  { description: 'pending: no status yet; image-pull-failed: Waiting with ErrImagePull/ImagePullBackOff/…; expired: past its TTL (ephemeral containers cannot be removed).' })

export const ContainerStatusSchema = Type.Object({
  reason: Type.Optional(Type.String()),
  message: Type.Optional(Type.String()),
  exitCode: Type.Optional(Type.Integer()),
  startedAt: Type.Optional(Type.String()),
  finishedAt: Type.Optional(Type.String())
})

export const SessionSchema = Type.Object({
  id: Type.String(),
  kind: Type.Union([Type.Literal('ephemeral'), Type.Literal('copy'), Type.Literal('node')]),
  namespace: Type.String(),
  pod: Type.String(),
  container: Type.Optional(Type.String()),
  node: Type.Optional(Type.String()),
  image: Type.Optional(Type.String()),
  profile: Type.Optional(Type.String()),
  state: SessionStateSchema,
  status: Type.Optional(ContainerStatusSchema),
  reason: Type.Optional(Type.String()),
  ticket: Type.Optional(Type.String()),
  requestedBy: Type.String({ description: 'Who asked for the session; empty when the session is not verified.' }),
  verified: Type.Boolean({ description: 'The gateway\'s signature over this session\'s metadata checks out. False: the object carries the gateway\'s labels, annotations or KDEBUG_* env but was not made by the gateway (or was changed since); it belongs to nobody, is never counted, replayed, extended or reaped.' }),
  claimedRequestedBy: Type.Optional(Type.String({ description: 'On unverified sessions only: the requester the object claims (not trusted).' })),
  delegatedBy: Type.Optional(Type.String({ description: 'The caller that acted on behalf of requestedBy (Impersonate-User).' })),
  copyOf: Type.Optional(Type.String()),
  createdAt: Type.Optional(Type.String()),
  expiresAt: Type.Optional(Type.String())
}, { $id: 'Session' })
export type Session = Static<typeof SessionSchema>
export type SessionState = Static<typeof SessionStateSchema>
export type ContainerStatusView = Static<typeof ContainerStatusSchema>

export const WarningSchema = Type.Object({ code: Type.String(), message: Type.String() })

export const AttachSchema = Type.Object({
  url: Type.String({ description: 'WebSocket attach URL of the debug container.' }),
  protocols: Type.Array(Type.String())
})

export const CreateResponseSchema = Type.Object({
  session: Type.Ref(SessionSchema),
  attach: Type.Optional(AttachSchema),
  warnings: Type.Array(WarningSchema),
  dryRun: Type.Optional(Type.Boolean()),
  idempotentReplay: Type.Optional(Type.Boolean({ description: 'True when an Idempotency-Key retry returned the first result.' })),
  ephemeralContainer: Type.Optional(KubeObject('The ephemeral container that is (or would be) added.')),
  patch: Type.Optional(KubeObject('The strategic merge patch body sent to pods/ephemeralcontainers.')),
  pod: Type.Optional(KubeObject('The pod that is (or would be) created (dry run).')),
  serverDryRun: Type.Optional(KubeObject('The API server\'s answer to the same request with dryRun=All.'))
}, { $id: 'CreateResponse' })
export type CreateResponse = Static<typeof CreateResponseSchema>

export const EphemeralContainerItemSchema = Type.Object({
  name: Type.String(),
  image: Type.Optional(Type.String()),
  targetContainerName: Type.Optional(Type.String()),
  state: SessionStateSchema,
  status: Type.Optional(ContainerStatusSchema),
  session: Type.Optional(Type.String({ description: 'Session id when the container carries the gateway\'s attribution.' })),
  verified: Type.Optional(Type.Boolean({ description: 'With session: the attribution\'s signature checks out (false: not made by the gateway; requestedBy is then absent).' })),
  requestedBy: Type.Optional(Type.String()),
  reason: Type.Optional(Type.String()),
  ticket: Type.Optional(Type.String()),
  expiresAt: Type.Optional(Type.String())
})

export const EphemeralListSchema = Type.Object({
  namespace: Type.String(),
  pod: Type.String(),
  items: Type.Array(EphemeralContainerItemSchema)
}, { $id: 'EphemeralContainerList' })
export type EphemeralList = Static<typeof EphemeralListSchema>
export type EphemeralContainerItem = Static<typeof EphemeralContainerItemSchema>

export const SessionListSchema = Type.Object({
  items: Type.Array(Type.Ref(SessionSchema))
}, { $id: 'SessionList' })
export type SessionList = Static<typeof SessionListSchema>

export const SessionsQuerySchema = Type.Object({
  namespace: Type.Optional(Names.namespace('Only sessions in this namespace.')),
  mine: Type.Optional(Type.Boolean({ description: 'Only sessions requested by the caller.' }))
}, { additionalProperties: false })

export const SessionQuerySchema = Type.Object({
  namespace: Type.Optional(Names.namespace('The session\'s namespace: look only there (one permission check, one namespace read). Without it the gateway looks in every namespace where you may list pods.'))
}, { additionalProperties: false })

/** Shared schemas with an $id, registered once by the plugin. */
export const DEBUG_SHARED_SCHEMAS: TSchema[] = [
  CustomContainerSchema, EphemeralRequestSchema, CopyRequestSchema, NodeDebugRequestSchema, SessionSchema, CreateResponseSchema,
  EphemeralListSchema, SessionListSchema
]
