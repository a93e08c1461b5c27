// `custom`: the corev1.Container fields `kubectl debug --custom` decodes
// (staging/src/k8s.io/api/core/v1/types.go, Container and the types it uses),
// with their Kubernetes JSON types, so a wrong type anywhere is a 400 naming
// the field instead of reaching the policy or the API server. Every object is
// closed (an unknown field is a 400, where kubectl would drop it silently) and
// every list and string is bounded, which also bounds nesting depth.
// name, image, command, lifecycle and volumeDevices are described so the
// spec builder can answer with kubectl's own message (debug.go Validate).
import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { Names } from './names.ts'

const closed = <T extends Record<string, TSchema>>(props: T, description?: string) =>
  Type.Object(props, { additionalProperties: false, ...(description ? { description } : {}) })
const opt = Type.Optional
const Str = (maxLength = 4096, description?: string) => Type.String({ maxLength, ...(description ? { description } : {}) })
const Int32 = (description?: string) => Type.Integer({ minimum: -2147483648, maximum: 2147483647, ...(description ? { description } : {}) })
// JSON cannot carry all int64 values exactly; the safe-integer range is what a JSON client can mean.
const Int64 = (description?: string) => Type.Integer({ minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER, ...(description ? { description } : {}) })
const StrList = (maxItems = 256, maxLength = 4096) => Type.Array(Type.String({ maxLength }), { maxItems })

/** resource.Quantity: a string like `100m`, `1Gi`, `1e3` (apimachinery quantity.go), or a plain number. */
export const QuantitySchema = Type.Union([
  Type.String({ minLength: 1, maxLength: 64, pattern: '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$' }),
  Type.Number()
], { description: 'resource.Quantity, e.g. `100m`, `128Mi`.' })

/** intstr.IntOrString as used for probe ports: a port number or an IANA_SVC_NAME. */
const PortOrName = Type.Union([Type.Integer({ minimum: 1, maximum: 65535 }), Type.String({ minLength: 1, maxLength: 15 })])

const ResourceList = Type.Record(Type.String(), QuantitySchema, {
  maxProperties: 64,
  propertyNames: { maxLength: 253, pattern: '^[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?$' }
})

const KeySelector = (what: string) => closed({
  name: opt(Str(253, `${what} name.`)),
  key: Type.String({ minLength: 1, maxLength: 253 }),
  optional: opt(Type.Boolean())
})

export const EnvVarSourceSchema = closed({
  fieldRef: opt(closed({ apiVersion: opt(Str(64)), fieldPath: Type.String({ minLength: 1, maxLength: 256 }) })),
  resourceFieldRef: opt(closed({ containerName: opt(Names.container()), resource: Type.String({ minLength: 1, maxLength: 253 }), divisor: opt(QuantitySchema) })),
  configMapKeyRef: opt(KeySelector('ConfigMap')),
  secretKeyRef: opt(KeySelector('Secret')),
  fileKeyRef: opt(closed({ volumeName: Type.String({ minLength: 1, maxLength: 63 }), path: Type.String({ minLength: 1, maxLength: 4096 }), key: Type.String({ minLength: 1, maxLength: 253 }), optional: opt(Type.Boolean()) }))
}, 'EnvVarSource: where the value comes from (secretKeyRef needs the policy\'s permission).')

export const CustomEnvVarSchema = closed({
  name: Type.String({ minLength: 1, maxLength: 1024 }),
  value: opt(Str(32768)),
  valueFrom: opt(EnvVarSourceSchema)
})

export const EnvFromSourceSchema = closed({
  prefix: opt(Str(253)),
  configMapRef: opt(closed({ name: opt(Str(253)), optional: opt(Type.Boolean()) })),
  secretRef: opt(closed({ name: opt(Str(253)), optional: opt(Type.Boolean()) }))
})

export const ContainerPortSchema = closed({
  name: opt(Str(15)),
  hostPort: opt(Type.Integer({ minimum: 0, maximum: 65535, description: 'Host access: policy decides.' })),
  containerPort: Type.Integer({ minimum: 1, maximum: 65535 }),
  protocol: opt(Type.Union([Type.Literal('TCP'), Type.Literal('UDP'), Type.Literal('SCTP')])),
  hostIP: opt(Str(64))
})

export const ResourceRequirementsSchema = closed({
  limits: opt(ResourceList),
  requests: opt(ResourceList),
  claims: opt(Type.Array(closed({ name: Type.String({ minLength: 1, maxLength: 63 }), request: opt(Str(63)) }), { maxItems: 32 }))
})

export const VolumeMountSchema = closed({
  name: Type.String({ minLength: 1, maxLength: 253 }),
  readOnly: opt(Type.Boolean()),
  recursiveReadOnly: opt(Type.Union([Type.Literal('Disabled'), Type.Literal('IfPossible'), Type.Literal('Enabled')])),
  mountPath: Type.String({ minLength: 1, maxLength: 4096 }),
  subPath: opt(Str(4096)),
  mountPropagation: opt(Type.Union([Type.Literal('None'), Type.Literal('HostToContainer'), Type.Literal('Bidirectional')])),
  subPathExpr: opt(Str(4096))
})

const HttpHeader = closed({ name: Type.String({ minLength: 1, maxLength: 256 }), value: Str(4096) })

