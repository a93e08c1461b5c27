// metav1.Status builders with the exact messages and reasons of
// staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go, so that clients
// (kubectl, client-node, the gateway) see what a real API server sends.
import type { Status, StatusCause } from './types.ts'

/** A Status carried as an exception through the sim's request handlers. */
export class StatusError extends Error {
  readonly status: Status
  constructor (status: Status) {
    super(status.message ?? status.reason ?? 'error')
    this.status = status
  }

  get code (): number { return this.status.code }
}

function failure (code: number, reason: string, message: string, details?: Status['details']): Status {
  const s: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code }
  if (details) s.details = details
  return s
}

/** Resource qualified with its group, as GroupResource.String() prints it (`pods`, `rolebindings.rbac.authorization.k8s.io`). */
export function qualifiedResource (resource: string, group = ''): string {
  return group ? `${resource}.${group}` : resource
}

export function notFound (resource: string, name: string, group = ''): StatusError {
  return new StatusError(failure(404, 'NotFound', `${qualifiedResource(resource, group)} "${name}" not found`, { name, group: group || undefined, kind: resource }))
}

export function alreadyExists (resource: string, name: string, group = ''): StatusError {
  return new StatusError(failure(409, 'AlreadyExists', `${qualifiedResource(resource, group)} "${name}" already exists`, { name, group: group || undefined, kind: resource }))
}

export function conflict (resource: string, name: string, why: string, group = ''): StatusError {
  return new StatusError(failure(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(resource, group)} "${name}": ${why}`, { name, group: group || undefined, kind: resource }))
}

/**
 * 403 as the API server's authorization filter writes it
 * (apiserver/pkg/endpoints/handlers/responsewriters/errors.go forbiddenMessage).
 */
export function forbidden (opts: { user: string, verb: string, resource: string, subresource?: string, group?: string, namespace?: string, name?: string, reason?: string }): StatusError {
  const res = opts.subresource ? `${opts.resource}/${opts.subresource}` : opts.resource
  const group = opts.group ?? ''
  let msg = `User "${opts.user}" cannot ${opts.verb} resource "${res}" in API group "${group}"`
  msg += opts.namespace ? ` in the namespace "${opts.namespace}"` : ' at the cluster scope'
  if (opts.reason) msg += `: ${opts.reason}`
  const subject = opts.name ? `${qualifiedResource(opts.resource, group)} "${opts.name}"` : qualifiedResource(opts.resource, group)
  return new StatusError(failure(403, 'Forbidden', `${subject} is forbidden: ${msg}`, { name: opts.name, group: group || undefined, kind: opts.resource }))
}

/** 403 for a non-resource URL (`forbidden: User "x" cannot get path "/foo"`). */
export function forbiddenPath (user: string, verb: string, path: string): StatusError {
  return new StatusError(failure(403, 'Forbidden', `forbidden: User "${user}" cannot ${verb} path "${path}"`))
}

/** What the API server answers for a path no handler serves (no resource, no name in the details). */
export function notFoundPath (): StatusError {
  return new StatusError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the server could not find the requested resource', reason: 'NotFound', details: {}, code: 404 })
}

/** A generic 403 with a free message (admission, impersonation). */
export function forbiddenMessage (message: string, details?: Status['details']): StatusError {
  return new StatusError(failure(403, 'Forbidden', message, details))
}

export function unauthorized (message = 'Unauthorized'): StatusError {
  return new StatusError(failure(401, 'Unauthorized', message))
}

export function badRequest (message: string): StatusError {
  return new StatusError(failure(400, 'BadRequest', message))
}

export function methodNotSupported (resource: string, verb: string): StatusError {
  return new StatusError(failure(405, 'MethodNotAllowed', `${verb} is not supported on resources of kind "${resource}"`, { kind: resource }))
}

export function unsupportedMediaType (contentType: string): StatusError {
  return new StatusError(failure(415, 'UnsupportedMediaType', 'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf', { kind: contentType }))
}

export function expired (message: string): StatusError {
  return new StatusError(failure(410, 'Expired', message))
}

export function tooManyRequests (message = 'Too many requests, please try again later.', retryAfterSeconds = 1): StatusError {
  return new StatusError(failure(429, 'TooManyRequests', message, { retryAfterSeconds }))
}

export function internalError (message: string): StatusError {
  return new StatusError(failure(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] }))
}

export function serviceUnavailable (message = 'the server is currently unable to handle the request'): StatusError {
  return new StatusError(failure(503, 'ServiceUnavailable', message))
}

/** A field error (field.Error), rendered like field/errors.go. */
export interface FieldError {
  type: 'FieldValueForbidden' | 'FieldValueDuplicate' | 'FieldValueNotFound' | 'FieldValueRequired' |
  'FieldValueInvalid' | 'FieldValueNotSupported' | 'FieldValueTooLong' | 'FieldValueTooMany' |
  'InternalError' | 'FieldValueTypeInvalid'
  field: string
  /** The body after the type prefix, e.g. `cannot be set for an Ephemeral Container`. */
  detail?: string
  /** Bad value for Duplicate / NotFound / Invalid / NotSupported. */
  badValue?: unknown
}

const fieldTypeWords: Record<FieldError['type'], string> = {
  FieldValueForbidden: 'Forbidden',
  FieldValueDuplicate: 'Duplicate value',
  FieldValueNotFound: 'Not found',
  FieldValueRequired: 'Required value',
  FieldValueInvalid: 'Invalid value',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueTooLong: 'Too long',
  FieldValueTooMany: 'Too many',
  InternalError: 'Internal error',
  FieldValueTypeInvalid: 'Invalid value'
}

/**
 * A Go uint64 as a bad value: apimachinery's field.Error.ErrorBody prints only int64, int32,
 * float and bool with %v, and other types such as uint64 (a resourceVersion) with %#v: `0x0`.
 */
export class Uint64Value {
  readonly value: number
  constructor (value: number) { this.value = value }
}

function renderBadValue (v: unknown): string {
  if (v instanceof Uint64Value) return '0x' + v.value.toString(16)
  if (typeof v === 'string') return JSON.stringify(v)
  if (v === undefined) return ''
  return typeof v === 'object' ? JSON.stringify(v) : String(v)
}

/** `ErrorBody()`: the cause message, e.g. `Forbidden: cannot be set for an Ephemeral Container`. */
export function fieldErrorBody (e: FieldError): string {
  const words = fieldTypeWords[e.type]
  const withValue = e.type === 'FieldValueDuplicate' || e.type === 'FieldValueNotFound' || e.type === 'FieldValueInvalid' || e.type === 'FieldValueNotSupported' || e.type === 'FieldValueTypeInvalid'
  let s = words
  if (withValue && e.badValue !== undefined) s += `: ${renderBadValue(e.badValue)}`
  if (e.detail) s += `: ${e.detail}`
  return s
}

/** 422 Invalid as NewInvalid builds it (message aggregates all field errors). */
export function invalid (kind: string, name: string, errors: FieldError[], group = ''): StatusError {
  const causes: StatusCause[] = errors.map(e => ({ reason: e.type, message: fieldErrorBody(e), field: e.field }))
  const rendered = errors.map(e => e.field ? `${e.field}: ${fieldErrorBody(e)}` : fieldErrorBody(e))
  const agg = rendered.length === 1 ? rendered[0] : `[${rendered.join(', ')}]`
  const qualifiedKind = group ? `${kind}.${group}` : kind
  return new StatusError(failure(422, 'Invalid', `${qualifiedKind} "${name}" is invalid: ${agg}`, { name, group: group || undefined, kind, causes }))
}
