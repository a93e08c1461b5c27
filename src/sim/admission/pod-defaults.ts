// What a real API server fills into a new Pod: the SetDefaults_* functions of
// pkg/apis/core/v1/defaults.go (plus declarative defaults such as ContainerPort.protocol),
// then the admission plugins every cluster runs on pod create: ServiceAccount (serviceAccountName
// and the projected kube-api-access-xxxxx token volume, plugin/pkg/admission/serviceaccount),
// DefaultTolerationSeconds (not-ready/unreachable NoExecute 300s) and Priority (priority 0,
// preemptionPolicy PreemptLowerPriority). The v1 conversion mirrors serviceAccountName into the
// deprecated serviceAccount field. Inputs are never mutated.
import type { KObject } from '../apimachinery/types.ts'

type JsonMap = Record<string, unknown>

export interface DefaultPodOptions {
  /** Random source for the generated token volume suffix (tests pass a fixed one). */
  random?: () => number
}

const SERVICE_ACCOUNT_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount'
const TOKEN_VOLUME_PREFIX = 'kube-api-access-'
/** apimachinery pkg/util/rand alphabet (no vowels, no confusable digits). */
const RAND_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789'
/** serviceaccount.WarnOnlyBoundTokenExpirationSeconds: 1h + 7s marks tokens the kubelet refreshes. */
const TOKEN_EXPIRATION_SECONDS = 3607
const DEFAULT_TOLERATION_SECONDS = 300
const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror'
const SYSTEM_PRIORITIES: Record<string, number> = { 'system-node-critical': 2000001000, 'system-cluster-critical': 2000000000 }

function isMap (v: unknown): v is JsonMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function maps (v: unknown): JsonMap[] {
  return Array.isArray(v) ? v.filter(isMap) : []
}

/**
 * The tag parsers.ParseImageName reports: the explicit tag, else "latest" unless a digest is given;
 * "" when the reference does not parse (then the policy is IfNotPresent).
 */
export function imageTag (image: string): string {
  if (!image || image !== image.trim()) return ''
  const at = image.indexOf('@')
  const name = at >= 0 ? image.slice(0, at) : image
  const digest = at >= 0 ? image.slice(at + 1) : ''
  if (at >= 0 && !/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}$/.test(digest)) return ''
  const slash = name.lastIndexOf('/')
  const colon = name.lastIndexOf(':')
  const tag = colon > slash ? name.slice(colon + 1) : ''
  const repo = colon > slash ? name.slice(0, colon) : name
  // reference.ParseNormalizedNamed rejects upper case repositories and malformed tags.
  const pathPart = repo.includes('/') && /[.:]|^localhost$/.test(repo.slice(0, repo.indexOf('/'))) ? repo.slice(repo.indexOf('/') + 1) : repo
  if (!/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(pathPart)) return ''
  if (colon > slash && !/^[\w][\w.-]{0,127}$/.test(tag)) return ''
  if (tag) return tag
  return digest ? '' : 'latest'
}

function defaultProbe (p: unknown): void {
  if (!isMap(p)) return
  if (!p.timeoutSeconds) p.timeoutSeconds = 1
  if (!p.periodSeconds) p.periodSeconds = 10
  if (!p.successThreshold) p.successThreshold = 1
  if (!p.failureThreshold) p.failureThreshold = 3
  defaultHandler(p)
}

function defaultHandler (h: unknown): void {
  if (!isMap(h)) return
  const get = h.httpGet
  if (isMap(get)) {
    if (!get.path) get.path = '/'
    if (!get.scheme) get.scheme = 'HTTP'
  }
}

function defaultFieldRef (ref: unknown): void {
  if (isMap(ref) && !ref.apiVersion) ref.apiVersion = 'v1'
}

/** SetDefaults_Container (and what its nested types default). Used for every kind of container. */
function defaultContainer (c: JsonMap): void {
  if (!c.imagePullPolicy) c.imagePullPolicy = imageTag(typeof c.image === 'string' ? c.image : '') === 'latest' ? 'Always' : 'IfNotPresent'
  if (!c.terminationMessagePath) c.terminationMessagePath = '/dev/termination-log'
  if (!c.terminationMessagePolicy) c.terminationMessagePolicy = 'File'
  // ResourceRequirements is a struct value: always present on the wire.
  if (!isMap(c.resources)) c.resources = {}
  for (const port of maps(c.ports)) if (!port.protocol) port.protocol = 'TCP'
  for (const env of maps(c.env)) if (isMap(env.valueFrom)) defaultFieldRef(env.valueFrom.fieldRef)
  defaultProbe(c.livenessProbe)
  defaultProbe(c.readinessProbe)
  defaultProbe(c.startupProbe)
  if (isMap(c.lifecycle)) {
    defaultHandler(c.lifecycle.postStart)
    defaultHandler(c.lifecycle.preStop)
  }
}

function defaultVolume (v: JsonMap): void {
  const sourceKeys = Object.keys(v).filter(k => k !== 'name')
  if (sourceKeys.length === 0) v.emptyDir = {}
  if (isMap(v.hostPath) && v.hostPath.type === undefined) v.hostPath.type = ''
  for (const k of ['secret', 'configMap', 'downwardAPI', 'projected']) {
    const src = v[k]
    if (isMap(src) && src.defaultMode === undefined) src.defaultMode = 420
  }
  if (isMap(v.downwardAPI)) for (const item of maps(v.downwardAPI.items)) defaultFieldRef(item.fieldRef)
  if (isMap(v.projected)) {
    for (const s of maps(v.projected.sources)) {
      if (isMap(s.serviceAccountToken) && s.serviceAccountToken.expirationSeconds === undefined) s.serviceAccountToken.expirationSeconds = 3600
      if (isMap(s.downwardAPI)) for (const item of maps(s.downwardAPI.items)) defaultFieldRef(item.fieldRef)
    }
  }
}

