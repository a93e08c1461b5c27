// Pod validation as pkg/apis/core/validation/validation.go does it for the cases the sim meets:
// ValidatePodCreate (validatePodMetadataAndSpec + create-only rules) and
// ValidatePodEphemeralContainersUpdate, plus the ephemeralcontainers strategy's PrepareForUpdate
// (pkg/registry/core/pod/strategy.go). Messages, field paths and error order follow the Go code;
// the 422 body is NewInvalid's (status.invalid, with Go's handling of empty field paths and
// duplicate messages). Validation expects a defaulted pod (see pod-defaults.ts), like the server.
import type { KObject } from '../apimachinery/types.ts'
import { invalid, StatusError, type FieldError } from '../apimachinery/status.ts'

type JsonMap = Record<string, unknown>

function isMap (v: unknown): v is JsonMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
function maps (v: unknown): JsonMap[] {
  return Array.isArray(v) ? v.map(x => (isMap(x) ? x : {})) : []
}
function str (v: unknown): string {
  return typeof v === 'string' ? v : ''
}
function num (v: unknown): number {
  return typeof v === 'number' ? v : 0
}
/** Set in Go terms: a non-nil pointer, slice or map (JSON value present and not null). */
function present (v: unknown): boolean {
  return v !== undefined && v !== null
}

// ---- field.Error constructors ----

const required = (field: string, detail = ''): FieldError => ({ type: 'FieldValueRequired', field, detail })
const forbidden = (field: string, detail: string): FieldError => ({ type: 'FieldValueForbidden', field, detail })
const invalidValue = (field: string, badValue: unknown, detail: string): FieldError => ({ type: 'FieldValueInvalid', field, badValue, detail })
const duplicate = (field: string, badValue: unknown): FieldError => ({ type: 'FieldValueDuplicate', field, badValue })
const notFound = (field: string, badValue: unknown): FieldError => ({ type: 'FieldValueNotFound', field, badValue })
function notSupported (field: string, badValue: unknown, valid: string[]): FieldError {
  return { type: 'FieldValueNotSupported', field, badValue, detail: valid.length ? `supported values: ${valid.map(v => JSON.stringify(v)).join(', ')}` : undefined }
}

// ---- apimachinery/pkg/util/validation ----

const dns1123LabelFmt = '[a-z0-9]([-a-z0-9]*[a-z0-9])?'
const dns1123SubdomainFmt = `${dns1123LabelFmt}(\\.${dns1123LabelFmt})*`
const qualifiedNameFmt = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]'
const labelValueFmt = `(${qualifiedNameFmt})?`

function regexError (msg: string, fmt: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${fmt}')`
  return `${msg} (e.g. ${examples.map(e => `'${e}', `).join(' or ')}regex used for validation is '${fmt}')`
}
const maxLenError = (n: number): string => `must be no more than ${n} characters`
const full = (fmt: string): RegExp => new RegExp(`^${fmt}$`)

export function isDNS1123Label (value: string): string[] {
  const errs: string[] = []
  if (value.length > 63) errs.push(maxLenError(63))
  if (!full(dns1123LabelFmt).test(value)) {
    if (full(dns1123SubdomainFmt).test(value)) errs.push('must not contain dots')
    else errs.push(regexError("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character", dns1123LabelFmt, 'my-name', '123-abc'))
  }
  return errs
}

export function isDNS1123Subdomain (value: string): string[] {
  const errs: string[] = []
  if (value.length > 253) errs.push(maxLenError(253))
  if (!full(dns1123SubdomainFmt).test(value)) {
    errs.push(regexError("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character", dns1123SubdomainFmt, 'example.com'))
  }
  return errs
}

/** apimachineryvalidation.NameIsDNSSubdomain: a generateName prefix may end in '-'. */
function nameIsDNSSubdomain (name: string, prefix: boolean): string[] {
  const n = prefix && name.length > 1 && name.endsWith('-') ? `${name.slice(0, -1)}a` : name
  return isDNS1123Subdomain(n)
}

function nameIsDNSLabel (name: string, prefix: boolean): string[] {
  const n = prefix && name.length > 1 && name.endsWith('-') ? `${name.slice(0, -1)}a` : name
  return isDNS1123Label(n)
}

