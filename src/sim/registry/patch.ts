// PATCH bodies applied like the API server's patch handler
// (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go), with its error statuses:
// - unsupported Content-Type → 415 listing the accepted patch types;
// - undecodable body → 400 (Go encoding/json messages, "error decoding patch: " for JSON/merge patch);
// - strategic merge: the apimachinery errors that interpretStrategicMergePatchError maps to 400/422,
//   anything else (e.g. a missing merge key) as a plain error → 500 reason Unknown;
// - a failed JSON patch operation → 422 "the server rejected our request due to an error in our request".
// JSON patch follows gopkg.in/evanphx/json-patch.v4 (what the API server vendors), quirks included,
// rather than a strict RFC 6902 library; merge patch follows its MergePatch (RFC 7386).
import type { KObject, Status } from '../apimachinery/types.ts'
import type { PatchMeta } from '../../lib/strategic-merge.ts'
import { strategicMergePatch, dropDirectivesAndNulls, StrategicMergePatchError } from '../../lib/strategic-merge.ts'
import { StatusError, badRequest } from '../apimachinery/status.ts'

export type PatchType = 'application/strategic-merge-patch+json' | 'application/merge-patch+json' | 'application/json-patch+json'

/** The patch types a built-in resource accepts, in the order installer.go lists them (SSA is not simulated). */
export const SUPPORTED_PATCH_TYPES: readonly string[] = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml'
]

type Json = null | boolean | number | string | Json[] | { [k: string]: Json }
type JsonMap = Record<string, unknown>

function statusError (code: number, reason: string, message: string, details?: Status['details']): StatusError {
  const s: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code }
  if (details) s.details = details
  return new StatusError(s)
}

/** negotiation.NewUnsupportedMediaTypeError (status.ts's builder lists body media types, not patch types). */
function unsupportedPatchType (): StatusError {
  return statusError(415, 'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${SUPPORTED_PATCH_TYPES.join(', ')}`)
}

/** errors.NewGenericServerResponse(422, "", GroupResource{}, "", msg, 0, false): the message is generic, details empty. */
function unprocessable (): StatusError {
  return statusError(422, 'Invalid', 'the server rejected our request due to an error in our request', {})
}

/** A plain Go error reaching responsewriters.ErrorToAPIStatus: 500 with reason Unknown and the error text. */
function plainError (message: string): StatusError {
  return statusError(500, 'Unknown', message)
}

/** Applies a PATCH body like the API server's patch handler (throws StatusError 400/422/415 with the real messages). */
export function applyPatch (original: KObject, patchType: string, body: Buffer | string, meta: PatchMeta): KObject {
  const semi = patchType.indexOf(';')
  const type = (semi > 0 ? patchType.slice(0, semi) : patchType).trim()
  const text = typeof body === 'string' ? body : body.toString('utf8')
  let result: unknown
  switch (type) {
    case 'application/strategic-merge-patch+json':
      result = applyStrategic(original, text, meta)
      break
    case 'application/merge-patch+json':
      result = applyMergePatch(original, text)
      break
    case 'application/json-patch+json':
      result = applyJsonPatch(original, text)
      break
    default:
      throw unsupportedPatchType()
  }
  // Decoding into the typed object drops unknown `$…` keys and turns nulls into zero values.
  return dropDirectivesAndNulls(result) as KObject
}

// ---- strategic merge patch ----

function applyStrategic (original: KObject, text: string, meta: PatchMeta): unknown {
  const patch = decodeGoJson(text, 'map[string]interface {}')
  if (patch.error) throw badRequest(patch.error)
  try {
    return strategicMergePatch(original, patch.value ?? {}, meta)
  } catch (err) {
    if (!(err instanceof StrategicMergePatchError)) throw err
    if (err.kind === 'badRequest') throw badRequest(err.message)
    if (err.kind === 'unprocessable') throw unprocessable()
    throw plainError(err.message)
  }
}

// ---- JSON merge patch (evanphx MergePatch) ----

function applyMergePatch (original: KObject, text: string): unknown {
  const patch = decodeGoJson(text, 'map[string]interface {}')
  if (patch.error) throw badRequest(`error decoding patch: ${patch.error}`)
  if (patch.value === null) throw badRequest('Invalid JSON Patch')
  const doc = structuredClone(original) as JsonMap
  mergeDocs(doc, patch.value as JsonMap)
  return doc
}

function isMap (v: unknown): v is JsonMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function mergeDocs (doc: JsonMap, patch: JsonMap): void {
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) {
      delete doc[k]
      continue
    }
    const cur = doc[k]
    if (cur === undefined || cur === null) doc[k] = pruneNulls(v)
    else if (!isMap(cur)) doc[k] = pruneNulls(v)
    else if (!isMap(v)) doc[k] = v
    else {
      mergeDocs(cur, v)
    }
  }
}

