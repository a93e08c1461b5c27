// Strategic merge patch, transcribed from apimachinery pkg/util/strategicpatch
// (patch.go: StrategicMergeMapPatch → mergeMap / mergeSlice / mergePatchIntoOriginal)
// so the sim applies PATCH bodies and the gateway applies `--custom` specs exactly
// like the API server and kubectl do, quirks included (see comments marked Go:).
// kubectl's marshalling of --custom is in src/debug/kubectl/custom-marshal.ts.

export interface PatchMeta {
  /** For a list field: its merge key (e.g. 'name'); when present the list has patchStrategy merge. */
  mergeKey?: string
  /**
   * Explicit patch strategy (Go struct tag `patchStrategy`): 'merge' for a list of primitives
   * merged as a set (e.g. metadata.finalizers), 'replace' for a map replaced as a whole.
   * Implied 'merge' when mergeKey is set.
   */
  patchStrategy?: 'merge' | 'replace'
  /** Nested object fields (or, for lists, the fields of each item). */
  fields?: Record<string, PatchMeta>
}

export type JsonMap = Record<string, unknown>

const directiveMarker = '$patch'
const deleteDirective = 'delete'
const replaceDirective = 'replace'
const mergeDirective = 'merge'
const retainKeysDirective = '$retainKeys'
const deleteFromPrimitiveListPrefix = '$deleteFromPrimitiveList'
const setElementOrderPrefix = '$setElementOrder'

// mergepatch/errors.go messages
const errBadPatchFormatForPrimitiveList = 'invalid patch format of primitive list'
const errBadPatchFormatForRetainKeys = 'invalid patch format of retainKeys'
const errBadPatchFormatForSetElementOrderList = 'invalid patch format of setElementOrder list'
const errNoListOfLists = 'lists of lists are not supported'

/** Error thrown for malformed patches; `message` is the Go error text. `kind` tells the API server's HTTP mapping. */
export class StrategicMergePatchError extends Error {
  /** 'badRequest' → 400, 'unprocessable' → 422, 'other' → 500 (interpretStrategicMergePatchError). */
  readonly kind: 'badRequest' | 'unprocessable' | 'other'
  constructor (message: string, kind: 'badRequest' | 'unprocessable' | 'other' = 'other') {
    super(message)
    this.name = 'StrategicMergePatchError'
    this.kind = kind
  }
}

// ---- patch metadata (struct tags of k8s.io/api/core/v1 types.go) ----
// corev1.Container's, shared by the gateway (--custom) and the sim; the sim's
// Pod and ObjectMeta metadata is in src/sim/registry/patch-meta.ts.

const containerFields: Record<string, PatchMeta> = {
  ports: { mergeKey: 'containerPort' },
  env: { mergeKey: 'name' },
  volumeMounts: { mergeKey: 'mountPath' },
  volumeDevices: { mergeKey: 'devicePath' }
}

/** corev1.Container (and EphemeralContainer, which has the same tags). */
export const containerPatchMeta: PatchMeta = { fields: containerFields }

// ---- Go value helpers ----

export function isMap (v: unknown): v is JsonMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** reflect.TypeOf for decoded JSON: the only distinctions Go makes between JSON values. */
function goType (v: unknown): string {
  if (v === null || v === undefined) return 'nil'
  if (Array.isArray(v)) return '[]interface {}'
  if (typeof v === 'object') return 'map[string]interface {}'
  if (typeof v === 'number') return Number.isInteger(v) ? 'int64' : 'float64'
  return typeof v // 'string' | 'boolean' (Go: bool)
}

function goKind (v: unknown): 'map' | 'slice' | 'scalar' | 'nil' {
  if (v === null || v === undefined) return 'nil'
  if (Array.isArray(v)) return 'slice'
  if (typeof v === 'object') return 'map'
  return 'scalar'
}