function isQualifiedName (value: string): string[] {
  const errs: string[] = []
  const parts = value.split('/')
  let name: string
  if (parts.length === 1) name = parts[0] ?? ''
  else if (parts.length === 2) {
    const prefix = parts[0] ?? ''
    name = parts[1] ?? ''
    if (prefix.length === 0) errs.push(`prefix part ${'must be non-empty'}`)
    else for (const msg of isDNS1123Subdomain(prefix)) errs.push(`prefix part ${msg}`)
  } else {
    return [`${regexError("a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", qualifiedNameFmt, 'MyName', 'my.name', '123-abc')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`]
  }
  if (name.length === 0) errs.push('name part must be non-empty')
  else if (name.length > 63) errs.push(`name part ${maxLenError(63)}`)
  if (!full(qualifiedNameFmt).test(name)) {
    errs.push(`name part ${regexError("must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", qualifiedNameFmt, 'MyName', 'my.name', '123-abc')}`)
  }
  return errs
}

function isValidLabelValue (value: string): string[] {
  const errs: string[] = []
  if (value.length > 63) errs.push(maxLenError(63))
  if (!full(labelValueFmt).test(value)) {
    errs.push(regexError("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", labelValueFmt, 'MyValue', 'my_value', '12345'))
  }
  return errs
}

function isValidPortNum (port: number): string[] {
  return port >= 1 && port <= 65535 ? [] : ['must be between 1 and 65535, inclusive']
}

// ---- metadata ----

function validateLabels (labels: unknown, fld: string): FieldError[] {
  const errs: FieldError[] = []
  if (!isMap(labels)) return errs
  for (const [k, v] of Object.entries(labels)) {
    for (const msg of isQualifiedName(k)) errs.push(invalidValue(fld, k, msg))
    for (const msg of isValidLabelValue(str(v))) errs.push(invalidValue(fld, str(v), msg))
  }
  return errs
}

function validateObjectMeta (meta: JsonMap): FieldError[] {
  const errs: FieldError[] = []
  const name = str(meta.name)
  const generateName = str(meta.generateName)
  if (generateName) for (const msg of nameIsDNSSubdomain(generateName, true)) errs.push(invalidValue('metadata.generateName', generateName, msg))
  if (!name) errs.push(required('metadata.name', 'name or generateName is required'))
  else for (const msg of nameIsDNSSubdomain(name, false)) errs.push(invalidValue('metadata.name', name, msg))
  const ns = str(meta.namespace)
  if (!ns) errs.push(required('metadata.namespace'))
  else for (const msg of nameIsDNSLabel(ns, false)) errs.push(invalidValue('metadata.namespace', ns, msg))
  errs.push(...validateLabels(meta.labels, 'metadata.labels'))
  if (isMap(meta.annotations)) {
    for (const k of Object.keys(meta.annotations)) {
      for (const msg of isQualifiedName(k.toLowerCase())) errs.push(invalidValue('metadata.annotations', k, msg))
    }
  }
  return errs
}

const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror'

function annotationsOf (pod: KObject): JsonMap {
  return isMap(pod.metadata.annotations) ? pod.metadata.annotations : {}
}

function validatePodSpecificAnnotations (pod: KObject, spec: JsonMap): FieldError[] {
  const ann = annotationsOf(pod)
  if (MIRROR_ANNOTATION in ann && !str(spec.nodeName)) {
    return [invalidValue(`metadata.annotations[${MIRROR_ANNOTATION}]`, str(ann[MIRROR_ANNOTATION]), 'must set spec.nodeName if mirror pod annotation is set')]
  }
  return []
}

// ---- volumes ----

const VOLUME_SOURCES = ['emptyDir', 'hostPath', 'gitRepo', 'gcePersistentDisk', 'awsElasticBlockStore', 'secret', 'nfs', 'iscsi',
  'glusterfs', 'flocker', 'persistentVolumeClaim', 'rbd', 'cinder', 'cephfs', 'quobyte', 'downwardAPI', 'fc', 'flexVolume',
  'configMap', 'azureFile', 'vsphereVolume', 'photonPersistentDisk', 'portworxVolume', 'azureDisk', 'storageos', 'projected',
  'scaleIO', 'csi', 'ephemeral', 'image']

const HOST_PATH_TYPES = ['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice']

