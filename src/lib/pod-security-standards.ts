// The Pod Security Standards checks of staging/src/k8s.io/pod-security-admission as a v1.32 API
// server runs them: the baseline and restricted checks of policy/check_*.go with their exact
// ForbiddenReason/ForbiddenDetail wording, the check order and overrides of policy/registry.go
// (checkRegistry.EvaluatePod, AggregateCheckResults). Pure: a pod in, the failed checks out.
// One implementation for both the simulated API server's PodSecurity admission and the gateway's
// policy, which caps what a debug session may run at a level.

/** What the checks read of a pod (wire JSON). */
export interface PodLike {
  metadata?: { name?: string, annotations?: Record<string, string> | undefined, [key: string]: unknown }
  spec?: unknown
  [key: string]: unknown
}

export type JsonMap = Record<string, unknown>

export type PodSecurityLevel = 'privileged' | 'baseline' | 'restricted'
export interface LevelVersion { level: PodSecurityLevel, version: string }
export interface PodSecurityPolicy { enforce: LevelVersion, audit: LevelVersion, warn: LevelVersion }

/** AggregateCheckResult: reasons and details of the failed checks, index for index, in check order. */
export interface PodSecurityResult {
  allowed: boolean
  reasons: string[]
  /** May hold empty strings (a check without detail). */
  details: string[]
}

interface CheckResult { allowed: boolean, reason?: string, detail?: string }
type CheckFn = (meta: JsonMap, spec: JsonMap) => CheckResult

interface Check {
  id: string
  level: 'baseline' | 'restricted'
  /** Ascending minimum minor versions (1.x); the newest one not newer than the evaluated version applies. */
  versions: Array<{ min: number, fn: CheckFn }>
  /** Baseline check ids a restricted check replaces (OverrideCheckIDs). */
  overrides?: string[]
}

export const LABEL_PREFIX = 'pod-security.kubernetes.io/'
/** The newest policy version a v1.32 server knows: `latest` means this. */
export const LATEST_MINOR = 32

const ALLOWED: CheckResult = { allowed: true }

// ---- small helpers (policy/helpers.go) ----

