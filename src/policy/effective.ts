// Effective privilege: what a container can do once it runs in its pod, judged
// against a policy rule. Pure. Used for every action, so creating a debug
// container, copying a pod and attaching to (or reading the logs of) an
// existing container are one judgement:
//
// 1. Host access — the pod's hostPID/hostNetwork/hostIPC, hostPath volumes,
//    hostPorts of any container, and privileged containers other than the
//    judged ones — needs `nodeDebug`: a SYS_PTRACE container joining a hostPID
//    pod, or sharing a pod with a privileged sibling, is node access whatever
//    the request asked for.
// 2. The judged containers, with the pod-level fields that apply to them
//    (pod securityContext, sysctls, volumes, annotations), are capped at the
//    rule's Pod Security Standards level with the very checks PodSecurity
//    admission runs (src/lib/pod-security-standards.ts). The rule's
//    `capabilities` are an explicit exception on top of the level;
//    `privileged` is the rule's own switch at every level (even `privileged`);
//    host access is gate 1's business, so it is not reported twice.
// 3. The debug container's env from Secrets/ConfigMaps (`env[].valueFrom`,
//    `envFrom`) and mounts of secret-bearing volumes need `secretEnv`.
import { failedPodSecurityChecks, isMap, list, map, str, type JsonMap, type PodSecurityLevel } from '../lib/pod-security-standards.ts'

export interface EffectiveRule {
  name: string
  podSecurity: PodSecurityLevel
  capabilities: ReadonlySet<string>
  privileged: boolean
  nodeDebug: boolean
  secretEnv: boolean
}

export interface EffectiveTarget {
  /** The resulting pod as wire JSON: the target with the debug container added, the copy, or the pod as read. */
  pod: unknown
  /** Containers judged at the level (any of containers, initContainers, ephemeralContainers). */
  containers: readonly string[]
  /** The container whose env and mounts are the requester's choice (creates only), as built. */
  debugContainer?: unknown
}

export interface EffectiveViolation {
  field: string
  detail: string
}

/** The PSS check ids as the container/pod field they are about (named in denials). */
const CHECK_FIELD: Record<string, string> = {
  appArmorProfile: 'securityContext.appArmorProfile',
  capabilities_baseline: 'securityContext.capabilities',
  capabilities_restricted: 'securityContext.capabilities',
  hostNamespaces: 'hostNamespaces',
  hostPathVolumes: 'volumes.hostPath',
  hostPorts: 'ports.hostPort',
  privileged: 'securityContext.privileged',
  procMount: 'securityContext.procMount',
  seLinuxOptions: 'securityContext.seLinuxOptions',
  seccompProfile_baseline: 'securityContext.seccompProfile',
  seccompProfile_restricted: 'securityContext.seccompProfile',
  sysctls: 'securityContext.sysctls',
  windowsHostProcess: 'securityContext.windowsOptions.hostProcess',
  allowPrivilegeEscalation: 'securityContext.allowPrivilegeEscalation',
  restrictedVolumes: 'volumes',
  runAsNonRoot: 'securityContext.runAsNonRoot',
  runAsUser: 'securityContext.runAsUser'
}

/** Volume sources that carry credentials: Secrets, ConfigMaps, projected service account tokens. */
const SECRET_VOLUME_SOURCES = ['secret', 'configMap', 'projected', 'csi']

export function normalizeCap (cap: string): string {
  return cap.trim().toUpperCase().replace(/^CAP_/, '')
}

function allContainers (spec: JsonMap): JsonMap[] {
  return [...list(spec.initContainers), ...list(spec.containers), ...list(spec.ephemeralContainers)]
}

function quoted (names: string[]): string {
  return names.map(n => `"${n}"`).join(', ')
}

/** Gate 1: host access anywhere in the pod. */
function hostAccess (spec: JsonMap, judged: ReadonlySet<string>, by: string): EffectiveViolation[] {
  const v: EffectiveViolation[] = []
  const ns = (['hostPID', 'hostNetwork', 'hostIPC'] as const).filter(k => spec[k] === true)
  if (ns.length > 0) v.push({ field: 'hostNamespaces', detail: `the pod uses host namespaces (${ns.map(k => `${k}=true`).join(', ')}): not allowed ${by} (needs nodeDebug)` })
  const paths = list(spec.volumes).filter(vol => isMap(vol.hostPath)).map(vol => str(vol.name))
  if (paths.length > 0) v.push({ field: 'volumes.hostPath', detail: `the pod mounts hostPath volumes ${quoted(paths)}: not allowed ${by} (needs nodeDebug)` })
  const ports: string[] = []
  for (const c of allContainers(spec)) {
    for (const p of list(c.ports)) if (typeof p.hostPort === 'number' && p.hostPort !== 0) ports.push(`${str(c.name)}:${p.hostPort}`)
  }
  if (ports.length > 0) v.push({ field: 'ports.hostPort', detail: `the pod binds hostPorts (${ports.join(', ')}): not allowed ${by} (needs nodeDebug)` })
  const siblings = allContainers(spec).filter(c => !judged.has(str(c.name)) && map(c.securityContext)?.privileged === true).map(c => str(c.name))
  if (siblings.length > 0) v.push({ field: 'privilegedContainers', detail: `the pod runs privileged containers ${quoted(siblings)}: not allowed ${by} (needs nodeDebug)` })
  return v
}