/** fmt's %v for decoded JSON values: `map[k:v]` with sorted keys, `[a b]`, `<nil>`. */
export function goFormat (v: unknown): string {
  if (v === null || v === undefined) return '<nil>'
  if (Array.isArray(v)) return `[${v.map(goFormat).join(' ')}]`
  if (typeof v === 'object') {
    const m = v as JsonMap
    return `map[${Object.keys(m).sort().map(k => `${k}:${goFormat(m[k])}`).join(' ')}]`
  }
  if (typeof v === 'number') return goFloat(v)
  return String(v)
}

function goFloat (n: number): string {
  // Integers arrive as int64 on the server (UnmarshalCaseSensitivePreserveInts) and print plainly.
  if (Number.isInteger(n) && Math.abs(n) < 2 ** 63) return BigInt(n).toString()
  // %v of float64 is %g with the shortest representation; exponent form when exp < -4 || exp >= 21.
  const exp = Math.floor(Math.log10(Math.abs(n)))
  if (exp < -4 || exp >= 21) {
    const [mant = '', e = '0'] = n.toExponential().split('e')
    const en = Number(e)
    return `${mant}e${en < 0 ? '-' : '+'}${String(Math.abs(en)).padStart(2, '0')}`
  }
  return String(n)
}

function errNoMergeKey (m: JsonMap, key: string): StrategicMergePatchError {
  return new StrategicMergePatchError(`map: ${goFormat(m)} does not contain declared merge key: ${key}`)
}

function errBadArgType (expected: string, actual: unknown): StrategicMergePatchError {
  return new StrategicMergePatchError(`expected a ${expected}, but received a ${actual === null || actual === undefined ? '<nil>' : goType(actual)}`)
}

function errBadPatchType (t: unknown, m: JsonMap): StrategicMergePatchError {
  return new StrategicMergePatchError(`unknown patch type: ${goFormatPercentS(t)} in map: ${goFormat(m)}`)
}

/** %s of an interface{} holding a non-string prints `%!s(type=value)`. */
function goFormatPercentS (v: unknown): string {
  if (typeof v === 'string') return v
  if (typeof v === 'number') return `%!s(${goType(v)}=${goFloat(v)})`
  if (typeof v === 'boolean') return `%!s(bool=${String(v)})`
  if (v === null || v === undefined) return '%!s(<nil>)'
  return goFormat(v)
}

/** Go's == on interface{} values holding JSON scalars. */
function scalarEqual (a: unknown, b: unknown): boolean {
  return a === b
}

function lookupField (meta: PatchMeta | undefined, key: string): PatchMeta {
  return meta?.fields?.[key] ?? {}
}

function strategyOf (meta: PatchMeta): '' | 'merge' | 'replace' {
  if (meta.patchStrategy) return meta.patchStrategy
  return meta.mergeKey ? 'merge' : ''
}

function extractKey (s: string, prefix: string): string {
  const i = s.indexOf('/')
  if (i < 0 || s.slice(0, i) !== prefix) {
    if (prefix === deleteFromPrimitiveListPrefix) throw new StrategicMergePatchError(errBadPatchFormatForPrimitiveList, 'badRequest')
    if (prefix === setElementOrderPrefix) throw new StrategicMergePatchError(errBadPatchFormatForSetElementOrderList, 'badRequest')
    throw new StrategicMergePatchError(`fail to find unknown prefix "${prefix}" in ${s}\n`)
  }
  return s.slice(i + 1)
}

// ---- public entry point ----

/**
 * apimachinery strategicpatch.StrategicMergePatch semantics: maps merge, null deletes, merge-key lists merge
 * by key, other lists are replaced, `$patch: replace|delete`, `$retainKeys`, `$setElementOrder/<list>` and
 * `$deleteFromPrimitiveList/<list>` directives. Throws Error with a message on malformed patches.
 * Pure: neither argument is modified. Like Go, the result may still hold directive keys or nulls that
 * were inside patch subtrees copied verbatim (see dropDirectivesAndNulls for the typed-decode step).
 */