function pruneNulls (v: unknown): unknown {
  if (Array.isArray(v)) return v.map(pruneNulls)
  if (isMap(v)) {
    const out: JsonMap = {}
    for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = pruneNulls(x)
    return out
  }
  return v
}

// ---- JSON patch (gopkg.in/evanphx/json-patch.v4) ----

/** errors.Wrapf(err, msg) → "msg: err". */
class PatchOpError extends Error {}
const ErrMissing = 'missing value'
const ErrTestFailed = 'test failed'
const ErrInvalidIndex = 'invalid index referenced'

type Container = { kind: 'doc', v: JsonMap } | { kind: 'ary', v: unknown[] }

function decodePatchKey (k: string): string {
  return k.replace(/~1|~0/g, m => (m === '~1' ? '/' : '~'))
}

function atoi (key: string): number {
  if (!/^[+-]?\d+$/.test(key)) throw new PatchOpError(`strconv.Atoi: parsing ${JSON.stringify(key)}: invalid syntax`)
  return Number(key)
}

function asContainer (v: unknown): Container | undefined {
  if (Array.isArray(v)) return { kind: 'ary', v }
  if (isMap(v)) return { kind: 'doc', v }
  return undefined
}

/** findObject: walks all but the last path segment; undefined where Go returns a nil container. */
function findObject (root: JsonMap, path: string): [Container, string] | undefined {
  const split = path.split('/')
  if (split.length < 2) return undefined
  let doc: Container = { kind: 'doc', v: root }
  for (const part of split.slice(1, -1)) {
    let next: unknown
    try {
      next = containerGet(doc, decodePatchKey(part))
    } catch {
      return undefined
    }
    const c = next === undefined || next === null ? undefined : asContainer(next)
    if (!c) return undefined
    doc = c
  }
  return [doc, decodePatchKey(split[split.length - 1] ?? '')]
}

function containerGet (c: Container, key: string): unknown {
  if (c.kind === 'doc') return Object.hasOwn(c.v, key) ? c.v[key] : undefined
  const idx = atoi(key)
  if (idx >= c.v.length) throw new PatchOpError(`Unable to access invalid index: ${idx}: ${ErrInvalidIndex}`)
  if (idx < 0) throw new PatchOpError(`runtime error: index out of range [${idx}]`)
  return c.v[idx]
}

function containerAdd (c: Container, key: string, val: unknown): void {
  if (c.kind === 'doc') {
    c.v[key] = val
    return
  }
  if (key === '-') {
    c.v.push(val)
    return
  }
  let idx: number
  try {
    idx = atoi(key)
  } catch (err) {
    throw new PatchOpError(`value was not a proper array index: '${key}': ${(err as Error).message}`)
  }
  const size = c.v.length + 1
  if (idx >= size || idx < -size) throw new PatchOpError(`Unable to access invalid index: ${idx}: ${ErrInvalidIndex}`)
  if (idx < 0) idx += size
  c.v.splice(idx, 0, val)
}

function containerRemove (c: Container, key: string): void {
  if (c.kind === 'doc') {
    if (!Object.hasOwn(c.v, key)) throw new PatchOpError(`Unable to remove nonexistent key: ${key}: ${ErrMissing}`)
    delete c.v[key]
    return
  }
  let idx = atoi(key)
  const len = c.v.length
  if (idx >= len || idx < -len) throw new PatchOpError(`Unable to access invalid index: ${idx}: ${ErrInvalidIndex}`)
  if (idx < 0) idx += len
  c.v.splice(idx, 1)
}

