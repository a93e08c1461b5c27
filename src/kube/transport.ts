// The one transport for raw calls to the API server the KubeConfig points at:
// HTTP requests (JSON exactly as the server sent it, no Date conversion;
// streamed watches and logs with their ERROR events and 410 bodies intact;
// repeated header lines such as Impersonate-Group) and WebSocket upgrades
// (attach). Server, credentials and TLS come from
// KubeConfig.applyToHTTPSOptions; every call carries the gateway's User-Agent,
// goes through the pooled keep-alive agent and has a timeout; failures that
// carry a Kubernetes Status are mapped to problems here (src/kube/errors.ts).
import http from 'node:http'
import https from 'node:https'
import net, { type Socket } from 'node:net'
import tls from 'node:tls'
import type { Duplex } from 'node:stream'
import { createHash } from 'node:crypto'
import type { KubeConfig } from '@kubernetes/client-node'
import { WebSocket } from 'ws'
import { Problems, type ProblemError } from '../errors.ts'
import { parseStatusBody, problemFromStatus, toProblem, type KubeStatus } from './errors.ts'
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
  /**
   * Writes carry `fieldManager=kdebug-gateway` (server-side apply ownership) unless this is false:
   * reviews are create-only and never stored, and kubectl sends none with them.
   */
  fieldManager?: boolean
  /** Destroy the request when the socket is idle this long (a dead connection, not a slow answer); 0 = never (followed logs). */
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
// must never queue ordinary calls behind them. The idle pool is larger than the
// concurrency a busy replica reaches (each create makes several calls at once
// across users), so a burst does not close and reopen connections.
const MAX_IDLE_SOCKETS = 128

type IdentityParts = ReadonlyArray<string | Buffer | boolean | undefined>

function identityParts (opts: https.RequestOptions, plainHttp: boolean): IdentityParts {
  return [plainHttp, opts.ca as string | Buffer | undefined, opts.cert as string | Buffer | undefined, opts.key as string | Buffer | undefined,
    opts.pfx as string | Buffer | undefined, opts.passphrase, opts.rejectUnauthorized, opts.servername]
}

const sameParts = (a: IdentityParts, b: IdentityParts): boolean =>
  a.length === b.length && a.every((v, i) => {
    const w = b[i]
    return Buffer.isBuffer(v) && Buffer.isBuffer(w) ? v.equals(w) : v === w
  })

// applyToHTTPSOptions returns new Buffers on every call (it re-reads files, so a rotated
// certificate shows up), so the last identity is remembered by content: comparing bytes is
// far cheaper than hashing them on every call.
const lastIdentity = new WeakMap<KubeConfig, { parts: IdentityParts, key: string }>()

function tlsIdentity (kubeConfig: KubeConfig, opts: https.RequestOptions, plainHttp: boolean): string {
  const parts = identityParts(opts, plainHttp)
  const last = lastIdentity.get(kubeConfig)
  if (last !== undefined && sameParts(last.parts, parts)) return last.key
  const key = createHash('sha256').update(parts.map(v => v === undefined ? '' : Buffer.isBuffer(v) ? v.toString('base64') : String(v)).join('\0')).digest('hex')
  lastIdentity.set(kubeConfig, { parts, key })
  return key
}

function keepAliveAgent (kubeConfig: KubeConfig, opts: https.RequestOptions, plainHttp: boolean): http.Agent {
  let byIdentity = keepAliveAgents.get(kubeConfig)
  if (!byIdentity) keepAliveAgents.set(kubeConfig, byIdentity = new Map())
  const key = tlsIdentity(kubeConfig, opts, plainHttp)
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
  cachedOptions.delete(kubeConfig)
}

interface Prepared {
  url: URL
  options: https.RequestOptions & { headers: http.OutgoingHttpHeaders }
}

type BaseOptions = https.RequestOptions & { headers: Record<string, string> }

/**
 * How long one reading of the kubeconfig's credentials and TLS files serves calls. client-node's
 * applyToHTTPSOptions re-reads certificate files and builds a new Agent on every call (a tenth
 * of a create's CPU here); a second keeps rotation prompt (client-go re-reads a token file once
 * a minute: kubernetes staging/src/k8s.io/client-go/transport/token_source.go,
 * NewCachedFileTokenSource). A changed kubeconfig (another cluster or user object) is read at once.
 */