export function strategicMergePatch<T> (original: T, patch: unknown, meta: PatchMeta): T {
  const o: unknown = original === undefined || original === null ? {} : structuredClone(original)
  const p: unknown = patch === undefined || patch === null ? {} : structuredClone(patch)
  if (!isMap(o)) throw new StrategicMergePatchError('invalid JSON document', 'badRequest')
  if (!isMap(p)) throw new StrategicMergePatchError('invalid JSON document', 'badRequest')
  return mergeMap(o, p, meta) as T
}

/**
 * What decoding the merged map into a Go struct does to leftovers: unknown `$…` directive keys are
 * dropped and explicit nulls become zero values (omitted on output).
 */
export function dropDirectivesAndNulls<T> (v: T): T {
  const walk = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(walk)
    if (isMap(x)) {
      const out: JsonMap = {}
      for (const [k, val] of Object.entries(x)) {
        if (val === null || val === undefined || k.startsWith('$')) continue
        out[k] = walk(val)
      }
      return out
    }
    return x
  }
  return walk(v) as T
}

// ---- mergeMap ----

function handleDirectiveInMergeMap (directive: unknown, patch: JsonMap): JsonMap {
  if (directive === replaceDirective) {
    // Go: the rest of the patch map is taken as-is (no recursion into it).
    const { [directiveMarker]: _, ...rest } = patch
    return rest
  }
  if (directive === deleteDirective) return {}
  throw errBadPatchType(directive, patch)
}

function mergeMap (original: JsonMap, patch: JsonMap, meta: PatchMeta): JsonMap {
  if (directiveMarker in patch) return handleDirectiveInMergeMap(patch[directiveMarker], patch)

  applyRetainKeysDirective(original, patch)
  mergePatchIntoOriginal(original, patch, meta)

  for (let [k, patchV] of Object.entries(patch)) {
    let isDeleteList = false
    if (k.startsWith(deleteFromPrimitiveListPrefix)) {
      k = extractKey(k, deleteFromPrimitiveListPrefix)
      isDeleteList = true
    }
    if (patchV === null) {
      // IgnoreUnmatchedNulls: a null only ever deletes.
      delete original[k]
      continue
    }
    if (!(k in original)) {
      original[k] = patchV
      continue
    }
    const origV = original[k]
    if (goType(origV) !== goType(patchV)) {
      // Go compares reflect types; int64 vs float64 also counts as a change of type, which still ends in "take the patch".
      original[k] = patchV
      continue
    }
    const fieldMeta = lookupField(meta, k)
    switch (goKind(origV)) {
      case 'map':
        original[k] = strategyOf(fieldMeta) === replaceDirective
          ? patchV
          : mergeMap(origV as JsonMap, patchV as JsonMap, fieldMeta)
        break
      case 'slice':
        original[k] = mergeSliceHandler(origV as unknown[], patchV as unknown[], fieldMeta, isDeleteList)
        break
      default:
        original[k] = patchV
    }
  }
  return original
}

function applyRetainKeysDirective (original: JsonMap, patch: JsonMap): void {
  if (!(retainKeysDirective in patch)) return
  const retain = patch[retainKeysDirective]
  delete patch[retainKeysDirective]
  if (!Array.isArray(retain)) throw new StrategicMergePatchError(errBadPatchFormatForRetainKeys, 'badRequest')
  const keep = new Set<unknown>(retain)
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith(deleteFromPrimitiveListPrefix) || k.startsWith(setElementOrderPrefix)) continue
    if (!keep.has(k)) throw new StrategicMergePatchError(errBadPatchFormatForRetainKeys, 'badRequest')
  }
  for (const k of Object.keys(original)) {
    if (!keep.has(k)) delete original[k]
  }
}