function containerSet (c: Container, key: string, val: unknown): void {
  if (c.kind === 'doc') c.v[key] = val
  else c.v[atoi(key)] = val
}

/** lazyNode.equal as evanphx v4 implements it: object keys of the document value must exist in the test value. */
function lazyEqual (docVal: unknown, testVal: unknown): boolean {
  if (isMap(docVal)) {
    if (!isMap(testVal)) return false
    return Object.entries(docVal).every(([k, v]) => Object.hasOwn(testVal, k) && ((v === null && testVal[k] === null) || lazyEqual(v, testVal[k])))
  }
  if (Array.isArray(docVal)) {
    return Array.isArray(testVal) && testVal.length === docVal.length && docVal.every((v, i) => lazyEqual(v, testVal[i]))
  }
  return JSON.stringify(docVal) === JSON.stringify(testVal)
}

interface Op { op?: unknown, path?: unknown, from?: unknown, value?: unknown, hasValue: boolean }

function opPath (op: Op, field: 'path' | 'from'): string | undefined {
  const v = op[field]
  return typeof v === 'string' ? v : undefined
}

function applyOne (doc: JsonMap, op: Op): void {
  const kind = typeof op.op === 'string' ? op.op : 'unknown'
  const missingField = (f: 'path' | 'from'): string => f === 'path' ? `operation missing path field: ${ErrMissing}` : `operation, missing from field: ${ErrMissing}`
  const path = opPath(op, 'path')
  const value = op.hasValue ? op.value : null
  switch (kind) {
    case 'add': {
      if (path === undefined) throw new PatchOpError(`add operation failed to decode path: ${ErrMissing}`)
      const found = findObject(doc, path)
      if (!found) throw new PatchOpError(`add operation does not apply: doc is missing path: "${path}": ${ErrMissing}`)
      wrap(`error in add for path: '${path}'`, () => containerAdd(found[0], found[1], structuredClone(value)))
      return
    }
    case 'remove': {
      if (path === undefined) throw new PatchOpError(`remove operation failed to decode path: ${ErrMissing}`)
      const found = findObject(doc, path)
      if (!found) throw new PatchOpError(`remove operation does not apply: doc is missing path: "${path}": ${ErrMissing}`)
      wrap(`error in remove for path: '${path}'`, () => containerRemove(found[0], found[1]))
      return
    }
    case 'replace': {
      if (path === undefined) throw new PatchOpError(`replace operation failed to decode path: ${missingField('path')}`)
      const found = findObject(doc, path)
      if (!found) throw new PatchOpError(`replace operation does not apply: doc is missing path: ${path}: ${ErrMissing}`)
      try {
        containerGet(found[0], found[1])
      } catch {
        throw new PatchOpError(`replace operation does not apply: doc is missing key: ${path}: ${ErrMissing}`)
      }
      wrap(`error in remove for path: '${path}'`, () => containerSet(found[0], found[1], structuredClone(value)))
      return
    }
    case 'move': {
      const from = opPath(op, 'from')
      if (from === undefined) throw new PatchOpError(`move operation failed to decode from: ${missingField('from')}`)
      const src = findObject(doc, from)
      if (!src) throw new PatchOpError(`move operation does not apply: doc is missing from path: ${from}: ${ErrMissing}`)
      const val = wrap(`error in move for path: '${src[1]}'`, () => containerGet(src[0], src[1]))
      wrap(`error in move for path: '${src[1]}'`, () => containerRemove(src[0], src[1]))
      if (path === undefined) throw new PatchOpError(`move operation failed to decode path: ${missingField('path')}`)
      const dst = findObject(doc, path)
      if (!dst) throw new PatchOpError(`move operation does not apply: doc is missing destination path: ${path}: ${ErrMissing}`)
      wrap(`error in move for path: '${path}'`, () => containerAdd(dst[0], dst[1], val))
      return
    }
    case 'copy': {
      const from = opPath(op, 'from')
      if (from === undefined) throw new PatchOpError(`copy operation failed to decode from: ${missingField('from')}`)
      const src = findObject(doc, from)
      if (!src) throw new PatchOpError(`copy operation does not apply: doc is missing from path: ${from}: ${ErrMissing}`)
      const val = wrap(`error in copy for from: '${from}'`, () => containerGet(src[0], src[1]))
      if (path === undefined) throw new PatchOpError(`copy operation failed to decode path: ${ErrMissing}`)
      const dst = findObject(doc, path)
      if (!dst) throw new PatchOpError(`copy operation does not apply: doc is missing destination path: ${path}: ${ErrMissing}`)
      wrap('error while adding value during copy', () => containerAdd(dst[0], dst[1], structuredClone(val ?? null)))
      return
    }
    case 'test': {
      if (path === undefined) throw new PatchOpError(`test operation failed to decode path: ${missingField('path')}`)
      const found = findObject(doc, path)
      if (!found) throw new PatchOpError(`test operation does not apply: is missing path: ${path}: ${ErrMissing}`)
      const val = wrap(`error in test for path: '${path}'`, () => containerGet(found[0], found[1]))
      const failed = new PatchOpError(`testing value ${path} failed: ${ErrTestFailed}`)
      if (val === undefined || val === null) {
        if (op.hasValue && op.value === null) return
        throw failed
      }
      if (!op.hasValue || !lazyEqual(val, op.value)) throw failed
      return
    }
    default:
      throw new PatchOpError(`Unexpected kind: ${kind}`)
  }
}

