// Small HTTP helpers of the sim: JSON answers, Status errors, request bodies
// decoded the way the API server's serializers accept them.
import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { parse as parseYaml } from 'yaml'
import type { KObject, Status } from '../apimachinery/types.ts'
import { StatusError, badRequest, internalError, unsupportedMediaType } from '../apimachinery/status.ts'
import { PROTOBUF_CONTENT_TYPE, decodeProtobuf } from '../apimachinery/protobuf.ts'

/** The API server's default request body limit (3 MiB). */
const MAX_BODY = 3 * 1024 * 1024

export function sendJSON (res: ServerResponse, code: number, body: unknown): void {
  if (res.headersSent) {
    res.end()
    return
  }
  const text = JSON.stringify(body) + '\n'
  res.writeHead(code, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-cache, private',
    'Audit-Id': randomUUID()
  })
  res.end(text)
}

export function toStatusError (err: unknown): StatusError {
  if (err instanceof StatusError) return err
  return internalError(err instanceof Error ? err.message : String(err))
}

export function sendError (res: ServerResponse, err: unknown): void {
  const se = toStatusError(err)
  const headers: Record<string, string> = {}
  if (se.status.details?.retryAfterSeconds) headers['Retry-After'] = String(se.status.details.retryAfterSeconds)
  for (const [k, v] of Object.entries(headers)) if (!res.headersSent) res.setHeader(k, v)
  sendJSON(res, se.code, se.status)
}

/** Raw HTTP error answer on an upgrade socket (before any WebSocket handshake). */
export function writeSocketError (socket: import('node:stream').Duplex, err: unknown): void {
  const st: Status = toStatusError(err).status
  const body = JSON.stringify(st) + '\n'
  const reason = ({ 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 500: 'Internal Server Error', 503: 'Service Unavailable', 429: 'Too Many Requests' } as Record<number, string>)[st.code] ?? 'Error'
  socket.end(`HTTP/1.1 ${st.code} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
}

export async function readBody (req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    const b = chunk as Buffer
    size += b.length
    if (size > MAX_BODY) throw new StatusError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Request entity too large: limit is 3145728', reason: 'RequestEntityTooLarge', code: 413 })
    chunks.push(b)
  }
  return Buffer.concat(chunks)
}

export function mediaType (req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
}

/** Decodes a create/update body: JSON, YAML or Kubernetes protobuf. */
export function decodeObject (req: IncomingMessage, body: Buffer): KObject {
  const ct = mediaType(req)
  let value: unknown
  if (ct === '' || ct === 'application/json' || ct === '*/*') {
    try { value = JSON.parse(body.toString('utf8')) } catch (err) {
      throw badRequest(`couldn't get version/kind; json parse error: ${(err as Error).message}`)
    }
  } else if (ct === 'application/yaml') {
    try { value = parseYaml(body.toString('utf8')) } catch (err) {
      throw badRequest(`error converting YAML to JSON: ${(err as Error).message}`)
    }
  } else if (ct === PROTOBUF_CONTENT_TYPE) {
    value = decodeProtobuf(body)
  } else {
    throw unsupportedMediaType(ct)
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw badRequest('Object \'Kind\' is missing in \'' + body.toString('utf8').slice(0, 200) + '\'')
  const o = value as KObject
  if (!o.metadata || typeof o.metadata !== 'object') o.metadata = {}
  return o
}

/** `Accept` asks for a meta.k8s.io Table (what `kubectl get` sends first). */
export function wantsTable (req: IncomingMessage): boolean {
  const accept = req.headers.accept ?? ''
  return accept.split(',').some(part => {
    const params = part.split(';').map(s => s.trim())
    return params.includes('as=Table') && (params.includes('g=meta.k8s.io') || !params.some(p => p.startsWith('g=')))
  })
}

/**
 * A boolean query parameter as the API server converts it
 * (apimachinery Convert_Slice_string_To_bool, requestinfo.go for `watch`):
 * absent is false; "0" and "false" (any case) are false; anything else, even
 * an empty value, is true.
 */
export function queryBool (value: string | null): boolean {
  return value !== null && value !== '0' && value.toLowerCase() !== 'false'
}