/** Processes `$setElementOrder/<list>` together with its list (server side: MergeParallelList). */
function mergePatchIntoOriginal (original: JsonMap, patch: JsonMap, meta: PatchMeta): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(setElementOrderPrefix)) continue
    const order = patch[key]
    delete patch[key]
    if (!Array.isArray(order)) throw errBadArgType('[]interface {}', order)
    const originalKey = extractKey(key, setElementOrderPrefix)
    const foundOriginal = originalKey in original
    const foundPatch = originalKey in patch
    const originalList = original[originalKey]
    const patchList = patch[originalKey]
    let originalFieldValue: unknown[] = []
    let patchFieldValue: unknown[] = []
    if (foundOriginal) {
      if (!Array.isArray(originalList)) throw errBadArgType('[]interface {}', originalList)
      originalFieldValue = originalList
    }
    if (foundPatch) {
      if (!Array.isArray(patchList)) throw errBadArgType('[]interface {}', patchList)
      patchFieldValue = patchList
    }
    const fieldMeta = lookupField(meta, originalKey)
    const mergeKey = fieldMeta.mergeKey ?? ''
    validatePatchWithSetOrderList(patchFieldValue, order, mergeKey)

    let merged: unknown[]
    if (foundOriginal && !foundPatch) merged = originalFieldValue
    else if (!foundOriginal && foundPatch) merged = patchFieldValue
    else if (foundOriginal && foundPatch) merged = mergeSliceHandler(originalFieldValue, patchFieldValue, fieldMeta, false)
    else continue

    let patchItems: unknown[]
    let serverOnly: unknown[]
    if (!mergeKey) [patchItems, serverOnly] = partitionPrimitives(merged, order)
    else [patchItems, serverOnly] = partitionMaps(merged, order, mergeKey)

    const kind = sliceElementKind(originalFieldValue, patchFieldValue)
    original[originalKey] = normalizeElementOrder({ patch: patchItems, serverOnly, patchOrder: order, serverOrder: originalFieldValue, mergeKey, kind })
    delete patch[originalKey]
  }
}

function mergeKeyValueEqual (left: unknown, right: unknown, mergeKey: string): boolean {
  if (!mergeKey) {
    if (isMap(left) || Array.isArray(left)) throw new StrategicMergePatchError(`runtime error: comparing uncomparable type ${goType(left)}`)
    return scalarEqual(left, right)
  }
  if (!isMap(left)) throw errBadArgType('map[string]interface {}', left)
  if (!isMap(right)) throw errBadArgType('map[string]interface {}', right)
  if (!(mergeKey in left)) throw errNoMergeKey(left, mergeKey)
  if (!(mergeKey in right)) throw errNoMergeKey(right, mergeKey)
  return scalarEqual(left[mergeKey], right[mergeKey])
}

function validatePatchWithSetOrderList (patchList: unknown[], setOrderList: unknown[], mergeKey: string): void {
  if (setOrderList.length === 0 || patchList.length === 0) return
  const nonDelete = mergeKey ? extractToDeleteItems(patchList)[0] : patchList
  let pi = 0
  let si = 0
  while (pi < nonDelete.length && si < setOrderList.length) {
    const item = nonDelete[pi]
    if (isMap(item) && directiveMarker in item) {
      pi++
      continue
    }
    if (mergeKeyValueEqual(item, setOrderList[si], mergeKey)) pi++
    si++
  }
  if (pi < nonDelete.length && si >= setOrderList.length) {
    throw new StrategicMergePatchError(`The order in patch list:\n${goFormat(patchList)}\n doesn't match ${setElementOrderPrefix} list:\n${goFormat(setOrderList)}\n`)
  }
}

// ---- slices ----

function mergeSliceHandler (original: unknown[], patch: unknown[], meta: PatchMeta, isDeleteList: boolean): unknown[] {
  if (strategyOf(meta) === mergeDirective) return mergeSlice(original, patch, meta, isDeleteList)
  return patch
}

type ElemKind = 'map' | 'scalar'

