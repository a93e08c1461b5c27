// kubectl debug --custom, as kubectl applies it (kubernetes/kubectl
// pkg/cmd/debug/debug.go applyCustomProfile*): the custom spec goes through Go's
// JSON decoding into a corev1.Container and back (unknown fields and omitempty
// zero values dropped), then is strategic-merged onto the debug container.
import { containerPatchMeta, dropDirectivesAndNulls, isMap, strategicMergePatch, type JsonMap } from '../../lib/strategic-merge.ts'

/**
 * kubectl debug's applyCustomProfile: the custom spec is decoded into a corev1.Container (unknown
 * fields ignored), its name set to the debug container's, marshalled again (omitempty drops
 * false/0/""/empty lists and maps; the non-pointer `resources` struct is always written as `{}`),
 * then StrategicMergePatch'ed onto the container and decoded back into a corev1.Container.
 */
export function applyCustomContainerSpec<T> (container: T, custom: unknown): T {
  const name = isMap(container) ? container.name : undefined
  const patch = goMarshalContainer(custom)
  if (name !== undefined) patch.name = name
  return dropDirectivesAndNulls(strategicMergePatch(container, patch, containerPatchMeta))
}

/** json:"..." names of corev1.Container (k8s.io/api/core/v1 types.go). */
const containerFieldNames = new Set<string>([
  'name', 'image', 'command', 'args', 'workingDir', 'ports', 'envFrom', 'env', 'resources', 'resizePolicy',
  'restartPolicy', 'restartPolicyRules', 'volumeMounts', 'volumeDevices', 'livenessProbe', 'readinessProbe',
  'startupProbe', 'lifecycle', 'terminationMessagePath', 'terminationMessagePolicy', 'imagePullPolicy',
  'securityContext', 'stdin', 'stdinOnce', 'tty'
])

function goMarshalContainer (custom: unknown): JsonMap {
  const out: JsonMap = {}
  if (isMap(custom)) {
    for (const [k, v] of Object.entries(custom)) if (containerFieldNames.has(k)) out[k] = v
  }
  const marshalled = omitEmpty(out, '') as JsonMap
  // ResourceRequirements is a struct value, not a pointer: omitempty never drops it.
  if (!isMap(marshalled.resources)) marshalled.resources = {}
  return marshalled
}

/** Paths (dot-joined, list items as []) of pointer scalars (*bool, *int64, *string): their zero values survive marshalling. */
const pointerScalars = new Set<string>([
  'restartPolicy',
  'securityContext.privileged', 'securityContext.runAsUser', 'securityContext.runAsGroup',
  'securityContext.runAsNonRoot', 'securityContext.readOnlyRootFilesystem',
  'securityContext.allowPrivilegeEscalation', 'securityContext.procMount',
  'securityContext.windowsOptions.hostProcess', 'securityContext.windowsOptions.gmsaCredentialSpecName',
  'securityContext.windowsOptions.gmsaCredentialSpec', 'securityContext.windowsOptions.runAsUserName',
  'securityContext.seccompProfile.localhostProfile', 'securityContext.appArmorProfile.localhostProfile',
  'env[].valueFrom.configMapKeyRef.optional', 'env[].valueFrom.secretKeyRef.optional',
  'envFrom[].configMapRef.optional', 'envFrom[].secretRef.optional',
  'volumeMounts[].mountPropagation', 'volumeMounts[].recursiveReadOnly',
  ...['livenessProbe', 'readinessProbe', 'startupProbe'].flatMap(p => [`${p}.terminationGracePeriodSeconds`, `${p}.grpc.service`])
])

/** Fields declared without omitempty (always marshalled, even when zero). */
const noOmitEmpty = new Set<string>([
  'env[].name', 'volumeMounts[].name', 'volumeMounts[].mountPath', 'volumeDevices[].name', 'volumeDevices[].devicePath',
  'ports[].containerPort', 'resizePolicy[].resourceName', 'resizePolicy[].restartPolicy', 'resources.claims[].name',
  'env[].valueFrom.configMapKeyRef.key', 'env[].valueFrom.secretKeyRef.key',
  'env[].valueFrom.fieldRef.fieldPath', 'env[].valueFrom.resourceFieldRef.resource',
  'securityContext.seccompProfile.type', 'securityContext.appArmorProfile.type',
  ...['livenessProbe', 'readinessProbe', 'startupProbe'].flatMap(p => [`${p}.httpGet.port`, `${p}.tcpSocket.port`, `${p}.grpc.port`]),
  ...['postStart', 'preStop'].flatMap(h => [`lifecycle.${h}.httpGet.port`, `lifecycle.${h}.tcpSocket.port`, `lifecycle.${h}.sleep.seconds`])
])

/** map-typed fields (omitempty drops them when empty); every other object is a struct or pointer to one. */
const goMapFields = new Set<string>(['resources.limits', 'resources.requests'])

function omitEmpty (v: unknown, path: string): unknown {
  if (Array.isArray(v)) return v.map(x => omitEmpty(x, `${path}[]`))
  if (!isMap(v)) return v
  const out: JsonMap = {}
  for (const [k, val] of Object.entries(v)) {
    const p = path ? `${path}.${k}` : k
    if (val === null || val === undefined) continue
    if (!pointerScalars.has(p) && !noOmitEmpty.has(p)) {
      if (val === false || val === 0 || val === '') continue
      if (Array.isArray(val) && val.length === 0) continue
      if (goMapFields.has(p) && isMap(val) && Object.keys(val).length === 0) continue
    }
    out[k] = omitEmpty(val, p)
  }
  return out
}
