// Kubernetes protobuf request bodies → the JSON the same client would have sent.
// Wire format (apimachinery/pkg/runtime/serializer/protobuf): 4 magic bytes
// `k8s\0`, then a runtime.Unknown whose `raw` holds the object. The schema is a
// subset of Kubernetes' generated.proto files (proto/, see README.md
// there for the ptr/req/inline field options that encode Go's JSON tags).
import { fileURLToPath } from 'node:url'
import protobuf from 'protobufjs'
import type { KObject } from './types.ts'
import { badRequest, StatusError } from './status.ts'

export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf'

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00])
const PROTO_FILES = ['runtime', 'meta', 'resource', 'intstr', 'core', 'authorization', 'authentication']

const META = 'k8s.io.apimachinery.pkg.apis.meta.v1'
/** apiVersion/kind (from the Unknown's typeMeta) → message; `* /DeleteOptions` is accepted for any group version. */
const KINDS: Record<string, string> = {
  'v1/Pod': 'k8s.io.api.core.v1.Pod',
  'v1/Event': 'k8s.io.api.core.v1.Event',
  'authorization.k8s.io/v1/SelfSubjectAccessReview': 'k8s.io.api.authorization.v1.SelfSubjectAccessReview',
  'authorization.k8s.io/v1/SubjectAccessReview': 'k8s.io.api.authorization.v1.SubjectAccessReview',
  'authorization.k8s.io/v1/LocalSubjectAccessReview': 'k8s.io.api.authorization.v1.LocalSubjectAccessReview',
  'authorization.k8s.io/v1/SelfSubjectRulesReview': 'k8s.io.api.authorization.v1.SelfSubjectRulesReview',
  'authentication.k8s.io/v1/TokenReview': 'k8s.io.api.authentication.v1.TokenReview'
}

function loadRoot (): protobuf.Root {
  const root = new protobuf.Root()
  const files = PROTO_FILES.map(f => fileURLToPath(new URL(`./proto/${f}.proto`, import.meta.url)))
  root.loadSync(files, { keepCase: true })
  root.resolveAll()
  return root
}

// Parsed once; read-only afterwards.
const ROOT = loadRoot()
const UNKNOWN = ROOT.lookupType('k8s.io.apimachinery.pkg.runtime.Unknown')

/** The message type the sim decodes for apiVersion/kind, or undefined. */
export function protobufTypeFor (apiVersion: string, kind: string): protobuf.Type | undefined {
  if (kind === 'DeleteOptions') return ROOT.lookupType(`${META}.DeleteOptions`)
  const name = KINDS[`${apiVersion}/${kind}`]
  return name ? ROOT.lookupType(name) : undefined
}

/**
 * Encodes a JSON object the way client-go's protobuf serializer does (for tests and
 * fixtures): message fields from `obj` by the same schema, wrapped in runtime.Unknown.
 */
export function encodeProtobuf (obj: KObject): Buffer {
  const apiVersion = obj.apiVersion ?? ''
  const kind = obj.kind ?? ''
  const type = protobufTypeFor(apiVersion, kind)
  if (!type) throw new Error(`no protobuf schema for ${apiVersion}/${kind}`)
  const raw = type.encode(type.fromObject(fromJson(type, obj))).finish()
  const envelope = UNKNOWN.encode(UNKNOWN.fromObject({ typeMeta: { apiVersion, kind }, raw, contentEncoding: '', contentType: '' })).finish()
  return Buffer.concat([MAGIC, envelope])
}

/** Decodes `k8s\0` + runtime.Unknown into the same JSON the client would have sent as application/json
 *  (apiVersion/kind set from the Unknown's typeMeta). Throws StatusError 400/415 for bad or unknown input. */
export function decodeProtobuf (body: Buffer): KObject {
  if (body.length < MAGIC.length || !body.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw badRequest(`provided data does not appear to be a protobuf message, expected prefix [${[...MAGIC].join(' ')}]`)
  }
  let envelope: Record<string, unknown>
  try {
    envelope = UNKNOWN.toObject(UNKNOWN.decode(body.subarray(MAGIC.length)), { defaults: false })
  } catch (err) {
    throw badRequest(`unable to decode protobuf envelope: ${(err as Error).message}`)
  }
  const typeMeta = (envelope.typeMeta ?? {}) as { apiVersion?: string, kind?: string }
  const apiVersion = typeMeta.apiVersion ?? ''
  const kind = typeMeta.kind ?? ''
  if (envelope.contentEncoding) throw badRequest(`unsupported protobuf content encoding ${JSON.stringify(envelope.contentEncoding)}`)
  const type = protobufTypeFor(apiVersion, kind)
  if (!type) {
    throw new StatusError({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `the simulated API server cannot decode ${kind || 'an object'} (${apiVersion || 'no apiVersion'}) from protobuf; send application/json`,
      reason: 'UnsupportedMediaType',
      details: { kind: PROTOBUF_CONTENT_TYPE },
      code: 415
    })
  }
  const raw = envelope.raw instanceof Uint8Array ? envelope.raw : new Uint8Array()
  let message: protobuf.Message
  try {
    message = type.decode(raw)
  } catch (err) {
    throw badRequest(`${kind} in version ${JSON.stringify(apiVersion.split('/').pop() ?? '')} cannot be handled as a ${kind}: ${(err as Error).message}`)
  }
  const plain = type.toObject(message, { defaults: false, longs: Number, bytes: String, arrays: false, objects: false })
  const json = toJson(type, plain)
  return { apiVersion, kind, ...json, metadata: (json.metadata ?? {}) as KObject['metadata'] }
}