/** sliceElementType: all items of all slices must share one Go type; lists of lists are refused. */
function sliceElementKind (...slices: unknown[][]): ElemKind {
  let prev: string | undefined
  let kind: ElemKind = 'scalar'
  for (const s of slices) {
    for (const v of s) {
      const t = goType(v)
      if (prev === undefined) {
        prev = t
        if (Array.isArray(v)) throw new StrategicMergePatchError(errNoListOfLists, 'unprocessable')
        kind = isMap(v) ? 'map' : 'scalar'
      } else if (prev !== t) {
        throw new StrategicMergePatchError(`list element types are not identical: ${slices.map(goFormat).join(' ')}`)
      }
    }
  }
  if (prev === undefined) throw new StrategicMergePatchError('no elements in any of the given slices')
  return kind
}

function mergeSlice (original: unknown[], patch: unknown[], meta: PatchMeta, isDeleteList: boolean): unknown[] {
  if (original.length === 0 && patch.length === 0) return original
  const kind = sliceElementKind(original, patch)
  const mergeKey = meta.mergeKey ?? ''
  let merged: unknown[]
  if (kind !== 'map') {
    if (isDeleteList) return deleteFromSlice(original, patch)
    merged = deduplicateScalars([...original, ...patch])
  } else {
    if (!mergeKey) throw new StrategicMergePatchError('cannot merge lists without merge key for map')
    ;[original, patch] = mergeSliceWithSpecialElements(original, patch, mergeKey)
    merged = mergeSliceWithoutSpecialElements(original, patch, mergeKey, meta)
  }
  let patchItems: unknown[]
  let serverOnly: unknown[]
  if (!mergeKey) [patchItems, serverOnly] = partitionPrimitives(merged, patch)
  else [patchItems, serverOnly] = partitionMaps(merged, patch, mergeKey)
  return normalizeElementOrder({ patch: patchItems, serverOnly, patchOrder: patch, serverOrder: original, mergeKey, kind })
}

function mergeSliceWithSpecialElements (original: unknown[], patch: unknown[], mergeKey: string): [unknown[], unknown[]] {
  const plain: unknown[] = []
  let replace = false
  for (const v of patch) {
    const m = v as JsonMap
    if (!(directiveMarker in m)) {
      plain.push(v)
      continue
    }
    const t = m[directiveMarker]
    if (t === deleteDirective) {
      if (!(mergeKey in m)) throw errNoMergeKey(m, mergeKey)
      // Go (deleteMatchingEntry): one directive removes the first matching entry only.
      const i = findMapInSlice(original, mergeKey, m[mergeKey])
      if (i >= 0) original = [...original.slice(0, i), ...original.slice(i + 1)]
    } else if (t === replaceDirective) {
      replace = true
    } else if (t === mergeDirective) {
      throw new StrategicMergePatchError('merging lists cannot yet be specified in the patch')
    } else {
      throw errBadPatchType(t, m)
    }
  }
  if (replace) return [plain, []]
  return [original, plain]
}

function mergeSliceWithoutSpecialElements (original: unknown[], patch: unknown[], mergeKey: string, meta: PatchMeta): unknown[] {
  const out = [...original]
  for (const v of patch) {
    const m = v as JsonMap
    if (!(mergeKey in m)) throw errNoMergeKey(m, mergeKey)
    const i = findMapInSlice(out, mergeKey, m[mergeKey])
    if (i >= 0) out[i] = mergeMap(out[i] as JsonMap, m, meta)
    else out.push(v)
  }
  return out
}

function findMapInSlice (list: unknown[], key: string, value: unknown): number {
  for (let i = 0; i < list.length; i++) {
    const v = list[i]
    if (!isMap(v)) throw new StrategicMergePatchError(`value for key ${i} is not a map`)
    if (key in v && scalarEqual(v[key], value)) return i
  }
  return -1
}

function deleteFromSlice (current: unknown[], toDelete: unknown[]): unknown[] {
  return current.filter(v => !toDelete.some(d => scalarEqual(d, v)))
}

