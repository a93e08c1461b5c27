// URL → request attributes, following apiserver's RequestInfoFactory
// (staging/src/k8s.io/apiserver/pkg/endpoints/request/requestinfo.go).
import { exactName } from '../apimachinery/selectors.ts'
import { queryBool } from './http-util.ts'

export interface RequestInfo {
  isResourceRequest: boolean
  /** The URL path (non-resource requests are authorized on it). */
  path: string
  /** Resource verbs (get, list, watch, create, update, patch, delete, deletecollection) or the lowercased HTTP method. */
  verb: string
  apiPrefix: string
  apiGroup: string
  apiVersion: string
  namespace: string
  resource: string
  subresource: string
  name: string
  parts: string[]
}

const apiPrefixes = new Set(['api', 'apis'])
const grouplessPrefixes = new Set(['api'])
const specialVerbs = new Set(['proxy', 'watch'])
const specialVerbsNoSubresources = new Set(['proxy'])
const namespaceSubresources = new Set(['status', 'finalize'])

function splitPath (p: string): string[] {
  const trimmed = p.replace(/^\/+|\/+$/g, '')
  return trimmed === '' ? [] : trimmed.split('/').map(s => decodeURIComponent(s))
}

const validSegment = (s: string): boolean => s !== '' && s !== '.' && s !== '..' && !s.includes('/') && !s.includes('%')

export function parseRequestInfo (method: string, url: URL): RequestInfo {
  const info: RequestInfo = {
    isResourceRequest: false,
    path: url.pathname,
    verb: method.toLowerCase(),
    apiPrefix: '',
    apiGroup: '',
    apiVersion: '',
    namespace: '',
    resource: '',
    subresource: '',
    name: '',
    parts: []
  }
  let parts = splitPath(url.pathname)
  if (parts.length < 3 || !apiPrefixes.has(parts[0] ?? '')) return info
  info.apiPrefix = parts[0] ?? ''
  parts = parts.slice(1)
  if (!grouplessPrefixes.has(info.apiPrefix)) {
    if (parts.length < 3) return info
    info.apiGroup = parts[0] ?? ''
    parts = parts.slice(1)
  }
  info.isResourceRequest = true
  info.apiVersion = parts[0] ?? ''
  parts = parts.slice(1)

  if (specialVerbs.has(parts[0] ?? '')) {
    if (parts.length < 2) {
      info.isResourceRequest = false
      return info
    }
    info.verb = parts[0] ?? ''
    parts = parts.slice(1)
  } else {
    const byMethod: Record<string, string> = { POST: 'create', GET: 'get', HEAD: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' }
    info.verb = byMethod[method.toUpperCase()] ?? ''
  }

  if (parts[0] === 'namespaces') {
    if (parts.length > 1) {
      info.namespace = parts[1] ?? ''
      if (parts.length > 2 && !namespaceSubresources.has(parts[2] ?? '')) parts = parts.slice(2)
    }
  }
  info.parts = parts
  if (parts.length >= 3 && !specialVerbsNoSubresources.has(info.verb)) info.subresource = parts[2] ?? ''
  if (parts.length >= 2) info.name = parts[1] ?? ''
  if (parts.length >= 1) info.resource = parts[0] ?? ''

  if (info.name === '' && info.verb === 'get') {
    info.verb = queryBool(url.searchParams.get('watch')) ? 'watch' : 'list'
    // a fieldSelector pinning metadata.name makes the request name-scoped for authorization
    const n = exactName(url.searchParams.get('fieldSelector'))
    if (n !== undefined && validSegment(n)) info.name = n
  }
  if (info.name === '' && info.verb === 'delete') info.verb = 'deletecollection'
  return info
}
