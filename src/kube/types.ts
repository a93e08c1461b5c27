// Plain JSON shapes of the Kubernetes objects the gateway reads and writes.
// Only the fields the gateway touches are named; everything else passes through
// untouched via the index signatures (these objects are sent as JSON, so no
// client-node classes with Date fields here).

export interface EnvVar {
  name: string
  value?: string
  valueFrom?: Record<string, unknown>
}

export interface Capabilities {
  add?: string[]
  drop?: string[]
}

export interface SeccompProfile {
  type: string
  localhostProfile?: string
}

export interface SecurityContext {
  capabilities?: Capabilities
  privileged?: boolean
  runAsUser?: number
  runAsGroup?: number
  runAsNonRoot?: boolean
  allowPrivilegeEscalation?: boolean
  readOnlyRootFilesystem?: boolean
  seccompProfile?: SeccompProfile
  [field: string]: unknown
}

export interface PodSecurityContext {
  runAsUser?: number
  runAsNonRoot?: boolean
  [field: string]: unknown
}

export interface VolumeMount {
  name: string
  mountPath: string
  readOnly?: boolean
  [field: string]: unknown
}

export interface Container {
  name: string
  image?: string
  command?: string[]
  args?: string[]
  env?: EnvVar[]
  resources?: Record<string, unknown>
  volumeMounts?: VolumeMount[]
  livenessProbe?: unknown
  readinessProbe?: unknown
  startupProbe?: unknown
  terminationMessagePolicy?: string
  imagePullPolicy?: string
  securityContext?: SecurityContext
  stdin?: boolean
  tty?: boolean
  [field: string]: unknown
}

export interface EphemeralContainer extends Container {
  targetContainerName?: string
}

export interface Volume {
  name: string
  hostPath?: { path: string, type?: string }
  [field: string]: unknown
}

export interface Toleration {
  key?: string
  operator?: string
  value?: string
  effect?: string
  tolerationSeconds?: number
}

export interface PodReadinessGate {
  conditionType: string
}

export interface PodSpec {
  containers: Container[]
  initContainers?: Container[]
  ephemeralContainers?: EphemeralContainer[]
  volumes?: Volume[]
  nodeName?: string
  restartPolicy?: string
  tolerations?: Toleration[]
  hostNetwork?: boolean
  hostPID?: boolean
  hostIPC?: boolean
  shareProcessNamespace?: boolean
  securityContext?: PodSecurityContext
  readinessGates?: PodReadinessGate[]
  [field: string]: unknown
}

export interface ObjectMeta {
  name?: string
  namespace?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  [field: string]: unknown
}

export interface Pod {
  apiVersion?: string
  kind?: string
  metadata: ObjectMeta
  spec: PodSpec
  status?: unknown
}

export interface Node {
  metadata: ObjectMeta & { name: string }
  [field: string]: unknown
}

/** Returns a number in [0, 1), like Math.random; injected so tests are deterministic. */
export type RandomSource = () => number

/** A warning for the response; `code` is stable, `message` is for people (kubectl's own text where it has one). */
export interface SpecWarning {
  code: string
  message: string
}

/** The body of PATCH pods/POD/ephemeralcontainers (strategic merge: the list merges by name). */
export interface EphemeralPatch {
  spec: { ephemeralContainers: EphemeralContainer[] }
}
