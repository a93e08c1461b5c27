// Non-resource URLs: /version, the health endpoints, discovery and OpenAPI v3.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { notFoundPath } from '../apimachinery/status.ts'
import { VERSION_INFO, apiGroup, apiGroupList, apiVersions, coreV1, groupVersionResources, openapiV3GroupVersion, openapiV3Root } from './discovery.ts'
import { sendJSON } from './http-util.ts'

function serverAddress (req: IncomingMessage): string {
  const s = req.socket
  return `${s.localAddress ?? '127.0.0.1'}:${s.localPort ?? 0}`
}

export function handleNonResource (req: IncomingMessage, res: ServerResponse, url: URL): void {
  const p = url.pathname.replace(/\/+$/, '') || '/'
  const parts = p.split('/').filter(Boolean)
  if (req.method !== 'GET' && req.method !== 'HEAD') throw notFoundPath()
  if (p === '/version') return sendJSON(res, 200, VERSION_INFO)
  if (p === '/healthz' || p === '/livez' || p === '/readyz') {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' })
    res.end('ok')
    return
  }
  if (p === '/api') return sendJSON(res, 200, apiVersions(serverAddress(req)))
  if (p === '/api/v1') return sendJSON(res, 200, coreV1())
  if (p === '/apis') return sendJSON(res, 200, apiGroupList())
  if (p === '/openapi/v3') return sendJSON(res, 200, openapiV3Root())
  if (p.startsWith('/openapi/v3/')) {
    const doc = openapiV3GroupVersion(p.slice('/openapi/v3/'.length))
    if (doc) return sendJSON(res, 200, doc)
  }
  if (parts[0] === 'apis' && parts.length === 2) {
    const g = apiGroup(parts[1] ?? '')
    if (g) return sendJSON(res, 200, g)
  }
  if (parts[0] === 'apis' && parts.length === 3) {
    const l = groupVersionResources(parts[1] ?? '', parts[2] ?? '')
    if (l) return sendJSON(res, 200, l)
  }
  throw notFoundPath()
}
