// The upstream half of an attach session: a WebSocket to the API server's
// `pods/{pod}/attach`, with the kubeconfig's credentials and TLS, offering
// `v5.channel.k8s.io` then `v4.channel.k8s.io` (1.30+ API servers terminate v5
// themselves; older ones proxy v4 to the kubelet — apiserver util/proxy/streamtranslator.go). A refused
// handshake becomes a problem (the upstream Status mapped in one place), so
// the route can still answer plain HTTP before upgrading its client.
import type { Agent, IncomingMessage } from 'node:http'
import { WebSocket, type ClientOptions } from 'ws'
import type { KubeConfig } from '@kubernetes/client-node'
import type { Principal } from '../kube/user-info.ts'
import { impersonationHeadersFor } from '../kube/impersonation.ts'
import { parseStatusBody, problemFromStatus, toProblem } from '../kube/errors.ts'
import { checkName, nameSegment } from '../kube/path-segment.ts'
import { Problems, type ProblemError } from '../errors.ts'
import { USER_AGENT } from '../kube/user-agent.ts'

export const V5_PROTOCOL = 'v5.channel.k8s.io'
export const V4_PROTOCOL = 'v4.channel.k8s.io'
export const UPSTREAM_PROTOCOLS = [V5_PROTOCOL, V4_PROTOCOL] as const
export type ChannelProtocol = typeof V5_PROTOCOL | typeof V4_PROTOCOL

export interface AttachTarget {
  namespace: string
  pod: string
  container?: string
  stdin: boolean
  stdout: boolean
  stderr: boolean
  tty: boolean
}

/** A message that arrived before the relay took over. */
export interface EarlyMessage { data: Buffer, isBinary: boolean }

export interface UpstreamAttach {
  socket: WebSocket
  protocol: ChannelProtocol
  /** Messages received between the handshake and `takeOver()` (the socket is paused meanwhile). */
  takeOver (): EarlyMessage[]
}

export interface UpstreamConnectorOptions {
  kubeConfig: KubeConfig
  maxPayload: number
  handshakeTimeoutMs?: number
}

const MAX_ERROR_BODY = 64 * 1024

/** `/api/v1/namespaces/NS/pods/POD/attach?container=…&stdin=true…` (false flags omitted, as kubectl does). */
export function attachPath (t: AttachTarget): string {
  const q = new URLSearchParams()
  if (t.container) q.set('container', checkName('container', t.container))
  if (t.stdin) q.set('stdin', 'true')
  if (t.stdout) q.set('stdout', 'true')
  if (t.stderr) q.set('stderr', 'true')
  if (t.tty) q.set('tty', 'true')
  return `/api/v1/namespaces/${nameSegment('namespace', t.namespace)}/pods/${nameSegment('pod', t.pod)}/attach?${q.toString()}`
}

async function readBody (res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  return await new Promise(resolve => {
    const done = (): void => resolve(Buffer.concat(chunks).toString('utf8'))
    res.on('data', (c: Buffer) => {
      if (size < MAX_ERROR_BODY) chunks.push(c)
      size += c.length
    })
    res.on('end', done)
    res.on('error', done)
    res.on('close', done)
  })
}

/**
 * A refused attach handshake as a problem. The API server answers with a Status; a plain-text
 * body is the kubelet's own answer passed through the upgrade-aware proxy (pre-1.30 path, or
 * non-v5 protocols: pkg/kubelet/cri/streaming/errors.go WriteError writes err.Error() with 500),
 * and so is a 500 Status (error dialing the kubelet): neither means the API server is
 * unavailable, so both are a 502 naming what the node said.
 */
export function handshakeProblem (code: number, status: ReturnType<typeof parseStatusBody>, body: string, retryAfter?: string): ProblemError {
  if (!status) {
    const text = body.trim().slice(0, 300)
    return Problems.badGateway(text ? `The kubelet refused the attach: ${text}` : `The Kubernetes API server answered ${code} to the attach.`, { upstreamStatus: code })
  }
  if (code === 500) return Problems.badGateway(`The kubelet could not attach: ${status.message ?? 'internal error'}`, { kubernetesReason: status.reason, upstreamStatus: code })
  return problemFromStatus(code, status, retryAfter)
}