function validateVolumeSource (v: JsonMap, idx: string): FieldError[] {
  const errs: FieldError[] = []
  let n = 0
  for (const key of VOLUME_SOURCES) {
    if (!present(v[key])) continue
    // Go names a few paths differently from the JSON key (historic typos kept for compatibility).
    const pathKey = key === 'downwardAPI' ? 'downwarAPI' : key === 'cephfs' ? 'cephFS' : key
    if (n > 0) {
      errs.push(forbidden(`${idx}.${pathKey}`, 'may not specify more than 1 volume type'))
      continue
    }
    n++
    if (key === 'hostPath') {
      const hp = isMap(v.hostPath) ? v.hostPath : {}
      const path = str(hp.path)
      if (!path) errs.push(required(`${idx}.hostPath.path`))
      else {
        if (path.split('/').includes('..')) errs.push(invalidValue(`${idx}.hostPath.path`, path, "must not contain '..'"))
        const t = hp.type
        if (present(t) && !HOST_PATH_TYPES.includes(str(t))) errs.push(notSupported(`${idx}.hostPath.type`, str(t), HOST_PATH_TYPES))
      }
    }
  }
  if (n === 0) errs.push(required(idx, 'must specify a volume type'))
  return errs
}

/** ValidateVolumes: returns the names of the volumes without errors (only those can be mounted). */
function validateVolumes (volumes: unknown): { names: Set<string>, errs: FieldError[] } {
  const errs: FieldError[] = []
  const names = new Set<string>()
  maps(volumes).forEach((v, i) => {
    const idx = `spec.volumes[${i}]`
    const name = str(v.name)
    const el = validateVolumeSource(v, idx)
    if (!name) el.push(required(`${idx}.name`))
    else for (const msg of isDNS1123Label(name)) el.push(invalidValue(`${idx}.name`, name, msg))
    if (names.has(name)) el.push(duplicate(`${idx}.name`, name))
    if (el.length === 0) names.add(name)
    else errs.push(...el)
  })
  return { names, errs }
}

// ---- containers ----

function validateContainerPorts (ports: unknown, fld: string): FieldError[] {
  const errs: FieldError[] = []
  const seen = new Set<string>()
  maps(ports).forEach((p, i) => {
    const idx = `${fld}[${i}]`
    const name = str(p.name)
    if (name) {
      if (seen.has(name)) errs.push(duplicate(`${idx}.name`, name))
      else seen.add(name)
    }
    const cp = num(p.containerPort)
    if (cp === 0) errs.push(required(`${idx}.containerPort`))
    else for (const msg of isValidPortNum(cp)) errs.push(invalidValue(`${idx}.containerPort`, cp, msg))
    const hp = num(p.hostPort)
    if (hp !== 0) for (const msg of isValidPortNum(hp)) errs.push(invalidValue(`${idx}.hostPort`, hp, msg))
    const proto = str(p.protocol)
    if (!proto) errs.push(required(`${idx}.protocol`))
    else if (!['SCTP', 'TCP', 'UDP'].includes(proto)) errs.push(notSupported(`${idx}.protocol`, proto, ['SCTP', 'TCP', 'UDP']))
  })
  return errs
}

function validateEnv (env: unknown, fld: string): FieldError[] {
  const errs: FieldError[] = []
  maps(env).forEach((e, i) => {
    const idx = `${fld}[${i}]`
    const name = str(e.name)
    if (!name) errs.push(required(`${idx}.name`))
    // RelaxedEnvironmentVariableValidation (beta, on by default since 1.32).
    else if ([...name].some(c => c < ' ' || c > '~' || c === '=')) {
      errs.push(invalidValue(`${idx}.name`, name, "a valid environment variable name must consist only of printable ASCII characters other than '='"))
    }
  })
  return errs
}

