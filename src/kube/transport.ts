// Raw requests to the API server the KubeConfig points at, for the calls that
// need what client-node's generated clients don't give: JSON exactly as the
// server sent it (no Date conversion), streamed watches with their ERROR
// events and 410 bodies intact, and repeated header lines (Impersonate-Group).
// Server, credentials and TLS come from KubeConfig.applyToHTTPSOptions.
import http from 'node:http'
import https from 'node:https'
import { createHash } from 'node:crypto'
import type { KubeConfig } from '@kubernetes/client-node'
import { USER_AGENT, withFieldManager } from './user-agent.ts'

export type HeaderValues = Record<string, string | string[]>

export interface OpenOptions {
  method?: string
  query?: URLSearchParams
  /** JSON-encoded when given. */
  body?: unknown
  contentType?: string
  /** Extra headers; array values go out as separate header lines. */
  headers?: HeaderValues
  signal?: AbortSignal
  /** Destroy the request when the socket is idle this long (a dead connection, not a slow answer). */
  idleMs: number
}

export class NoClusterError extends Error {
  constructor () {
    super('kubeconfig has no current cluster')
    this.name = 'NoClusterError'
  }
}

// client-node's applyToHTTPSOptions builds a fresh, non-keep-alive Agent for
// every call: a new TCP connection and TLS handshake per request to the API
// server. Reuse one keep-alive agent per KubeConfig and TLS identity instead
// (the identity is part of the key, so rotated client certificates get a new
// agent). A cache, not state: losing it only costs new connections.
const keepAliveAgents = new WeakMap<KubeConfig, Map<string, http.Agent>>()
// No maxSockets: watches (drops, `wait`) hold a socket each for minutes and
// must never queue ordinary calls behind them.
const MAX_IDLE_SOCKETS = 32

function tlsIdentity (opts: https.RequestOptions, plainHttp: boolean): string {
  const parts = [plainHttp, opts.ca, opts.cert, opts.key, opts.pfx, opts.passphrase, opts.rejectUnauthorized, opts.servername]
    .map(v => v === undefined ? '' : Buffer.isBuffer(v) ? v.toString('base64') : String(v))
  return createHash('sha256').update(parts.join('\0')).digest('hex')
}

function keepAliveAgent (kubeConfig: KubeConfig, opts: https.RequestOptions, plainHttp: boolean): http.Agent {
  let byIdentity = keepAliveAgents.get(kubeConfig)
  if (!byIdentity) keepAliveAgents.set(kubeConfig, byIdentity = new Map())
  const key = tlsIdentity(opts, plainHttp)
  let agent = byIdentity.get(key)
  if (!agent) {
    const common = { keepAlive: true, maxFreeSockets: MAX_IDLE_SOCKETS, scheduling: 'lifo' as const }
    agent = plainHttp
      ? new http.Agent(common)
      : new https.Agent({ ...common, ca: opts.ca, cert: opts.cert, key: opts.key, pfx: opts.pfx, passphrase: opts.passphrase, rejectUnauthorized: opts.rejectUnauthorized, servername: opts.servername })
    byIdentity.set(key, agent)
  }
  return agent
}

/** Closes the pooled connections of a KubeConfig (on shutdown, so the process can exit). */
export function closeKubeConnections (kubeConfig: KubeConfig): void {
  for (const agent of keepAliveAgents.get(kubeConfig)?.values() ?? []) agent.destroy()
  keepAliveAgents.delete(kubeConfig)
}

/** Opens a request and resolves with the response head; the caller reads (or streams) the body. */
export async function openKubeRequest (kubeConfig: KubeConfig, path: string, init: OpenOptions): Promise<http.IncomingMessage> {
  const server = kubeConfig.getCurrentCluster()?.server
  if (!server) throw new NoClusterError()
  const url = new URL(server.replace(/\/+$/, '') + path)
  const method = init.method ?? 'GET'
  const query = withFieldManager(method, init.query)
  if (query) url.search = query.toString()
  const reqOpts: https.RequestOptions & { headers: Record<string, string> } = { method, headers: { accept: 'application/json', 'user-agent': USER_AGENT } }
  await kubeConfig.applyToHTTPSOptions(reqOpts)
  // Proxied clusters keep client-node's agent (it speaks SOCKS/HTTP proxies).
  if (!kubeConfig.getCurrentCluster()?.proxyUrl) reqOpts.agent = keepAliveAgent(kubeConfig, reqOpts, url.protocol === 'http:')
  const headers: http.OutgoingHttpHeaders = { ...reqOpts.headers, ...init.headers }
  const payload = init.body === undefined ? undefined : Buffer.from(JSON.stringify(init.body))
  if (payload) {
    headers['content-type'] = init.contentType ?? 'application/json'
    headers['content-length'] = String(payload.length)
  }
  const transport = url.protocol === 'http:' ? http : https
  return await new Promise((resolve, reject) => {
    const req = transport.request(url, { ...reqOpts, headers, signal: init.signal }, resolve)
    req.setTimeout(init.idleMs, () => req.destroy(Object.assign(new Error(`no data from the API server for ${init.idleMs} ms`), { code: 'ETIMEDOUT' })))
    req.on('error', reject)
    req.end(payload)
  })
}

export async function readBody (res: http.IncomingMessage): Promise<string> {
  res.setEncoding('utf8')
  let body = ''
  for await (const chunk of res) body += chunk as string
  return body
}

/**
 * The JSON values of a watch response, one per event. The server writes them
 * newline-terminated (Go's json.Encoder); HTTP chunks do not align with them.
 * Throws SyntaxError on a malformed event.
 */
export async function * watchEvents<T> (res: http.IncomingMessage): AsyncGenerator<T> {
  res.setEncoding('utf8')
  let pending = ''
  for await (const chunk of res) {
    pending += chunk as string
    let nl: number
    while ((nl = pending.indexOf('\n')) !== -1) {
      const line = pending.slice(0, nl).trim()
      pending = pending.slice(nl + 1)
      if (line !== '') yield JSON.parse(line) as T
    }
  }
}
