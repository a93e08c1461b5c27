// Label and field selectors as the API server evaluates them
// (apimachinery pkg/labels, pkg/fields; selectable fields per kind from
// pkg/apis/core/v1/conversion.go and the registries' ToSelectableFields).
import type { KObject } from './types.ts'
import { badRequest } from './status.ts'

export type Matcher = (obj: KObject) => boolean

interface LabelRequirement {
  key: string
  op: 'in' | 'notin' | 'exists' | '!' | '=' | '!=' | 'gt' | 'lt'
  values: string[]
}

/** Splits on commas that are not inside parentheses. */
function splitTop (s: string): string[] {
  const out: string[] = []
  let depth = 0
  let cur = ''
  for (const ch of s) {
    if (ch === '(') depth++
    if (ch === ')') depth--
    if (ch === ',' && depth === 0) {
      out.push(cur)
      cur = ''
    } else {
      cur += ch
    }
  }
  out.push(cur)
  return out
}

const labelKeyRe = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/
const labelValueRe = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/

function parseRequirement (raw: string, whole: string): LabelRequirement {
  const s = raw.trim()
  const fail = (): never => { throw badRequest(`unable to parse requirement: found '${s}', expected: identifier in selector "${whole}"`) }
  let m = /^!\s*(\S+)$/.exec(s)
  if (m?.[1]) return { key: checkKey(m[1], whole), op: '!', values: [] }
  m = /^(\S+?)\s+(in|notin)\s*\(([^)]*)\)$/.exec(s)
  if (m?.[1] && m[2] && m[3] !== undefined) {
    const values = m[3].split(',').map(v => v.trim())
    for (const v of values) checkValue(v, whole)
    return { key: checkKey(m[1], whole), op: m[2] as 'in' | 'notin', values }
  }
  m = /^([^=!<>\s]+)\s*(==|=|!=|<|>)\s*(\S*)$/.exec(s)
  if (m?.[1] && m[2] && m[3] !== undefined) {
    const op = m[2] === '==' ? '=' : m[2] === '<' ? 'lt' : m[2] === '>' ? 'gt' : m[2] as '=' | '!='
    if ((op === 'lt' || op === 'gt') && !/^-?\d+$/.test(m[3])) fail()
    return { key: checkKey(m[1], whole), op, values: [checkValue(m[3], whole)] }
  }
  if (/^\S+$/.test(s)) return { key: checkKey(s, whole), op: 'exists', values: [] }
  return fail()
}

function checkKey (k: string, whole: string): string {
  if (!labelKeyRe.test(k)) throw badRequest(`unable to parse requirement: key: Invalid value: "${k}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character in selector "${whole}"`)
  return k
}

function checkValue (v: string, whole: string): string {
  if (v.length > 63 || !labelValueRe.test(v)) throw badRequest(`unable to parse requirement: values[0]: Invalid value: "${v}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character in selector "${whole}"`)
  return v
}

/** Parses a label selector (`a=b,c!=d,e in (f,g),h notin (i),j,!k`) into a matcher of label maps. */
export function parseLabelSelector (selector: string | null | undefined): (labels: Record<string, string> | undefined) => boolean {
  if (!selector || !selector.trim()) return () => true
  const reqs = splitTop(selector).map(r => parseRequirement(r, selector))
  return (labels) => reqs.every(r => {
    const has = labels !== undefined && Object.hasOwn(labels, r.key)
    const v = has ? labels[r.key] ?? '' : ''
    switch (r.op) {
      case 'exists': return has
      case '!': return !has
      case '=': return has && v === r.values[0]
      case '!=': return !has || v !== r.values[0]
      case 'in': return has && r.values.includes(v)
      case 'notin': return !has || !r.values.includes(v)
      case 'gt': return has && /^-?\d+$/.test(v) && Number(v) > Number(r.values[0])
      case 'lt': return has && /^-?\d+$/.test(v) && Number(v) < Number(r.values[0])
    }
    return false
  })
}

type FieldGetter = (o: KObject) => string

function path (o: unknown, dotted: string): unknown {
  let cur: unknown = o
  for (const part of dotted.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined
    cur = (cur as Record<string, unknown>)[part]
  }
  return cur
}

function str (v: unknown): string {
  if (v === undefined || v === null) return ''
  return typeof v === 'string' ? v : String(v)
}

const meta = (o: KObject, f: 'name' | 'namespace'): string => str(o.metadata[f])