/** Go's "clever" in-place dedupe: a duplicate is overwritten by the last element. */
function deduplicateScalars (s: unknown[]): unknown[] {
  s = [...s]
  let length = s.length - 1
  for (let i = 0; i < length; i++) {
    for (let j = i + 1; j <= length; j++) {
      if (scalarEqual(s[i], s[j])) {
        s[j] = s[length]
        s = s.slice(0, length)
        length--
        j--
      }
    }
  }
  return s
}

function partitionPrimitives (list: unknown[], by: unknown[]): [unknown[], unknown[]] {
  const patch: unknown[] = []
  const serverOnly: unknown[] = []
  for (const v of list) (by.some(b => scalarEqual(b, v)) ? patch : serverOnly).push(v)
  return [patch, serverOnly]
}

function partitionMaps (list: unknown[], by: unknown[], mergeKey: string): [unknown[], unknown[]] {
  const patch: unknown[] = []
  const serverOnly: unknown[] = []
  for (const v of list) {
    if (!isMap(v)) throw errBadArgType('map[string]interface {}', v)
    if (!(mergeKey in v)) throw errNoMergeKey(v, mergeKey)
    ;(findMapInSlice(by, mergeKey, v[mergeKey]) >= 0 ? patch : serverOnly).push(v)
  }
  return [patch, serverOnly]
}

function indexIn (list: unknown[], item: unknown, mergeKey: string, kind: ElemKind): number {
  const val = (x: unknown): unknown => kind === 'map' ? (isMap(x) ? x[mergeKey] : undefined) : x
  const target = val(item)
  return list.findIndex(v => scalarEqual(val(v), target))
}

function extractToDeleteItems (list: unknown[]): [unknown[], unknown[]] {
  const keep: unknown[] = []
  const del: unknown[] = []
  for (const v of list) {
    if (!isMap(v)) throw errBadArgType('map[string]interface {}', v)
    ;(v[directiveMarker] === deleteDirective ? del : keep).push(v)
  }
  return [keep, del]
}

function normalizeSliceOrder (toSort: unknown[], order: unknown[], mergeKey: string, kind: ElemKind): unknown[] {
  let toDelete: unknown[] = []
  if (kind === 'map') {
    for (const list of [toSort, order]) {
      for (const item of list) {
        if (!isMap(item)) throw errBadArgType('map[string]interface {}', item)
        if (!(mergeKey in item)) throw errNoMergeKey(item, mergeKey)
      }
    }
    ;[toSort, toDelete] = extractToDeleteItems(toSort)
  }
  // Go: sort.SliceStable by position in `order`; every item is found there in practice
  // (patch items in the patch, server-only items in the live list), unknown ones keep their place.
  const sorted = toSort
    .map((item, i) => ({ item, i, pos: indexIn(order, item, mergeKey, kind) }))
    .sort((a, b) => (a.pos >= 0 && b.pos >= 0 ? a.pos - b.pos : a.i - b.i))
    .map(x => x.item)
  return [...sorted, ...toDelete]
}

/**
 * Sorts patch items by the patch order and server-only items by the live order, then interleaves them:
 * a server-only item goes first only when both are in the live list and it comes earlier there, so
 * items new to the list land before the remaining server-only items.
 */
function normalizeElementOrder (a: { patch: unknown[], serverOnly: unknown[], patchOrder: unknown[], serverOrder: unknown[], mergeKey: string, kind: ElemKind }): unknown[] {
  const right = normalizeSliceOrder(a.patch, a.patchOrder, a.mergeKey, a.kind)
  const left = normalizeSliceOrder(a.serverOnly, a.serverOrder, a.mergeKey, a.kind)
  const out: unknown[] = []
  let i = 0
  let j = 0
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++])
    else if (j >= right.length) out.push(left[i++])
    else {
      const li = indexIn(a.serverOrder, left[i], a.mergeKey, a.kind)
      const ri = indexIn(a.serverOrder, right[j], a.mergeKey, a.kind)
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++])
      else out.push(right[j++])
    }
  }
  return out
}