function wrap<R> (msg: string, fn: () => R): R {
  try {
    return fn()
  } catch (err) {
    throw new PatchOpError(`${msg}: ${(err as Error).message}`)
  }
}

function applyJsonPatch (original: KObject, text: string): unknown {
  const decoded = decodeGoJson(text, '[]handlers.jsonPatchOp')
  if (decoded.error) throw badRequest(`error decoding patch: ${decoded.error}`)
  const ops: Op[] = []
  for (const raw of (decoded.value ?? []) as unknown[]) {
    const m = isMap(raw) ? raw : {}
    for (const f of ['op', 'path', 'from'] as const) {
      const v = m[f]
      if (v !== undefined && v !== null && typeof v !== 'string') {
        throw badRequest(`error decoding patch: json: cannot unmarshal ${goJsonKind(v)} into Go struct field jsonPatchOp.${f} of type string`)
      }
    }
    ops.push({ op: m.op, path: m.path, from: m.from, value: m.value, hasValue: Object.hasOwn(m, 'value') })
  }
  if (ops.length > 10000) {
    throw statusError(413, 'RequestEntityTooLarge', `Request entity too large: The allowed maximum operations in a JSON patch is 10000, got ${ops.length}`)
  }
  const doc = structuredClone(original) as JsonMap
  try {
    for (const op of ops) applyOne(doc, op)
  } catch (err) {
    if (err instanceof PatchOpError) throw unprocessable()
    throw err
  }
  return doc
}

// ---- Go encoding/json decoding with its error texts ----

function goJsonKind (v: unknown): string {
  if (Array.isArray(v)) return 'array'
  if (v === null) return 'null'
  if (typeof v === 'object') return 'object'
  return typeof v === 'boolean' ? 'bool' : typeof v === 'number' ? 'number' : 'string'
}

/**
 * json.Unmarshal into `target` (a Go map or slice type): syntax errors as the scanner words them,
 * then the type mismatch error for a top-level value of the wrong kind. null decodes to a nil value.
 */
export function decodeGoJson (text: string, target: string): { value?: unknown, error?: string } {
  const syntax = goJsonSyntaxError(Buffer.from(text, 'utf8'))
  if (syntax) return { error: syntax }
  const value = JSON.parse(text) as Json
  if (value === null) return { value: null }
  const want = target.startsWith('[]') ? 'array' : 'object'
  if (goJsonKind(value) !== want) return { error: `json: cannot unmarshal ${goJsonKind(value)} into Go value of type ${target}` }
  return { value }
}

function quoteChar (c: number): string {
  if (c === 0x27) return "'\\''"
  if (c === 0x22) return '\'"\''
  if (c >= 0x20 && c < 0x7f) return `'${String.fromCharCode(c)}'`
  const named: Record<number, string> = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r' }
  return `'${named[c] ?? `\\x${c.toString(16).padStart(2, '0')}`}'`
}