function validateVolumeMounts (mounts: unknown, volumes: Set<string>, fld: string): FieldError[] {
  const errs: FieldError[] = []
  const mountPoints = new Set<string>()
  maps(mounts).forEach((m, i) => {
    const idx = `${fld}[${i}]`
    const name = str(m.name)
    const path = str(m.mountPath)
    if (!name) errs.push(required(`${idx}.name`))
    if (!volumes.has(name)) errs.push(notFound(`${idx}.name`, name))
    if (!path) errs.push(required(`${idx}.mountPath`))
    if (mountPoints.has(path)) errs.push(invalidValue(`${idx}.mountPath`, path, 'must be unique'))
    mountPoints.add(path)
    for (const key of ['subPath', 'subPathExpr']) {
      const sp = str(m[key])
      if (!sp) continue
      // validateLocalDescendingPath (note: Go reports these on the list path, not the item)
      if (sp.startsWith('/')) errs.push(invalidValue(`${fld}.${key}`, sp, 'must be a relative path'))
      if (sp.split('/').includes('..')) errs.push(invalidValue(`${fld}.${key}`, sp, "must not contain '..'"))
    }
    if (str(m.subPath) && str(m.subPathExpr)) errs.push(invalidValue(`${idx}.subPathExpr`, str(m.subPathExpr), 'subPathExpr and subPath are mutually exclusive'))
  })
  return errs
}

/** validateContainerCommon. */
function validateContainerCommon (c: JsonMap, volumes: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = []
  const name = str(c.name)
  if (!name) errs.push(required(`${path}.name`))
  else for (const msg of isDNS1123Label(name)) errs.push(invalidValue(`${path}.name`, name, msg))
  if (!str(c.image)) errs.push(required(`${path}.image`))
  const tmp = str(c.terminationMessagePolicy)
  if (!tmp) errs.push(required(`${path}.terminationMessagePolicy`))
  else if (tmp !== 'File' && tmp !== 'FallbackToLogsOnError') errs.push(notSupported(`${path}.terminationMessagePolicy`, tmp, ['File', 'FallbackToLogsOnError']))
  errs.push(...validateContainerPorts(c.ports, `${path}.ports`))
  errs.push(...validateEnv(c.env, `${path}.env`))
  errs.push(...validateVolumeMounts(c.volumeMounts, volumes, `${path}.volumeMounts`))
  const pull = str(c.imagePullPolicy)
  if (!pull) errs.push(required(`${path}.imagePullPolicy`))
  else if (!['Always', 'IfNotPresent', 'Never'].includes(pull)) errs.push(notSupported(`${path}.imagePullPolicy`, pull, ['Always', 'IfNotPresent', 'Never']))
  return errs
}

function validateContainerOnlyForPod (c: JsonMap, path: string): FieldError[] {
  const image = str(c.image)
  return image.length !== image.trim().length ? [invalidValue(`${path}.image`, image, 'must not have leading or trailing whitespace')] : []
}

function validateContainers (containers: unknown, volumes: Set<string>): FieldError[] {
  const list = maps(containers)
  if (list.length === 0) return [required('spec.containers')]
  const errs: FieldError[] = []
  const names = new Set<string>()
  list.forEach((c, i) => {
    const path = `spec.containers[${i}]`
    errs.push(...validateContainerCommon(c, volumes, path))
    const name = str(c.name)
    if (names.has(name)) errs.push(duplicate(`${path}.name`, name))
    else names.add(name)
    if (present(c.restartPolicy)) errs.push(forbidden(`${path}.restartPolicy`, 'may not be set for non-init containers'))
  })
  return errs
}

function validateInitContainers (inits: unknown, containers: unknown, volumes: Set<string>): FieldError[] {
  const errs: FieldError[] = []
  const names = new Set(maps(containers).map(c => str(c.name)))
  maps(inits).forEach((c, i) => {
    const path = `spec.initContainers[${i}]`
    errs.push(...validateContainerCommon(c, volumes, path))
    const restartAlways = c.restartPolicy === 'Always'
    if (present(c.restartPolicy) && !restartAlways) errs.push(notSupported(`${path}.restartPolicy`, str(c.restartPolicy), ['Always']))
    const name = str(c.name)
    if (names.has(name)) errs.push(duplicate(`${path}.name`, name))
    else if (name) names.add(name)
    if (!restartAlways) {
      for (const f of ['lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe']) {
        if (present(c[f])) errs.push(forbidden(`${path}.${f}`, 'may not be set for init containers without restartPolicy=Always'))
      }
    }
  })
  return errs
}

/**
 * Fields of core.EphemeralContainerCommon in declaration order, with allowedEphemeralContainerFields
 * and how Go decides "non-zero": slices, maps and pointers are set when present (even empty),
 * the Resources struct when any of its members is, scalars when not their zero value.
 */