export const ProbeSchema = closed({
  exec: opt(closed({ command: opt(StrList()) })),
  httpGet: opt(closed({
    path: opt(Str(2048)),
    port: PortOrName,
    host: opt(Str(253)),
    scheme: opt(Type.Union([Type.Literal('HTTP'), Type.Literal('HTTPS')])),
    httpHeaders: opt(Type.Array(HttpHeader, { maxItems: 64 }))
  })),
  tcpSocket: opt(closed({ port: PortOrName, host: opt(Str(253)) })),
  grpc: opt(closed({ port: Type.Integer({ minimum: 1, maximum: 65535 }), service: opt(Str(253)) })),
  initialDelaySeconds: opt(Int32()),
  timeoutSeconds: opt(Int32()),
  periodSeconds: opt(Int32()),
  successThreshold: opt(Int32()),
  failureThreshold: opt(Int32()),
  terminationGracePeriodSeconds: opt(Int64())
})

const ProfileRef = (what: string) => closed({
  type: Type.Union([Type.Literal('RuntimeDefault'), Type.Literal('Unconfined'), Type.Literal('Localhost')], { description: `${what} profile type; Unconfined is judged by the policy.` }),
  localhostProfile: opt(Str(4096))
})

export const SecurityContextSchema = closed({
  capabilities: opt(closed({
    add: opt(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 64 })),
    drop: opt(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 64 }))
  })),
  privileged: opt(Type.Boolean()),
  seLinuxOptions: opt(closed({ user: opt(Str(256)), role: opt(Str(256)), type: opt(Str(256)), level: opt(Str(256)) })),
  windowsOptions: opt(closed({
    gmsaCredentialSpecName: opt(Str(253)),
    gmsaCredentialSpec: opt(Str(65536)),
    runAsUserName: opt(Str(256)),
    hostProcess: opt(Type.Boolean())
  })),
  runAsUser: opt(Int64()),
  runAsGroup: opt(Int64()),
  runAsNonRoot: opt(Type.Boolean()),
  readOnlyRootFilesystem: opt(Type.Boolean()),
  allowPrivilegeEscalation: opt(Type.Boolean()),
  procMount: opt(Type.Union([Type.Literal('Default'), Type.Literal('Unmasked')])),
  seccompProfile: opt(ProfileRef('Seccomp')),
  appArmorProfile: opt(ProfileRef('AppArmor'))
})

const ContainerResizePolicy = closed({
  resourceName: Type.String({ minLength: 1, maxLength: 253 }),
  restartPolicy: Type.Union([Type.Literal('NotRequired'), Type.Literal('RestartContainer')])
})

const RestartRule = closed({
  action: Type.Literal('Restart'),
  exitCodes: opt(closed({
    operator: Type.Union([Type.Literal('In'), Type.Literal('NotIn')]),
    values: opt(Type.Array(Int32(), { maxItems: 255 }))
  }))
})

const notModifiable = 'Not modifiable via custom (kubectl): a 400.'

/** corev1.Container as `kubectl debug --custom` accepts it. */
export const CustomContainerSchema = Type.Object({
  name: opt(Str(253, notModifiable)),
  image: opt(Str(1024, notModifiable)),
  command: opt(Type.Array(Type.String({ maxLength: 4096 }), { maxItems: 256, description: notModifiable })),
  lifecycle: opt(Type.Object({}, { additionalProperties: true, description: notModifiable })),
  volumeDevices: opt(Type.Array(closed({ name: Str(253), devicePath: Str(4096) }), { maxItems: 64, description: notModifiable })),
  args: opt(StrList()),
  workingDir: opt(Str(4096)),
  ports: opt(Type.Array(ContainerPortSchema, { maxItems: 64 })),
  envFrom: opt(Type.Array(EnvFromSourceSchema, { maxItems: 64 })),
  env: opt(Type.Array(CustomEnvVarSchema, { maxItems: 256, description: 'Names starting with KDEBUG_ are reserved.' })),
  resources: opt(ResourceRequirementsSchema),
  resizePolicy: opt(Type.Array(ContainerResizePolicy, { maxItems: 16 })),
  restartPolicy: opt(Type.Literal('Always')),
  restartPolicyRules: opt(Type.Array(RestartRule, { maxItems: 16 })),
  volumeMounts: opt(Type.Array(VolumeMountSchema, { maxItems: 64 })),
  livenessProbe: opt(ProbeSchema),
  readinessProbe: opt(ProbeSchema),
  startupProbe: opt(ProbeSchema),
  terminationMessagePath: opt(Str(4096)),
  terminationMessagePolicy: opt(Type.Union([Type.Literal('File'), Type.Literal('FallbackToLogsOnError')])),
  imagePullPolicy: opt(Type.Union([Type.Literal('Always'), Type.Literal('IfNotPresent'), Type.Literal('Never')])),
  securityContext: opt(SecurityContextSchema),
  stdin: opt(Type.Boolean()),
  stdinOnce: opt(Type.Boolean()),
  tty: opt(Type.Boolean())
}, {
  $id: 'CustomContainer',
  additionalProperties: false,
  description: 'Partial container spec merged like `kubectl debug --custom` (corev1.Container; name, command, image, lifecycle and volumeDevices are not modifiable). ' +
    'Zero values (false, "", []) are dropped as kubectl\'s JSON round trip drops them.'
})
export type CustomContainer = Static<typeof CustomContainerSchema>