/** The pod PSS sees: the judged containers only, host access and the rule's exceptions taken out. */
function judgedPod (pod: JsonMap, spec: JsonMap, judged: ReadonlySet<string>, rule: EffectiveRule): JsonMap {
  const strip = (c: JsonMap): JsonMap => {
    const out: JsonMap = { ...c }
    delete out.ports // hostPorts: gate 1
    const sc = map(c.securityContext)
    if (sc !== undefined) {
      const next: JsonMap = { ...sc }
      delete next.privileged // checked against the rule's `privileged` at every level, below
      const caps = map(sc.capabilities)
      if (caps !== undefined && Array.isArray(caps.add)) {
        const any = rule.capabilities.has('ALL')
        next.capabilities = { ...caps, add: caps.add.filter(cap => !(typeof cap === 'string' && (any || rule.capabilities.has(normalizeCap(cap))))) }
      }
      out.securityContext = next
    }
    return out
  }
  const keep = (k: string): JsonMap[] => list(spec[k]).filter(c => judged.has(str(c.name))).map(strip)
  const next: JsonMap = { ...spec, initContainers: keep('initContainers'), containers: keep('containers'), ephemeralContainers: keep('ephemeralContainers') }
  delete next.hostPID
  delete next.hostNetwork
  delete next.hostIPC
  next.volumes = list(spec.volumes).filter(vol => !isMap(vol.hostPath))
  return { metadata: map(pod.metadata) ?? {}, spec: next }
}

/** Gate 3: credentials the requester wires into the debug container. */
function secretUse (spec: JsonMap, container: unknown, by: string): EffectiveViolation[] {
  const c = map(container)
  if (c === undefined) return []
  const v: EffectiveViolation[] = []
  const fromRefs = list(c.env).filter(e => {
    const from = map(e.valueFrom)
    return from !== undefined && (isMap(from.secretKeyRef) || isMap(from.configMapKeyRef))
  }).map(e => str(e.name))
  if (fromRefs.length > 0) v.push({ field: 'env.valueFrom', detail: `env ${quoted(fromRefs)} read Secrets or ConfigMaps (valueFrom): not allowed ${by} (needs secretEnv)` })
  if (list(c.envFrom).length > 0) v.push({ field: 'envFrom', detail: `envFrom reads Secrets or ConfigMaps: not allowed ${by} (needs secretEnv)` })
  const secretVolumes = new Set(list(spec.volumes).filter(vol => SECRET_VOLUME_SOURCES.some(k => isMap(vol[k]))).map(vol => str(vol.name)))
  const mounts = list(c.volumeMounts).map(m => str(m.name)).filter(n => secretVolumes.has(n))
  if (mounts.length > 0) v.push({ field: 'volumeMounts', detail: `volume mounts ${quoted(mounts)} expose Secrets, ConfigMaps or tokens: not allowed ${by} (needs secretEnv)` })
  return v
}

/** Every reason the target exceeds the rule; empty = within it. */
export function effectiveViolations (rule: EffectiveRule, target: EffectiveTarget): EffectiveViolation[] {
  const pod = map(target.pod) ?? {}
  const spec = map(pod.spec) ?? {}
  const by = `by rule "${rule.name}"`
  const judged = new Set(target.containers)
  const v: EffectiveViolation[] = []
  if (!rule.nodeDebug) v.push(...hostAccess(spec, judged, by))
  const privileged = allContainers(spec).filter(c => judged.has(str(c.name)) && map(c.securityContext)?.privileged === true).map(c => str(c.name))
  if (privileged.length > 0 && !rule.privileged) v.push({ field: 'securityContext.privileged', detail: `privileged containers ${quoted(privileged)} are not allowed ${by}` })
  for (const f of failedPodSecurityChecks(rule.podSecurity, judgedPod(pod, spec, judged, rule))) {
    v.push({ field: CHECK_FIELD[f.id] ?? f.id, detail: `${f.reason}${f.detail ? ` (${f.detail})` : ''}: exceeds podSecurity "${rule.podSecurity}" ${by}` })
  }
  if (target.debugContainer !== undefined && !rule.secretEnv) v.push(...secretUse(spec, target.debugContainer, by))
  return v
}