const EPHEMERAL_FIELDS: Array<{ json: string, allowed: boolean, kind: 'scalar' | 'ref' | 'resources' }> = [
  { json: 'name', allowed: true, kind: 'scalar' },
  { json: 'image', allowed: true, kind: 'scalar' },
  { json: 'command', allowed: true, kind: 'ref' },
  { json: 'args', allowed: true, kind: 'ref' },
  { json: 'workingDir', allowed: true, kind: 'scalar' },
  { json: 'ports', allowed: false, kind: 'ref' },
  { json: 'envFrom', allowed: true, kind: 'ref' },
  { json: 'env', allowed: true, kind: 'ref' },
  { json: 'resources', allowed: false, kind: 'resources' },
  { json: 'resizePolicy', allowed: false, kind: 'ref' },
  { json: 'restartPolicy', allowed: false, kind: 'ref' },
  { json: 'volumeMounts', allowed: true, kind: 'ref' },
  { json: 'volumeDevices', allowed: true, kind: 'ref' },
  { json: 'livenessProbe', allowed: false, kind: 'ref' },
  { json: 'readinessProbe', allowed: false, kind: 'ref' },
  { json: 'startupProbe', allowed: false, kind: 'ref' },
  { json: 'lifecycle', allowed: false, kind: 'ref' },
  { json: 'terminationMessagePath', allowed: true, kind: 'scalar' },
  { json: 'terminationMessagePolicy', allowed: true, kind: 'scalar' },
  { json: 'imagePullPolicy', allowed: true, kind: 'scalar' },
  { json: 'securityContext', allowed: true, kind: 'ref' },
  { json: 'stdin', allowed: true, kind: 'scalar' },
  { json: 'stdinOnce', allowed: true, kind: 'scalar' },
  { json: 'tty', allowed: true, kind: 'scalar' }
]

function isSetInGo (v: unknown, kind: 'scalar' | 'ref' | 'resources'): boolean {
  if (!present(v)) return false
  if (kind === 'ref') return true
  if (kind === 'resources') return isMap(v) && ['limits', 'requests', 'claims'].some(k => present(v[k]))
  return v !== '' && v !== 0 && v !== false
}

function validateEphemeralContainers (spec: JsonMap, volumes: Set<string>): FieldError[] {
  const ecs = maps(spec.ephemeralContainers)
  if (ecs.length === 0) return []
  const errs: FieldError[] = []
  const other = new Set<string>()
  for (const c of [...maps(spec.containers), ...maps(spec.initContainers)]) other.add(str(c.name))
  const all = new Set(other)
  ecs.forEach((ec, i) => {
    const path = `spec.ephemeralContainers[${i}]`
    errs.push(...validateContainerCommon(ec, volumes, path))
    errs.push(...validateContainerOnlyForPod(ec, path))
    const name = str(ec.name)
    if (all.has(name)) errs.push(duplicate(`${path}.name`, name))
    else all.add(name)
    const target = str(ec.targetContainerName)
    if (target && !other.has(target)) errs.push(notFound(`${path}.targetContainerName`, target))
    for (const f of EPHEMERAL_FIELDS) {
      if (!f.allowed && isSetInGo(ec[f.json], f.kind)) errs.push(forbidden(`${path}.${f.json}`, 'cannot be set for an Ephemeral Container'))
    }
    maps(ec.volumeMounts).forEach((vm, j) => {
      if (str(vm.subPath)) errs.push(forbidden(`${path}.volumeMounts[${j}].subPath`, 'cannot be set for an Ephemeral Container'))
      if (str(vm.subPathExpr)) errs.push(forbidden(`${path}.volumeMounts[${j}].subPathExpr`, 'cannot be set for an Ephemeral Container'))
    })
  })
  return errs
}