/** Go's checkValid: returns the first syntax error message, or undefined for valid JSON. */
function goJsonSyntaxError (b: Buffer): string | undefined {
  let i = 0
  const eof = 'unexpected end of JSON input'
  const bad = (ctx: string): string => `invalid character ${quoteChar(b[i] ?? 0)} ${ctx}`
  const isSpace = (c: number | undefined): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d
  const skip = (): void => { while (isSpace(b[i])) i++ }
  const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 0x30 && c <= 0x39

  const literal = (word: string): string | undefined => {
    for (let k = 1; k < word.length; k++) {
      i++
      if (i >= b.length) return eof
      if (b[i] !== word.charCodeAt(k)) return bad(`in literal ${word} (expecting '${word[k]}')`)
    }
    i++
    return undefined
  }

  const str = (): string | undefined => {
    i++ // opening quote
    for (;;) {
      if (i >= b.length) return eof
      const c = b[i] as number
      if (c === 0x22) { i++; return undefined }
      if (c === 0x5c) {
        i++
        if (i >= b.length) return eof
        const e = b[i] as number
        if ('bfnrt\\/"'.includes(String.fromCharCode(e))) { i++; continue }
        if (e === 0x75) {
          for (let k = 0; k < 4; k++) {
            i++
            if (i >= b.length) return eof
            if (!/[0-9a-fA-F]/.test(String.fromCharCode(b[i] as number))) return bad('in \\u hexadecimal character escape')
          }
          i++
          continue
        }
        return bad('in string escape code')
      }
      if (c < 0x20) return bad('in string literal')
      i++
    }
  }

  const num = (): string | undefined => {
    if (b[i] === 0x2d) {
      i++
      if (i >= b.length) return eof
      if (!isDigit(b[i])) return bad('in numeric literal')
    }
    if (b[i] === 0x30) i++
    else while (isDigit(b[i])) i++
    if (b[i] === 0x2e) {
      i++
      if (i >= b.length) return eof
      if (!isDigit(b[i])) return bad('after decimal point in numeric literal')
      while (isDigit(b[i])) i++
    }
    if (b[i] === 0x65 || b[i] === 0x45) {
      i++
      if (b[i] === 0x2b || b[i] === 0x2d) i++
      if (i >= b.length) return eof
      if (!isDigit(b[i])) return bad('in exponent of numeric literal')
      while (isDigit(b[i])) i++
    }
    return undefined
  }

  const value = (): string | undefined => {
    skip()
    if (i >= b.length) return eof
    const c = b[i] as number
    if (c === 0x7b) {
      i++
      skip()
      if (i >= b.length) return eof
      if (b[i] === 0x7d) { i++; return undefined }
      for (;;) {
        skip()
        if (i >= b.length) return eof
        if (b[i] !== 0x22) return bad('looking for beginning of object key string')
        const e1 = str()
        if (e1) return e1
        skip()
        if (i >= b.length) return eof
        if (b[i] !== 0x3a) return bad('after object key')
        i++
        const e2 = value()
        if (e2) return e2
        skip()
        if (i >= b.length) return eof
        if (b[i] === 0x2c) { i++; continue }
        if (b[i] === 0x7d) { i++; return undefined }
        return bad('after object key:value pair')
      }
    }
    if (c === 0x5b) {
      i++
      skip()
      if (i >= b.length) return eof
      if (b[i] === 0x5d) { i++; return undefined }
      for (;;) {
        const e = value()
        if (e) return e
        skip()
        if (i >= b.length) return eof
        if (b[i] === 0x2c) { i++; continue }
        if (b[i] === 0x5d) { i++; return undefined }
        return bad('after array element')
      }
    }
    if (c === 0x22) return str()
    if (c === 0x2d || isDigit(c)) return num()
    if (c === 0x74) return literal('true')
    if (c === 0x66) return literal('false')
    if (c === 0x6e) return literal('null')
    return bad('looking for beginning of value')
  }

  const err = value()
  if (err) return err
  skip()
  if (i < b.length) return bad('after top-level value')
  return undefined
}