/** Selectable fields by resource, as in pkg/apis/core/v1/conversion.go (label conversion) and the registries. */
const selectableFields: Record<string, Record<string, FieldGetter>> = {
  pods: {
    'metadata.name': o => meta(o, 'name'),
    'metadata.namespace': o => meta(o, 'namespace'),
    'spec.nodeName': o => str(path(o, 'spec.nodeName')),
    'spec.host': o => str(path(o, 'spec.nodeName')),
    'spec.restartPolicy': o => str(path(o, 'spec.restartPolicy')),
    'spec.schedulerName': o => str(path(o, 'spec.schedulerName')),
    'spec.serviceAccountName': o => str(path(o, 'spec.serviceAccountName')),
    'spec.hostNetwork': o => String(path(o, 'spec.hostNetwork') === true),
    'status.phase': o => str(path(o, 'status.phase')),
    'status.podIP': o => str(path(o, 'status.podIP')),
    'status.podIPs': o => str(path(o, 'status.podIP')),
    'status.nominatedNodeName': o => str(path(o, 'status.nominatedNodeName'))
  },
  nodes: {
    'metadata.name': o => meta(o, 'name'),
    'spec.unschedulable': o => String(path(o, 'spec.unschedulable') === true)
  },
  namespaces: {
    'metadata.name': o => meta(o, 'name'),
    'status.phase': o => str(path(o, 'status.phase'))
  },
  events: {
    'metadata.name': o => meta(o, 'name'),
    'metadata.namespace': o => meta(o, 'namespace'),
    'involvedObject.kind': o => str(path(o, 'involvedObject.kind')),
    'involvedObject.namespace': o => str(path(o, 'involvedObject.namespace')),
    'involvedObject.name': o => str(path(o, 'involvedObject.name')),
    'involvedObject.uid': o => str(path(o, 'involvedObject.uid')),
    'involvedObject.apiVersion': o => str(path(o, 'involvedObject.apiVersion')),
    'involvedObject.resourceVersion': o => str(path(o, 'involvedObject.resourceVersion')),
    'involvedObject.fieldPath': o => str(path(o, 'involvedObject.fieldPath')),
    reason: o => str(o.reason),
    reportingComponent: o => str(o.reportingComponent),
    // pkg/registry/core/event/strategy.go: source is source.component, else reportingController
    source: o => str(path(o, 'source.component')) || str(o.reportingComponent),
    type: o => str(o.type)
  }
}

const genericFields: Record<string, FieldGetter> = {
  'metadata.name': o => meta(o, 'name'),
  'metadata.namespace': o => meta(o, 'namespace')
}

interface FieldRequirement { field: string, op: '=' | '!=', value: string, get: FieldGetter }

/** Unescapes `\,` `\=` `\\` in field selector values (fields.UnescapeValue). */
function unescape (v: string): string {
  return v.replace(/\\(.)/g, '$1')
}

/** Splits on unescaped commas. */
function splitFieldTerms (s: string): string[] {
  const out: string[] = []
  let cur = ''
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]
    if (ch === '\\' && i + 1 < s.length) {
      cur += ch + s[i + 1]
      i++
    } else if (ch === ',') {
      out.push(cur)
      cur = ''
    } else {
      cur += ch
    }
  }
  out.push(cur)
  return out
}

export function parseFieldRequirements (selector: string, resource: string): FieldRequirement[] {
  const fields = selectableFields[resource] ?? genericFields
  const reqs: FieldRequirement[] = []
  for (const term of splitFieldTerms(selector)) {
    if (term === '') continue
    const m = /^([^=!]+)(==|=|!=)(.*)$/s.exec(term)
    if (!m?.[1] || !m[2] || m[3] === undefined) throw badRequest(`invalid selector: '${selector}'; can't understand '${term}'`)
    const field = m[1]
    const get = fields[field]
    if (!get) throw badRequest(`field label not supported: ${field}`)
    reqs.push({ field, op: m[2] === '!=' ? '!=' : '=', value: unescape(m[3]), get })
  }
  return reqs
}

/** Parses a field selector for a resource; unknown fields → 400 `field label not supported: X`. */
export function parseFieldSelector (selector: string | null | undefined, resource: string): Matcher {
  if (!selector) return () => true
  const reqs = parseFieldRequirements(selector, resource)
  return (o) => reqs.every(r => r.op === '=' ? r.get(o) === r.value : r.get(o) !== r.value)
}

/** The name a field selector pins with `metadata.name=X` (RequestInfo uses it for RBAC resourceNames). */
export function exactName (selector: string | null | undefined): string | undefined {
  if (!selector) return undefined
  for (const term of splitFieldTerms(selector)) {
    const m = /^metadata\.name(==|=)(.*)$/s.exec(term)
    if (m?.[2] !== undefined) return unescape(m[2])
  }
  return undefined
}

/** Label + field selector together. */
export function objectMatcher (opts: { labelSelector?: string | null, fieldSelector?: string | null, resource: string }): Matcher {
  const labels = parseLabelSelector(opts.labelSelector)
  const fields = parseFieldSelector(opts.fieldSelector, opts.resource)
  return (o) => labels(o.metadata.labels) && fields(o)
}