function validateTolerations (tolerations: unknown): FieldError[] {
  const errs: FieldError[] = []
  maps(tolerations).forEach((t, i) => {
    const idx = `spec.tolerations[${i}]`
    const key = str(t.key)
    const op = str(t.operator)
    const effect = str(t.effect)
    if (key) for (const msg of isQualifiedName(key)) errs.push(invalidValue(`${idx}.key`, key, msg))
    if (!key && op !== 'Exists') errs.push(invalidValue(`${idx}.operator`, op, 'operator must be Exists when `key` is empty, which means "match all values and all keys"'))
    if (present(t.tolerationSeconds) && effect !== 'NoExecute') errs.push(invalidValue(`${idx}.effect`, effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"))
    if (op === 'Equal' || op === '') {
      const value = str(t.value)
      const msgs = isValidLabelValue(value)
      if (msgs.length) errs.push(invalidValue(`${idx}.operator`, value, msgs.join(';')))
    } else if (op === 'Exists') {
      if (str(t.value)) errs.push(invalidValue(`${idx}.operator`, str(t.value), "value must be empty when `operator` is 'Exists'"))
    } else errs.push(notSupported(`${idx}.operator`, op, ['Equal', 'Exists']))
    if (effect && !['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(effect)) {
      errs.push(notSupported(`${idx}.effect`, effect, ['NoSchedule', 'PreferNoSchedule', 'NoExecute']))
    }
  })
  return errs
}

/** ValidatePodSpec (the parts the sim enforces), in Go's order. */
function validatePodSpec (spec: JsonMap): FieldError[] {
  const errs: FieldError[] = []
  if (!present(spec.terminationGracePeriodSeconds)) errs.push(required('spec.terminationGracePeriodSeconds'))
  const { names: volumes, errs: volErrs } = validateVolumes(spec.volumes)
  errs.push(...volErrs)
  errs.push(...validateContainers(spec.containers, volumes))
  errs.push(...validateInitContainers(spec.initContainers, spec.containers, volumes))
  errs.push(...validateEphemeralContainers(spec, volumes))
  if (spec.hostNetwork === true) {
    maps(spec.containers).forEach((c, i) => maps(c.ports).forEach((p, j) => {
      if (num(p.hostPort) !== num(p.containerPort)) errs.push(invalidValue(`spec.containers[${i}].ports[${j}].hostPort`, num(p.hostPort), 'must match `containerPort` when `hostNetwork` is true'))
    }))
  }
  const restart = str(spec.restartPolicy)
  if (!restart) errs.push(required('spec.restartPolicy'))
  else if (!['Always', 'OnFailure', 'Never'].includes(restart)) errs.push(notSupported('spec.restartPolicy', restart, ['Always', 'OnFailure', 'Never']))
  const dns = str(spec.dnsPolicy)
  if (!dns) errs.push(required('spec.dnsPolicy'))
  else if (!['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'].includes(dns)) errs.push(notSupported('spec.dnsPolicy', dns, ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None']))
  errs.push(...validateLabels(spec.nodeSelector, 'spec.nodeSelector'))
  if (dns === 'None' && !present(spec.dnsConfig)) errs.push(required('spec.dnsConfig', 'must provide `dnsConfig` when `dnsPolicy` is None'))
  const sa = str(spec.serviceAccountName)
  if (sa) for (const msg of nameIsDNSSubdomain(sa, false)) errs.push(invalidValue('spec.serviceAccountName', sa, msg))
  const node = str(spec.nodeName)
  if (node) for (const msg of nameIsDNSSubdomain(node, false)) errs.push(invalidValue('spec.nodeName', node, msg))
  const host = str(spec.hostname)
  if (host) for (const msg of isDNS1123Label(host)) errs.push(invalidValue('spec.hostname', host, msg))
  if (maps(spec.tolerations).length > 0) errs.push(...validateTolerations(spec.tolerations))
  const preemption = spec.preemptionPolicy
  if (present(preemption) && !['PreemptLowerPriority', 'Never'].includes(str(preemption))) {
    errs.push(str(preemption) ? notSupported('spec.preemptionPolicy', str(preemption), ['PreemptLowerPriority', 'Never']) : required('spec.preemptionPolicy'))
  }
  return errs
}

/** validatePodMetadataAndSpec. */
function validatePodMetadataAndSpec (pod: KObject): FieldError[] {
  const spec: JsonMap = isMap(pod.spec) ? pod.spec : {}
  const errs = validateObjectMeta(pod.metadata)
  errs.push(...validatePodSpecificAnnotations(pod, spec))
  errs.push(...validatePodSpec(spec))
  if (!str(spec.serviceAccountName)) {
    maps(spec.volumes).forEach((v, vi) => {
      if (!isMap(v.projected)) return
      maps(v.projected.sources).forEach((s, si) => {
        if (present(s.serviceAccountToken)) errs.push(forbidden(`spec.volumes[${vi}].projected.sources[${si}].serviceAccountToken`, 'must not be specified when serviceAccountName is not set'))
      })
    })
  }
  maps(spec.containers).forEach((c, i) => errs.push(...validateContainerOnlyForPod(c, `spec.containers[${i}]`)))
  maps(spec.initContainers).forEach((c, i) => errs.push(...validateContainerOnlyForPod(c, `spec.initContainers[${i}]`)))
  return errs
}

// ---- the 422 ----

/**
 * NewInvalid for a Pod: status.invalid, adjusted where Go differs from its simple rendering:
 * an empty field path still prints ": " before the body and is omitted from the cause, and
 * ToAggregate drops repeated messages from the top-level message (causes keep them).
 */
export function invalidPod (name: string, errors: FieldError[]): StatusError {
  const base = invalid('Pod', name, errors)
  const status = structuredClone(base.status)
  const rendered: string[] = []
  for (const e of errors) {
    const body = status.details?.causes?.[rendered.length]?.message ?? ''
    rendered.push(`${e.field}: ${body}`)
  }
  const unique = [...new Set(rendered)]
  status.message = `Pod "${name}" is invalid: ${unique.length === 1 ? unique[0] ?? '' : `[${unique.join(', ')}]`}`
  for (const cause of status.details?.causes ?? []) if (!cause.field) delete cause.field
  if (status.details && status.details.group === undefined) delete status.details.group
  return new StatusError(status)
}

function throwIfAny (name: string, errors: FieldError[]): void {
  if (errors.length > 0) throw invalidPod(name, errors)
}

/** ValidatePodCreate; throws the 422 StatusError. Expects a defaulted pod with its generated name. */
export function validatePodCreate (pod: KObject): void {
  const spec: JsonMap = isMap(pod.spec) ? pod.spec : {}
  const errs = validatePodMetadataAndSpec(pod)
  if (maps(spec.ephemeralContainers).length > 0) errs.push(forbidden('spec.ephemeralContainers', 'cannot be set on create'))
  if (str(spec.nodeName) && maps(spec.schedulingGates).length > 0) errs.push(forbidden('spec.nodeName', 'cannot be set until all schedulingGates have been cleared'))
  throwIfAny(str(pod.metadata.name), errs)
}

/**
 * podEphemeralContainersStrategy.PrepareForUpdate (dropNonEphemeralContainerUpdates): `old` with
 * only name, namespace, resourceVersion, uid and spec.ephemeralContainers taken from `incoming`.
 */
export function prepareEphemeralContainersUpdate (old: KObject, incoming: KObject): KObject {
  const out = structuredClone(old)
  for (const k of ['name', 'namespace', 'resourceVersion', 'uid'] as const) {
    if (incoming.metadata[k] === undefined) delete out.metadata[k]
    else out.metadata[k] = structuredClone(incoming.metadata[k])
  }
  const spec: JsonMap = isMap(out.spec) ? out.spec : {}
  const inc = isMap(incoming.spec) ? incoming.spec : {}
  if (present(inc.ephemeralContainers)) spec.ephemeralContainers = structuredClone(inc.ephemeralContainers)
  else delete spec.ephemeralContainers
  out.spec = spec
  return out
}

/** apiequality.Semantic.DeepEqual approximated on JSON: nil and empty slices/maps are equal, zero scalars equal absent. */
function normalizeForCompare (v: unknown, path = ''): unknown {
  if (Array.isArray(v)) return v.length === 0 ? undefined : v.map(x => normalizeForCompare(x, path))
  if (isMap(v)) {
    const out: JsonMap = {}
    for (const k of Object.keys(v).sort()) {
      const n = normalizeForCompare(v[k], path ? `${path}.${k}` : k)
      if (n !== undefined) out[k] = n
    }
    // Only map-typed fields vanish when empty; an empty struct behind a pointer still counts.
    if (Object.keys(out).length === 0 && /(^|\.)(limits|requests|resources)$/.test(path)) return undefined
    return out
  }
  if (v === null || v === undefined) return undefined
  // Zero scalars equal absent ones, except pointer fields inside securityContext.
  if ((v === false || v === 0 || v === '') && !path.startsWith('securityContext')) return undefined
  return v
}

const goFieldNames: Record<string, string> = {
  tty: 'TTY', stdinOnce: 'StdinOnce', targetContainerName: 'TargetContainerName'
}
function goName (k: string): string {
  return goFieldNames[k] ?? k.charAt(0).toUpperCase() + k.slice(1)
}

/** A short go-cmp style diff of the changed top-level fields (go-cmp's own output is deliberately unstable). */
function containerDiff (oldC: JsonMap, newC: JsonMap): string {
  const keys = [...new Set([...Object.keys(oldC), ...Object.keys(newC)])]
  const lines = ['  core.EphemeralContainer{']
  const common: string[] = []
  const outer: string[] = []
  for (const k of keys) {
    const a = normalizeForCompare(oldC[k], k)
    const b = normalizeForCompare(newC[k], k)
    if (JSON.stringify(a) === JSON.stringify(b)) continue
    const target = k === 'targetContainerName' ? outer : common
    const indent = k === 'targetContainerName' ? '\t' : '\t\t'
    if (a !== undefined) target.push(`- ${indent}${goName(k)}: ${JSON.stringify(a)},`)
    if (b !== undefined) target.push(`+ ${indent}${goName(k)}: ${JSON.stringify(b)},`)
  }
  if (common.length) lines.push('  \tEphemeralContainerCommon: core.EphemeralContainerCommon{', ...common, '  \t},')
  lines.push(...outer, '  }', '')
  return lines.join('\n')
}

/** ValidatePodEphemeralContainersUpdate + whole-pod checks of the new containers (allow-list, names, target, no removal/change, static pods). */
export function validateEphemeralContainersUpdate (newPod: KObject, oldPod: KObject): void {
  const name = str(newPod.metadata.name)
  const errs: FieldError[] = []
  // ValidateObjectMetaUpdate (immutable identity fields)
  for (const k of ['name', 'namespace', 'uid'] as const) {
    const nv = str(newPod.metadata[k])
    if (nv !== str(oldPod.metadata[k])) errs.push(invalidValue(`metadata.${k}`, nv, 'field is immutable'))
  }
  errs.push(...validatePodMetadataAndSpec(newPod))
  // ValidatePodSpecificAnnotationUpdates
  const oldAnn = annotationsOf(oldPod)
  const newAnn = annotationsOf(newPod)
  if (MIRROR_ANNOTATION in oldAnn && newAnn[MIRROR_ANNOTATION] !== oldAnn[MIRROR_ANNOTATION]) errs.push(forbidden(`metadata.annotations[${MIRROR_ANNOTATION}]`, 'may not remove or update mirror pod annotation'))
  if (MIRROR_ANNOTATION in newAnn && !(MIRROR_ANNOTATION in oldAnn)) errs.push(forbidden(`metadata.annotations[${MIRROR_ANNOTATION}]`, 'may not add mirror pod annotation'))
  errs.push(...validatePodSpecificAnnotations(newPod, isMap(newPod.spec) ? newPod.spec : {}))

  if (MIRROR_ANNOTATION in oldAnn) throw invalidPod(name, [forbidden('', 'static pods do not support ephemeral containers')])

  const newByName = new Map<string, JsonMap>()
  for (const c of maps(isMap(newPod.spec) ? newPod.spec.ephemeralContainers : undefined)) newByName.set(str(c.name), c)
  for (const old of maps(isMap(oldPod.spec) ? oldPod.spec.ephemeralContainers : undefined)) {
    const oldName = str(old.name)
    const cur = newByName.get(oldName)
    if (!cur) errs.push(forbidden('spec.ephemeralContainers', `existing ephemeral containers ${JSON.stringify(oldName)} may not be removed\n`))
    else if (JSON.stringify(normalizeForCompare(old)) !== JSON.stringify(normalizeForCompare(cur))) {
      errs.push(forbidden('spec.ephemeralContainers', `existing ephemeral containers ${JSON.stringify(oldName)} may not be changed\n${containerDiff(old, cur)}`))
    }
  }
  throwIfAny(name, errs)
}