function requestsFromLimits (c: JsonMap): void {
  const res = c.resources
  if (!isMap(res) || !isMap(res.limits)) return
  const requests = isMap(res.requests) ? res.requests : {}
  for (const [k, v] of Object.entries(res.limits)) if (!(k in requests)) requests[k] = v
  res.requests = requests
}

function randomSuffix (random: () => number): string {
  let s = ''
  for (let i = 0; i < 5; i++) s += RAND_ALPHABET[Math.floor(random() * RAND_ALPHABET.length) % RAND_ALPHABET.length]
  return s
}

function tokenVolumeSource (): JsonMap {
  return {
    defaultMode: 420,
    sources: [
      { serviceAccountToken: { expirationSeconds: TOKEN_EXPIRATION_SECONDS, path: 'token' } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } }
    ]
  }
}

/** ServiceAccount admission: mountServiceAccountToken (init containers first, then containers). */
function mountServiceAccountToken (spec: JsonMap, random: () => number): void {
  const volumes = maps(spec.volumes)
  const existing = volumes.find(v => typeof v.name === 'string' && v.name.startsWith(TOKEN_VOLUME_PREFIX))
  const volumeName = typeof existing?.name === 'string' ? existing.name : TOKEN_VOLUME_PREFIX + randomSuffix(random)
  let needsVolume = false
  for (const list of [spec.initContainers, spec.containers]) {
    for (const c of maps(list)) {
      const mounts = maps(c.volumeMounts)
      if (mounts.some(m => m.mountPath === SERVICE_ACCOUNT_MOUNT_PATH)) continue
      c.volumeMounts = [...mounts, { name: volumeName, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT_PATH }]
      needsVolume = true
    }
  }
  if (!existing && needsVolume) spec.volumes = [...volumes, { name: volumeName, projected: tokenVolumeSource() }]
}

/** DefaultTolerationSeconds admission plugin. */
function addDefaultTolerations (spec: JsonMap): void {
  const tolerations = maps(spec.tolerations)
  const tolerates = (key: string): boolean => tolerations.some(t =>
    (t.key === key || !t.key) && (t.effect === 'NoExecute' || !t.effect))
  const added: JsonMap[] = []
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    if (!tolerates(key)) added.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: DEFAULT_TOLERATION_SECONDS })
  }
  if (added.length > 0) spec.tolerations = [...tolerations, ...added]
}

/** Server-side defaulting of a Pod on create (SetDefaults_*), then the ServiceAccount, DefaultTolerationSeconds and Priority admission plugins. */
export function defaultPod (pod: KObject, opts: DefaultPodOptions = {}): KObject {
  const out = structuredClone(pod)
  const spec: JsonMap = isMap(out.spec) ? out.spec : {}
  out.spec = spec

  // SetDefaults_PodSpec
  if (!spec.dnsPolicy) spec.dnsPolicy = 'ClusterFirst'
  if (!spec.restartPolicy) spec.restartPolicy = 'Always'
  if (!isMap(spec.securityContext)) spec.securityContext = {}
  if (spec.terminationGracePeriodSeconds === undefined || spec.terminationGracePeriodSeconds === null) spec.terminationGracePeriodSeconds = 30
  if (!spec.schedulerName) spec.schedulerName = 'default-scheduler'

  // SetDefaults_Pod
  for (const c of [...maps(spec.containers), ...maps(spec.initContainers)]) requestsFromLimits(c)
  if (spec.enableServiceLinks === undefined || spec.enableServiceLinks === null) spec.enableServiceLinks = true
  if (spec.hostNetwork === true) {
    for (const c of [...maps(spec.containers), ...maps(spec.initContainers)]) {
      for (const p of maps(c.ports)) if (!p.hostPort) p.hostPort = p.containerPort
    }
  }
  for (const c of [...maps(spec.initContainers), ...maps(spec.containers), ...maps(spec.ephemeralContainers)]) defaultContainer(c)
  for (const v of maps(spec.volumes)) defaultVolume(v)

  const isMirror = isMap(out.metadata.annotations) && MIRROR_ANNOTATION in out.metadata.annotations
  if (!isMirror) {
    if (!spec.serviceAccountName) spec.serviceAccountName = 'default'
    if (spec.automountServiceAccountToken !== false) mountServiceAccountToken(spec, opts.random ?? Math.random)
  }
  addDefaultTolerations(spec)

  // Priority admission without a global default PriorityClass.
  if (spec.priority === undefined || spec.priority === null) {
    const cls = typeof spec.priorityClassName === 'string' ? spec.priorityClassName : ''
    spec.priority = SYSTEM_PRIORITIES[cls] ?? 0
  }
  if (!spec.preemptionPolicy) spec.preemptionPolicy = 'PreemptLowerPriority'

  // v1 conversion: DeprecatedServiceAccount mirrors ServiceAccountName.
  if (typeof spec.serviceAccountName === 'string' && spec.serviceAccountName) spec.serviceAccount = spec.serviceAccountName
  return out
}

/** Defaulting of ephemeral containers added through the subresource (same container defaults). */
export function defaultEphemeralContainers (pod: KObject): KObject {
  const out = structuredClone(pod)
  if (isMap(out.spec)) for (const c of maps(out.spec.ephemeralContainers)) defaultContainer(c)
  return out
}