export function isMap (v: unknown): v is JsonMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
export function map (v: unknown): JsonMap | undefined {
  return isMap(v) ? v : undefined
}
export function list (v: unknown): JsonMap[] {
  return Array.isArray(v) ? v.filter(isMap) : []
}
export function str (v: unknown): string {
  return typeof v === 'string' ? v : ''
}
function joinQuote (items: string[]): string {
  return items.length === 0 ? '' : `"${items.join('", "')}"`
}
function pluralize (singular: string, plural: string, count: number): string {
  return count === 1 ? singular : plural
}
/** sets.NewString(...).List(): unique, sorted by bytes like Go's sort.Strings. */
function sortedSet (items: Iterable<string>): string[] {
  return [...new Set(items)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
}
/** Go's %q for the ASCII strings these messages carry. */
export function goQuote (s: string): string {
  return JSON.stringify(s)
}

/** visitContainers: init containers, containers, then ephemeral containers. */
function containers (spec: JsonMap): JsonMap[] {
  return [...list(spec.initContainers), ...list(spec.containers), ...list(spec.ephemeralContainers)]
}
function sc (c: JsonMap): JsonMap | undefined {
  return map(c.securityContext)
}
function podSC (spec: JsonMap): JsonMap | undefined {
  return map(spec.securityContext)
}
function isWindows (spec: JsonMap): boolean {
  return str(map(spec.os)?.name) === 'windows'
}
/** `container "a"` / `containers "a", "b"` */
function containerList (names: string[]): string {
  return `${pluralize('container', 'containers', names.length)} ${joinQuote(names)}`
}

// ---- baseline checks ----

const appArmorProfile: CheckFn = (meta, spec) => {
  const allowedType = (t: string): boolean => t === 'RuntimeDefault' || t === 'Localhost'
  const badSetters: string[] = []
  const badValues: string[] = []
  const podProfile = map(podSC(spec)?.appArmorProfile)
  if (podProfile && !allowedType(str(podProfile.type))) {
    badSetters.push('pod')
    badValues.push(str(podProfile.type))
  }
  const badContainers: string[] = []
  for (const c of containers(spec)) {
    const p = map(sc(c)?.appArmorProfile)
    if (p && !allowedType(str(p.type))) {
      badContainers.push(str(c.name))
      badValues.push(str(p.type))
    }
  }
  if (badContainers.length > 0) badSetters.push(containerList(badContainers))
  const prefix = 'container.apparmor.security.beta.kubernetes.io/'
  const forbiddenAnnotations: string[] = []
  for (const [k, v] of Object.entries(map(meta.annotations) ?? {})) {
    const value = str(v)
    if (k.startsWith(prefix) && !(value === '' || value === 'runtime/default' || value.startsWith('localhost/'))) {
      forbiddenAnnotations.push(`${k}=${goQuote(value)}`)
    }
  }
  const values = sortedSet(badValues)
  if (forbiddenAnnotations.length > 0) {
    values.push(...sortedSet(forbiddenAnnotations))
    badSetters.push(pluralize('annotation', 'annotations', forbiddenAnnotations.length))
  }
  if (badSetters.length === 0) return ALLOWED
  return {
    allowed: false,
    reason: pluralize('forbidden AppArmor profile', 'forbidden AppArmor profiles', values.length),
    detail: `${badSetters.join(' and ')} must not set AppArmor profile type to ${joinQuote(values)}`
  }
}

const BASELINE_CAPABILITIES = new Set(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT'])

const capabilitiesBaseline: CheckFn = (_meta, spec) => {
  const badContainers: string[] = []
  const nonDefault: string[] = []
  for (const c of containers(spec)) {
    const caps = map(sc(c)?.capabilities)
    if (!caps) continue
    let valid = true
    for (const cap of Array.isArray(caps.add) ? caps.add : []) {
      if (!BASELINE_CAPABILITIES.has(str(cap))) {
        valid = false
        nonDefault.push(str(cap))
      }
    }
    if (!valid) badContainers.push(str(c.name))
  }
  if (badContainers.length === 0) return ALLOWED
  return { allowed: false, reason: 'non-default capabilities', detail: `${containerList(badContainers)} must not include ${joinQuote(sortedSet(nonDefault))} in securityContext.capabilities.add` }
}

const hostNamespaces: CheckFn = (_meta, spec) => {
  const used: string[] = []
  if (spec.hostNetwork === true) used.push('hostNetwork=true')
  if (spec.hostPID === true) used.push('hostPID=true')
  if (spec.hostIPC === true) used.push('hostIPC=true')
  if (used.length === 0) return ALLOWED
  return { allowed: false, reason: 'host namespaces', detail: used.join(', ') }
}

const hostPathVolumes: CheckFn = (_meta, spec) => {
  const names = list(spec.volumes).filter(v => isMap(v.hostPath)).map(v => str(v.name))
  if (names.length === 0) return ALLOWED
  return { allowed: false, reason: 'hostPath volumes', detail: `${pluralize('volume', 'volumes', names.length)} ${joinQuote(names)}` }
}

const hostPorts: CheckFn = (_meta, spec) => {
  const badContainers: string[] = []
  const ports: string[] = []
  for (const c of containers(spec)) {
    let valid = true
    for (const p of list(c.ports)) {
      const hp = typeof p.hostPort === 'number' ? p.hostPort : 0
      if (hp !== 0) {
        valid = false
        ports.push(String(hp))
      }
    }
    if (!valid) badContainers.push(str(c.name))
  }
  if (badContainers.length === 0) return ALLOWED
  const unique = sortedSet(ports)
  return {
    allowed: false,
    reason: 'hostPort',
    detail: `${containerList(badContainers)} ${pluralize('uses', 'use', badContainers.length)} ${pluralize('hostPort', 'hostPorts', unique.length)} ${unique.join(', ')}`
  }
}

const privileged: CheckFn = (_meta, spec) => {
  const bad = containers(spec).filter(c => sc(c)?.privileged === true).map(c => str(c.name))
  if (bad.length === 0) return ALLOWED
  return { allowed: false, reason: 'privileged', detail: `${containerList(bad)} must not set securityContext.privileged=true` }
}

const procMount: CheckFn = (_meta, spec) => {
  const bad: string[] = []
  const types: string[] = []
  for (const c of containers(spec)) {
    const pm = sc(c)?.procMount
    if (pm === undefined || pm === null) continue
    if (pm !== 'Default') {
      bad.push(str(c.name))
      types.push(str(pm))
    }
  }
  if (bad.length === 0) return ALLOWED
  return { allowed: false, reason: 'procMount', detail: `${containerList(bad)} must not set securityContext.procMount to ${joinQuote(sortedSet(types))}` }
}

function seLinuxOptions (allowedTypes: Set<string>): CheckFn {
  return (_meta, spec) => {
    const badSetters: string[] = []
    const badTypes: string[] = []
    let setUser = false
    let setRole = false
    const valid = (opts: JsonMap): boolean => {
      let ok = true
      if (!allowedTypes.has(str(opts.type))) {
        ok = false
        badTypes.push(str(opts.type))
      }
      if (str(opts.user) !== '') { ok = false; setUser = true }
      if (str(opts.role) !== '') { ok = false; setRole = true }
      return ok
    }
    const podOpts = map(podSC(spec)?.seLinuxOptions)
    if (podOpts && !valid(podOpts)) badSetters.push('pod')
    const badContainers: string[] = []
    for (const c of containers(spec)) {
      const o = map(sc(c)?.seLinuxOptions)
      if (o && !valid(o)) badContainers.push(str(c.name))
    }
    if (badContainers.length > 0) badSetters.push(containerList(badContainers))
    if (badSetters.length === 0) return ALLOWED
    // as in Go, user/role only get a word when a bad type was also found
    const badData: string[] = []
    const types = sortedSet(badTypes)
    if (types.length > 0) {
      badData.push(`${pluralize('type', 'types', types.length)} ${joinQuote(types)}`)
      if (setUser) badData.push('user may not be set')
      if (setRole) badData.push('role may not be set')
    }
    return { allowed: false, reason: 'seLinuxOptions', detail: `${badSetters.join(' and ')} set forbidden securityContext.seLinuxOptions: ${badData.join('; ')}` }
  }
}
const SELINUX_TYPES_1_0 = ['', 'container_t', 'container_init_t', 'container_kvm_t']

const validSeccomp = (t: string): boolean => t === 'RuntimeDefault' || t === 'Localhost'

/** v1.0–v1.18: the alpha seccomp annotations. */
const seccompBaselineAnnotations: CheckFn = (meta, spec) => {
  const annotations = map(meta.annotations) ?? {}
  const valid = (v: string): boolean => v === 'runtime/default' || v === 'docker/default' || v.startsWith('localhost/')
  const bad: string[] = []
  const podKey = 'seccomp.security.alpha.kubernetes.io/pod'
  if (podKey in annotations && !valid(str(annotations[podKey]))) bad.push(`${podKey}=${goQuote(str(annotations[podKey]))}`)
  for (const c of containers(spec)) {
    const key = `container.seccomp.security.alpha.kubernetes.io/${str(c.name)}`
    if (key in annotations && !valid(str(annotations[key]))) bad.push(`${key}=${goQuote(str(annotations[key]))}`)
  }
  const forbidden = sortedSet(bad)
  if (forbidden.length === 0) return ALLOWED
  return { allowed: false, reason: 'seccompProfile', detail: `forbidden ${pluralize('annotation', 'annotations', forbidden.length)} ${forbidden.join(', ')}` }
}

/** Shared by the baseline (1.19+) and restricted seccomp checks. */
function seccompFields (spec: JsonMap, requireSet: boolean): CheckResult {
  const badSetters: string[] = []
  const badValues: string[] = []
  let podSet = false
  const podProfile = map(podSC(spec)?.seccompProfile)
  if (podProfile) {
    if (!validSeccomp(str(podProfile.type))) {
      badSetters.push('pod')
      badValues.push(str(podProfile.type))
    } else {
      podSet = true
    }
  }
  const explicit: string[] = []
  const implicit: string[] = []
  for (const c of containers(spec)) {
    const p = map(sc(c)?.seccompProfile)
    if (p) {
      if (!validSeccomp(str(p.type))) {
        explicit.push(str(c.name))
        badValues.push(str(p.type))
      }
    } else if (!podSet) {
      implicit.push(str(c.name))
    }
  }
  if (explicit.length > 0) badSetters.push(containerList(explicit))
  if (badSetters.length > 0) {
    return { allowed: false, reason: 'seccompProfile', detail: `${badSetters.join(' and ')} must not set securityContext.seccompProfile.type to ${joinQuote(sortedSet(badValues))}` }
  }
  if (requireSet && implicit.length > 0) {
    return { allowed: false, reason: 'seccompProfile', detail: `pod or ${containerList(implicit)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"` }
  }
  return ALLOWED
}

function sysctls (allowed: Set<string>): CheckFn {
  return (_meta, spec) => {
    const bad = list(podSC(spec)?.sysctls).map(s => str(s.name)).filter(n => !allowed.has(n))
    if (bad.length === 0) return ALLOWED
    return { allowed: false, reason: 'forbidden sysctls', detail: bad.join(', ') }
  }
}
const SYSCTLS_1_0 = ['kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range', 'net.ipv4.ip_unprivileged_port_start']
const SYSCTLS_1_27 = [...SYSCTLS_1_0, 'net.ipv4.ip_local_reserved_ports']
const SYSCTLS_1_29 = [...SYSCTLS_1_27, 'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes']
const SYSCTLS_1_32 = [...SYSCTLS_1_29, 'net.ipv4.tcp_rmem', 'net.ipv4.tcp_wmem']

const windowsHostProcess: CheckFn = (_meta, spec) => {
  const hostProcess = (o: JsonMap | undefined): boolean => map(o?.windowsOptions)?.hostProcess === true
  const setters: string[] = []
  if (hostProcess(podSC(spec))) setters.push('pod')
  const bad = containers(spec).filter(c => hostProcess(sc(c))).map(c => str(c.name))
  if (bad.length > 0) setters.push(containerList(bad))
  if (setters.length === 0) return ALLOWED
  return { allowed: false, reason: 'hostProcess', detail: `${setters.join(' and ')} must not set securityContext.windowsOptions.hostProcess=true` }
}

// ---- restricted checks ----

const allowPrivilegeEscalation: CheckFn = (_meta, spec) => {
  const bad = containers(spec).filter(c => sc(c)?.allowPrivilegeEscalation !== false).map(c => str(c.name))
  if (bad.length === 0) return ALLOWED
  return { allowed: false, reason: 'allowPrivilegeEscalation != false', detail: `${containerList(bad)} must set securityContext.allowPrivilegeEscalation=false` }
}

const capabilitiesRestricted: CheckFn = (_meta, spec) => {
  const missingDropAll: string[] = []
  const addingForbidden: string[] = []
  const forbiddenCaps: string[] = []
  for (const c of containers(spec)) {
    const caps = map(sc(c)?.capabilities)
    if (!caps) {
      missingDropAll.push(str(c.name))
      continue
    }
    if (!(Array.isArray(caps.drop) && caps.drop.includes('ALL'))) missingDropAll.push(str(c.name))
    let added = false
    for (const cap of Array.isArray(caps.add) ? caps.add : []) {
      if (cap !== 'NET_BIND_SERVICE') {
        added = true
        forbiddenCaps.push(str(cap))
      }
    }
    if (added) addingForbidden.push(str(c.name))
  }
  const details: string[] = []
  if (missingDropAll.length > 0) details.push(`${containerList(missingDropAll)} must set securityContext.capabilities.drop=["ALL"]`)
  if (addingForbidden.length > 0) details.push(`${containerList(addingForbidden)} must not include ${joinQuote(sortedSet(forbiddenCaps))} in securityContext.capabilities.add`)
  if (details.length === 0) return ALLOWED
  return { allowed: false, reason: 'unrestricted capabilities', detail: details.join('; ') }
}

const ALLOWED_VOLUME_SOURCES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']
const RESTRICTED_VOLUME_SOURCES = ['hostPath', 'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo', 'nfs', 'iscsi', 'glusterfs', 'rbd', 'flexVolume', 'cinder', 'cephfs', 'flocker', 'fc', 'azureFile', 'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk', 'portworxVolume', 'scaleIO', 'storageos']

const restrictedVolumes: CheckFn = (_meta, spec) => {
  const badVolumes: string[] = []
  const badTypes: string[] = []
  for (const v of list(spec.volumes)) {
    if (ALLOWED_VOLUME_SOURCES.some(k => isMap(v[k]))) continue
    badVolumes.push(str(v.name))
    badTypes.push(RESTRICTED_VOLUME_SOURCES.find(k => isMap(v[k])) ?? 'unknown')
  }
  if (badVolumes.length === 0) return ALLOWED
  const types = sortedSet(badTypes)
  return {
    allowed: false,
    reason: 'restricted volume types',
    detail: `${pluralize('volume', 'volumes', badVolumes.length)} ${joinQuote(badVolumes)} ${pluralize('uses', 'use', badVolumes.length)} ${pluralize('restricted volume type', 'restricted volume types', types.length)} ${joinQuote(types)}`
  }
}

const runAsNonRoot: CheckFn = (_meta, spec) => {
  const badSetters: string[] = []
  let podRunAsNonRoot = false
  const podValue = podSC(spec)?.runAsNonRoot
  if (typeof podValue === 'boolean') {
    if (!podValue) badSetters.push('pod')
    else podRunAsNonRoot = true
  }
  const explicit: string[] = []
  const implicit: string[] = []
  for (const c of containers(spec)) {
    const v = sc(c)?.runAsNonRoot
    if (typeof v === 'boolean') {
      if (!v) explicit.push(str(c.name))
    } else if (!podRunAsNonRoot) {
      implicit.push(str(c.name))
    }
  }
  if (explicit.length > 0) badSetters.push(containerList(explicit))
  if (badSetters.length > 0) return { allowed: false, reason: 'runAsNonRoot != true', detail: `${badSetters.join(' and ')} must not set securityContext.runAsNonRoot=false` }
  if (implicit.length > 0) return { allowed: false, reason: 'runAsNonRoot != true', detail: `pod or ${containerList(implicit)} must set securityContext.runAsNonRoot=true` }
  return ALLOWED
}

const runAsUser: CheckFn = (_meta, spec) => {
  const badSetters: string[] = []
  if (podSC(spec)?.runAsUser === 0) badSetters.push('pod')
  const bad = containers(spec).filter(c => sc(c)?.runAsUser === 0).map(c => str(c.name))
  if (bad.length > 0) badSetters.push(containerList(bad))
  if (badSetters.length === 0) return ALLOWED
  return { allowed: false, reason: 'runAsUser=0', detail: `${badSetters.join(' and ')} must not set runAsUser=0` }
}

/** From 1.25 Windows pods (spec.os.name=windows) skip some restricted checks. */
function exceptWindows (fn: CheckFn): CheckFn {
  return (meta, spec) => (isWindows(spec) ? ALLOWED : fn(meta, spec))
}

/** policy.DefaultChecks() of a v1.32 server. */
const CHECKS: Check[] = [
  { id: 'appArmorProfile', level: 'baseline', versions: [{ min: 0, fn: appArmorProfile }] },
  { id: 'capabilities_baseline', level: 'baseline', versions: [{ min: 0, fn: capabilitiesBaseline }] },
  { id: 'hostNamespaces', level: 'baseline', versions: [{ min: 0, fn: hostNamespaces }] },
  { id: 'hostPathVolumes', level: 'baseline', versions: [{ min: 0, fn: hostPathVolumes }] },
  { id: 'hostPorts', level: 'baseline', versions: [{ min: 0, fn: hostPorts }] },
  { id: 'privileged', level: 'baseline', versions: [{ min: 0, fn: privileged }] },
  { id: 'procMount', level: 'baseline', versions: [{ min: 0, fn: procMount }] },
  { id: 'seLinuxOptions', level: 'baseline', versions: [{ min: 0, fn: seLinuxOptions(new Set(SELINUX_TYPES_1_0)) }, { min: 31, fn: seLinuxOptions(new Set([...SELINUX_TYPES_1_0, 'container_engine_t'])) }] },
  { id: 'seccompProfile_baseline', level: 'baseline', versions: [{ min: 0, fn: seccompBaselineAnnotations }, { min: 19, fn: (_m, s) => seccompFields(s, false) }] },
  { id: 'sysctls', level: 'baseline', versions: [{ min: 0, fn: sysctls(new Set(SYSCTLS_1_0)) }, { min: 27, fn: sysctls(new Set(SYSCTLS_1_27)) }, { min: 29, fn: sysctls(new Set(SYSCTLS_1_29)) }, { min: 32, fn: sysctls(new Set(SYSCTLS_1_32)) }] },
  { id: 'windowsHostProcess', level: 'baseline', versions: [{ min: 0, fn: windowsHostProcess }] },
  { id: 'allowPrivilegeEscalation', level: 'restricted', versions: [{ min: 8, fn: allowPrivilegeEscalation }, { min: 25, fn: exceptWindows(allowPrivilegeEscalation) }] },
  { id: 'capabilities_restricted', level: 'restricted', overrides: ['capabilities_baseline'], versions: [{ min: 22, fn: capabilitiesRestricted }, { min: 25, fn: exceptWindows(capabilitiesRestricted) }] },
  { id: 'restrictedVolumes', level: 'restricted', overrides: ['hostPathVolumes'], versions: [{ min: 0, fn: restrictedVolumes }] },
  { id: 'runAsNonRoot', level: 'restricted', versions: [{ min: 0, fn: runAsNonRoot }] },
  { id: 'runAsUser', level: 'restricted', versions: [{ min: 23, fn: runAsUser }] },
  { id: 'seccompProfile_restricted', level: 'restricted', overrides: ['seccompProfile_baseline'], versions: [{ min: 19, fn: (_m, s) => seccompFields(s, true) }, { min: 25, fn: exceptWindows((_m, s) => seccompFields(s, true)) }] }
]

export function byteOrder (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
// registry.go: baseline ids sorted, then restricted ids sorted ("to maintain consistent error messages")
const ORDERED = [
  ...CHECKS.filter(c => c.level === 'baseline').sort((a, b) => byteOrder(a.id, b.id)),
  ...CHECKS.filter(c => c.level === 'restricted').sort((a, b) => byteOrder(a.id, b.id))
]

function checkAt (c: Check, minor: number): CheckFn | undefined {
  let fn: CheckFn | undefined
  for (const v of c.versions) if (v.min <= minor) fn = v.fn
  return fn
}

/** `latest` or `v1.N` → N, clamped to what this server knows. */
export function versionMinor (version: string): number {
  const m = /^v1\.(0|[1-9][0-9]*)$/.exec(version)
  if (!m) return LATEST_MINOR
  return Math.min(Number(m[1]), LATEST_MINOR)
}

/** A failed check: its registry id (`hostNamespaces`, `capabilities_baseline`, …) and its wording. */
export interface FailedCheck { id: string, reason: string, detail: string }

/** checkRegistry.EvaluatePod for one level and version (default `latest`): the failed checks in check order. */
export function failedPodSecurityChecks (level: PodSecurityLevel | LevelVersion, pod: PodLike): FailedCheck[] {
  const lv: LevelVersion = typeof level === 'string' ? { level, version: 'latest' } : level
  if (lv.level === 'privileged') return []
  const minor = versionMinor(lv.version)
  const spec = map(pod.spec) ?? {}
  const meta = (pod.metadata ?? {}) as JsonMap
  const active = ORDERED.filter(c => checkAt(c, minor) !== undefined && (lv.level === 'restricted' || c.level === 'baseline'))
  const overridden = new Set(lv.level === 'restricted' ? active.flatMap(c => c.overrides ?? []) : [])
  const failed: FailedCheck[] = []
  for (const c of active) {
    if (overridden.has(c.id)) continue
    const r = (checkAt(c, minor) as CheckFn)(meta, spec)
    if (r.allowed) continue
    failed.push({ id: c.id, reason: r.reason || 'unknown forbidden reason', detail: r.detail ?? '' })
  }
  return failed
}

/** checkRegistry.EvaluatePod + AggregateCheckResults for one level and version (default `latest`). */
export function evaluatePodSecurity (level: PodSecurityLevel | LevelVersion, pod: PodLike): PodSecurityResult {
  const failed = failedPodSecurityChecks(level, pod)
  return { allowed: failed.length === 0, reasons: failed.map(f => f.reason), details: failed.map(f => f.detail) }
}

/** AggregateCheckResult.ForbiddenDetail: `host namespaces (hostPID=true), privileged (container "x" must ...)`. */
export function forbiddenDetail (r: PodSecurityResult): string {
  return r.reasons.map((reason, i) => (r.details[i] ? `${reason} (${r.details[i] ?? ''})` : reason)).join(', ')
}

/** AggregateCheckResult.ForbiddenReason (the short form used for existing pods). */
export function forbiddenReason (r: PodSecurityResult): string {
  return r.reasons.join(', ')
}

export function levelVersionString (lv: LevelVersion): string {
  return `${lv.level}:${lv.version}`
}

/** The message of an enforce denial, before the `pods "x" is forbidden: ` prefix. */
export function violationMessage (lv: LevelVersion, r: PodSecurityResult): string {
  return `violates PodSecurity ${goQuote(levelVersionString(lv))}: ${forbiddenDetail(r)}`
}