const CREDENTIALS_TTL_MS = 1000

interface CachedOptions {
  cluster: object
  user: object | null
  readAtMs: number
  options: Promise<BaseOptions>
}
const cachedOptions = new WeakMap<KubeConfig, CachedOptions>()

async function readOptions (kubeConfig: KubeConfig, plainHttp: boolean): Promise<BaseOptions> {
  const reqOpts: BaseOptions = { headers: { accept: 'application/json', 'user-agent': USER_AGENT } }
  await kubeConfig.applyToHTTPSOptions(reqOpts)
  // Proxied clusters keep client-node's agent (it speaks SOCKS/HTTP proxies).
  if (!kubeConfig.getCurrentCluster()?.proxyUrl) reqOpts.agent = keepAliveAgent(kubeConfig, reqOpts, plainHttp)
  return reqOpts
}

/** The credentials, TLS and agent for the current cluster and user, read at most once per CREDENTIALS_TTL_MS (one read for concurrent calls). */
async function baseOptions (kubeConfig: KubeConfig, cluster: object, plainHttp: boolean): Promise<BaseOptions> {
  const user = kubeConfig.getCurrentUser()
  const now = Date.now()
  const cached = cachedOptions.get(kubeConfig)
  if (cached !== undefined && cached.cluster === cluster && cached.user === user && now - cached.readAtMs < CREDENTIALS_TTL_MS) return await cached.options
  const entry: CachedOptions = { cluster, user, readAtMs: now, options: readOptions(kubeConfig, plainHttp) }
  cachedOptions.set(kubeConfig, entry)
  // A failed read (an exec plugin that failed) is not kept: the next call tries again.
  entry.options.catch(() => { if (cachedOptions.get(kubeConfig) === entry) cachedOptions.delete(kubeConfig) })
  return await entry.options
}

/** URL, TLS, credentials, agent and headers for one call. */
async function prepare (kubeConfig: KubeConfig, path: string, headers: HeaderValues | undefined): Promise<Prepared> {
  const cluster = kubeConfig.getCurrentCluster()
  if (!cluster?.server) throw new NoClusterError()
  const url = new URL(cluster.server.replace(/\/+$/, '') + path)
  const base = await baseOptions(kubeConfig, cluster, url.protocol === 'http:')
  return { url, options: { ...base, headers: { ...base.headers, ...headers } } }
}

/** Opens a request and resolves with the response head; the caller reads (or streams) the body. */
export async function openKubeRequest (kubeConfig: KubeConfig, path: string, init: OpenOptions): Promise<http.IncomingMessage> {
  const method = init.method ?? 'GET'
  const { url, options } = await prepare(kubeConfig, path, init.headers)
  const query = init.fieldManager === false ? init.query : withFieldManager(method, init.query)
  if (query) url.search = query.toString()
  const headers = options.headers
  const payload = init.body === undefined ? undefined : Buffer.from(JSON.stringify(init.body))
  if (payload) {
    headers['content-type'] = init.contentType ?? 'application/json'
    headers['content-length'] = String(payload.length)
  }
  const transport = url.protocol === 'http:' ? http : https
  return await new Promise((resolve, reject) => {
    const req = transport.request(url, { ...options, method, headers, signal: init.signal }, resolve)
    if (init.idleMs > 0) req.setTimeout(init.idleMs, () => req.destroy(Object.assign(new Error(`no data from the API server for ${init.idleMs} ms`), { code: 'ETIMEDOUT' })))
    req.on('error', reject)
    req.end(payload)
  })
}

/**
 * The body as text. With maxBytes, only that much is kept (the rest is read and dropped):
 * for error bodies, which are small Statuses unless something misbehaves. Read with 'data'
 * events rather than an async iterator: every API call ends here, and the iterator's
 * promise per chunk cost more than the rest of the read.
 */