// ---- proto → JSON ----

type Plain = Record<string, unknown>

function opt (field: protobuf.Field, name: 'ptr' | 'req' | 'inline'): boolean {
  return field.options?.[`(${name})`] === true
}

function isZero (v: unknown): boolean {
  return v === '' || v === 0 || v === false || v === undefined || v === null
}

function zeroOf (field: protobuf.Field): unknown {
  switch (field.type) {
    case 'string': return ''
    case 'bool': return false
    case 'bytes': return ''
    default: return 0
  }
}

/** metav1.Time: seconds precision RFC 3339; the zero time (empty message) is null. */
function rfc3339 (v: Plain, micro: boolean): string | null {
  const seconds = Number(v.seconds ?? 0)
  const nanos = Number(v.nanos ?? 0)
  if (seconds === 0 && nanos === 0) return null
  const iso = new Date(seconds * 1000).toISOString().slice(0, 19)
  if (!micro) return `${iso}Z`
  return `${iso}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z`
}

function wellKnown (typeName: string, v: Plain): { value: unknown } | undefined {
  switch (typeName) {
    case `${META}.Time`: return { value: rfc3339(v, false) }
    case `${META}.MicroTime`: return { value: rfc3339(v, true) }
    case 'k8s.io.apimachinery.pkg.api.resource.Quantity': return { value: typeof v.string === 'string' ? v.string : '0' }
    case 'k8s.io.apimachinery.pkg.util.intstr.IntOrString':
      return { value: Number(v.type ?? 0) === 1 ? (v.strVal ?? '') : (v.intVal ?? 0) }
    case 'k8s.io.api.authorization.v1.ExtraValue':
    case 'k8s.io.api.authentication.v1.ExtraValue':
      return { value: Array.isArray(v.items) ? v.items : [] }
    default: return undefined
  }
}

function fullName (t: protobuf.Type): string {
  return t.fullName.replace(/^\./, '')
}

function convertValue (field: protobuf.Field, v: unknown): unknown {
  const rt = field.resolvedType
  if (rt instanceof protobuf.Type) {
    const plain = (v ?? {}) as Plain
    const known = wellKnown(fullName(rt), plain)
    return known ? known.value : toJson(rt, plain)
  }
  return v
}

function toJson (type: protobuf.Type, plain: Plain): Plain {
  const out: Plain = {}
  for (const field of type.fieldsArray) {
    const has = Object.prototype.hasOwnProperty.call(plain, field.name)
    const v = plain[field.name]
    if (field.map) {
      const entries = Object.entries((v ?? {}) as Plain)
      if (entries.length > 0) out[field.name] = Object.fromEntries(entries.map(([k, x]) => [k, convertValue(field, x)]))
      continue
    }
    if (field.repeated) {
      if (Array.isArray(v) && v.length > 0) out[field.name] = v.map(x => convertValue(field, x))
      continue
    }
    if (field.resolvedType instanceof protobuf.Type) {
      if (!has) continue
      const converted = convertValue(field, v)
      if (opt(field, 'inline') && converted && typeof converted === 'object') Object.assign(out, converted)
      else out[field.name] = converted
      continue
    }
    if (!has) {
      if (opt(field, 'req')) out[field.name] = zeroOf(field)
      continue
    }
    if (opt(field, 'ptr') || opt(field, 'req') || !isZero(v)) out[field.name] = v
  }
  return out
}

// ---- JSON → proto (for encodeProtobuf) ----

function fromValue (field: protobuf.Field, v: unknown): unknown {
  const rt = field.resolvedType
  if (!(rt instanceof protobuf.Type)) return v
  switch (fullName(rt)) {
    case `${META}.Time`:
    case `${META}.MicroTime`: {
      if (typeof v !== 'string') return {}
      const seconds = Math.floor(Date.parse(v.replace(/\.\d+/, '')) / 1000)
      const frac = /\.(\d+)/.exec(v)?.[1] ?? ''
      return { seconds, nanos: Number(frac.padEnd(9, '0').slice(0, 9)) }
    }
    case 'k8s.io.apimachinery.pkg.api.resource.Quantity': return { string: String(v) }
    case 'k8s.io.apimachinery.pkg.util.intstr.IntOrString':
      return typeof v === 'string' ? { type: 1, strVal: v } : { type: 0, intVal: Number(v) }
    case 'k8s.io.api.authorization.v1.ExtraValue':
    case 'k8s.io.api.authentication.v1.ExtraValue':
      return { items: Array.isArray(v) ? v : [] }
    default:
      return fromJson(rt, (v ?? {}) as Plain)
  }
}

function fromJson (type: protobuf.Type, json: Plain): Plain {
  const out: Plain = {}
  for (const field of type.fieldsArray) {
    if (opt(field, 'inline') && field.resolvedType instanceof protobuf.Type) {
      out[field.name] = fromJson(field.resolvedType, json)
      continue
    }
    const v = json[field.name]
    // gogo writes a zero metav1.Time as an empty message; JSON shows it as null
    if (v === null && field.resolvedType instanceof protobuf.Type && fullName(field.resolvedType) === `${META}.Time`) {
      out[field.name] = {}
      continue
    }
    if (v === undefined || v === null) continue
    if (field.map) out[field.name] = Object.fromEntries(Object.entries(v as Plain).map(([k, x]) => [k, fromValue(field, x)]))
    else if (field.repeated) out[field.name] = (v as unknown[]).map(x => fromValue(field, x))
    else out[field.name] = fromValue(field, v)
  }
  return out
}