export class UpstreamConnector {
  readonly #kc: KubeConfig
  readonly #maxPayload: number
  readonly #timeoutMs: number
  /** One TLS agent for the kubeconfig's CA/client cert; credentials are re-applied per session (they may rotate). */
  #agent: Agent | undefined

  constructor (opts: UpstreamConnectorOptions) {
    this.#kc = opts.kubeConfig
    this.#maxPayload = opts.maxPayload
    this.#timeoutMs = opts.handshakeTimeoutMs ?? 10_000
  }

  /** TLS, credentials and impersonation headers for one request to the API server (https.request or ws). */
  async requestOptions (impersonate: Principal | undefined): Promise<ClientOptions> {
    const opts: ClientOptions & { headers?: Record<string, string | string[]> } = {}
    await this.#kc.applyToHTTPSOptions(opts)
    if (this.#agent) opts.agent = this.#agent
    else this.#agent = opts.agent as Agent | undefined
    const headers: Record<string, string | string[]> = { ...(opts.headers ?? {}), 'User-Agent': USER_AGENT }
    if (impersonate) {
      // Repeated names must be separate header lines: an array value does that.
      for (const [k, v] of impersonationHeadersFor(impersonate)) {
        const prev = headers[k]
        headers[k] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [prev]), v]
      }
    }
    return { ...opts, headers: headers as Record<string, string> }
  }

  get server (): string | undefined {
    return this.#kc.getCurrentCluster()?.server
  }

  async #options (impersonate: Principal | undefined): Promise<ClientOptions> {
    return {
      ...await this.requestOptions(impersonate),
      perMessageDeflate: false,
      maxPayload: this.#maxPayload,
      handshakeTimeout: this.#timeoutMs
    }
  }

  /** Opens the upstream WebSocket; rejects with a ProblemError (404, 400, 403, 503 …) when the handshake fails. */
  async connect (target: AttachTarget, impersonate?: Principal): Promise<UpstreamAttach> {
    const server = this.#kc.getCurrentCluster()?.server
    if (!server) throw Problems.internal('No Kubernetes API server is configured.')
    const url = server.replace(/^http/, 'ws').replace(/\/$/, '') + attachPath(target)
    const options = await this.#options(impersonate)
    const socket = new WebSocket(url, [...UPSTREAM_PROTOCOLS], options)
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
        readBody(res).then(body => {
          req.destroy()
          const status = parseStatusBody(body)
          // x/net/websocket refuses an unsupported subprotocol with a bare 403.
          if (res.statusCode === 403 && !status) fail(Problems.badGateway('The Kubernetes API server refused the attach subprotocols (v5/v4.channel.k8s.io).'))
          else fail(handshakeProblem(res.statusCode ?? 502, status, body, res.headers['retry-after']))
        }, () => fail(Problems.badGateway()))
      })
      socket.once('error', err => {
        // ws reports its own handshake timeout as a bare Error: the API server did not answer.
        if (/opening handshake has timed out/i.test(err.message)) fail(Problems.upstreamUnavailable('The Kubernetes API server did not complete the attach handshake in time.', { retryAfter: 5 }))
        else fail(toProblem(err))
      })
      socket.once('open', () => {
        if (settled) return
        settled = true
        socket.removeAllListeners('unexpected-response')
        socket.removeAllListeners('error')
        socket.on('error', () => {}) // the relay installs its own handlers
        socket.pause()
        resolve()
      })
      socket.on('message', buffer)
    })

    const protocol = socket.protocol
    if (protocol !== V5_PROTOCOL && protocol !== V4_PROTOCOL) {
      socket.terminate()
      throw Problems.badGateway(`The Kubernetes API server chose an unsupported attach subprotocol "${protocol}".`)
    }
    return {
      socket,
      protocol,
      takeOver: () => {
        socket.off('message', buffer)
        return early.splice(0)
      }
    }
  }
}