export async function readBody (res: http.IncomingMessage, maxBytes = Infinity): Promise<string> {
  return await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    res.on('data', (chunk: Buffer) => {
      if (size < maxBytes) chunks.push(size + chunk.length > maxBytes ? chunk.subarray(0, maxBytes - size) : chunk)
      size += chunk.length
    })
    res.once('end', () => { resolve(chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8')) })
    res.once('error', reject)
    // A connection that closes before the end is an error too (the iterator rejected with ERR_STREAM_PREMATURE_CLOSE).
    res.once('close', () => { if (!res.complete) reject(Object.assign(new Error('the API server closed the connection before the end of the answer'), { code: 'ECONNRESET' })) })
  })
}

/** Error bodies are kept up to this size (a Status is a few hundred bytes). */
export const MAX_ERROR_BODY = 64 * 1024

/** A non-2xx answer as a problem: the Status in its body mapped by problemFromStatus; a body that cannot be read is a 502. */
export async function failureOf (res: http.IncomingMessage): Promise<ProblemError> {
  let body: string
  try { body = await readBody(res, MAX_ERROR_BODY) } catch { return Problems.badGateway() }
  return problemFromStatus(res.statusCode ?? 502, parseStatusBody(body), headerValue(res.headers['retry-after']))
}

/**
 * The parsed JSON of a 2xx answer. Any other status is thrown as `failure(res)` (default: its
 * Status mapped by failureOf); a body that is not JSON is a 502.
 */
export async function readJson<T> (res: http.IncomingMessage, failure: (res: http.IncomingMessage) => Promise<Error> = failureOf): Promise<T> {
  const code = res.statusCode ?? 0
  if (code < 200 || code >= 300) throw await failure(res)
  const text = await readBody(res)
  try {
    return JSON.parse(text) as T
  } catch {
    throw Problems.badGateway('The Kubernetes API server answered with invalid JSON.')
  }
}

function headerValue (v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v
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

/** A message that arrived on an upgraded connection before its user took over. */
export interface EarlyMessage { data: Buffer, isBinary: boolean }

export interface KubeWebSocket {
  /** Open and paused: nothing is read until the caller resumes it. */
  socket: WebSocket
  /** The subprotocol the API server chose. */
  protocol: string
  /** Stops buffering and hands over what arrived meanwhile; install handlers first, then resume. */
  takeOver: () => EarlyMessage[]
}

export interface WebSocketOptions {
  /** Subprotocols offered, in order of preference. */
  protocols: readonly string[]
  /** Extra headers (impersonation); array values go out as separate header lines. */
  headers?: HeaderValues
  /** Largest message accepted (close 1009 beyond). */
  maxPayload: number
  /** The handshake must complete within this (default 10 s). */
  handshakeTimeoutMs?: number
  /** What is being opened, for refusal messages ("attach", "exec"). */
  what: string
  /**
   * Puts a stream of its own between the connection and ws (ws's `createConnection` option): attach's
   * cut-through (src/attach/relay/frame-tap.ts). Such a connection is opened for this socket alone,
   * not taken from the keep-alive pool (an upgraded connection never returns to it anyway). Not
   * applied through a proxy (proxyUrl): the socket is then the caller's plain ws connection.
   */
  wrapSocket?: (open: (extra: Partial<net.NetConnectOpts & tls.ConnectionOptions>) => Socket) => Duplex
}

/** ws's own connect functions (ws lib/websocket.js netConnect, tlsConnect): `path` is the request's, not a Unix socket. */
function connectFor (secure: boolean, wrap: NonNullable<WebSocketOptions['wrapSocket']>): (opts: tls.ConnectionOptions & net.NetConnectOpts & { socketPath?: string, host?: string }) => Duplex {
  return (opts) => wrap((extra) => {
    if (!secure) return net.connect({ ...opts, path: opts.socketPath, ...extra } as net.NetConnectOpts)
    const servername = opts.servername !== undefined && opts.servername !== '' ? opts.servername : net.isIP(opts.host ?? '') !== 0 ? '' : opts.host
    return tls.connect({ ...opts, path: undefined, servername, ...extra } as tls.ConnectionOptions)
  })
}

/**
 * A refused upgrade as a problem. The API server answers with a Status; a plain-text body is
 * the kubelet's own answer passed through the upgrade-aware proxy (pre-1.30 path, or non-v5
 * protocols: kubernetes pkg/kubelet/cri/streaming/errors.go WriteError writes err.Error() with
 * 500), and so is a 500 Status (error dialing the kubelet): neither means the API server is
 * unavailable, so both are a 502 naming what the node said.
 */
export function upgradeRefusal (what: string, code: number, status: KubeStatus | undefined, body: string, retryAfter?: string): ProblemError {
  if (!status) {
    const text = body.trim().slice(0, 300)
    return Problems.badGateway(text ? `The kubelet refused the ${what}: ${text}` : `The Kubernetes API server answered ${code} to the ${what}.`, { upstreamStatus: code })
  }
  if (code === 500) return Problems.badGateway(`The kubelet could not ${what}: ${status.message ?? 'internal error'}`, { kubernetesReason: status.reason, upstreamStatus: code })
  return problemFromStatus(code, status, retryAfter)
}

const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000

/**
 * Opens a WebSocket to the API server (ws:// or wss:// from the cluster's server URL).
 * Resolves once the handshake completes, with the socket paused and early messages buffered;
 * rejects with a ProblemError (the refusal's Status mapped by upgradeRefusal, 503 when the
 * API server does not answer in time).
 */
export async function openKubeWebSocket (kubeConfig: KubeConfig, path: string, o: WebSocketOptions): Promise<KubeWebSocket> {
  let prepared: Prepared
  try {
    prepared = await prepare(kubeConfig, path, o.headers)
  } catch (err) {
    if (err instanceof NoClusterError) throw Problems.internal('No Kubernetes API server is configured.')
    throw toProblem(err)
  }
  const { url, options } = prepared
  url.protocol = url.protocol === 'http:' ? 'ws:' : 'wss:'
  // ws sets its own Connection/Upgrade/Sec-WebSocket-* headers; the API server needs no Accept.
  const { accept: _accept, ...headers } = options.headers
  const socket = new WebSocket(url, [...o.protocols], {
    ...options,
    // A proxied cluster keeps client-node's agent (the proxy's protocol), so no stream of our own under ws.
    ...(o.wrapSocket && !kubeConfig.getCurrentCluster()?.proxyUrl ? { agent: undefined, createConnection: connectFor(url.protocol === 'wss:', o.wrapSocket) as never } : {}),
    headers: headers as Record<string, string>,
    perMessageDeflate: false,
    maxPayload: o.maxPayload,
    handshakeTimeout: o.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS
  })
  const early: EarlyMessage[] = []
  const buffer = (data: Buffer, isBinary: boolean): void => { early.push({ data, isBinary }) }

  await new Promise<void>((resolve, reject) => {
    let settled = false
    const fail = (p: ProblemError): void => {
      if (settled) return
      settled = true
      socket.removeAllListeners()
      socket.on('error', () => {})
      socket.terminate()
      reject(p)
    }
    socket.once('unexpected-response', (req, res) => {
      readBody(res, MAX_ERROR_BODY).catch(() => '').then(body => {
        req.destroy()
        const status = parseStatusBody(body)
        // x/net/websocket refuses an unsupported subprotocol with a bare 403.
        if (res.statusCode === 403 && !status) fail(Problems.badGateway(`The Kubernetes API server refused the ${o.what} subprotocols (${o.protocols.join(', ')}).`))
        else fail(upgradeRefusal(o.what, res.statusCode ?? 502, status, body, headerValue(res.headers['retry-after'])))
      }, () => fail(Problems.badGateway()))
    })
    socket.once('error', err => {
      // ws reports its own handshake timeout as a bare Error: the API server did not answer.
      if (/opening handshake has timed out/i.test(err.message)) fail(Problems.upstreamUnavailable(`The Kubernetes API server did not complete the ${o.what} handshake in time.`, { retryAfter: 5 }))
      else fail(toProblem(err))
    })
    socket.once('open', () => {
      if (settled) return
      settled = true
      socket.removeAllListeners('unexpected-response')
      socket.removeAllListeners('error')
      socket.on('error', () => {}) // the user installs its own handlers
      socket.pause()
      resolve()
    })
    socket.on('message', buffer)
  })

  return {
    socket,
    protocol: socket.protocol,
    takeOver: () => {
      socket.off('message', buffer)
      return early.splice(0)
    }
  }
}
