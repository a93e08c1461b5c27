// The upstream half of an attach session: a WebSocket to the API server's
// `pods/{pod}/attach` (opened by the one API-server transport,
// src/kube/transport.ts), offering UPSTREAM_PROTOCOLS. A refused handshake is
// a problem, so the route can still answer plain HTTP before upgrading its client.
import type { WebSocket } from 'ws'
import type { KubeConfig } from '@kubernetes/client-node'
import type { Principal } from '../kube/user-info.ts'
import { impersonationHeaderValues } from '../kube/debug-client.ts'
import { checkName, nameSegment } from '../kube/path-segment.ts'
import { openKubeWebSocket, type EarlyMessage } from '../kube/transport.ts'
import { Problems } from '../errors.ts'
import { FrameTap } from './relay/frame-tap.ts'
import { isChannelProtocol, UPSTREAM_PROTOCOLS, type ChannelProtocol } from './protocols.ts'

export interface AttachTarget {
  namespace: string
  pod: string
  container?: string
  stdin: boolean
  stdout: boolean
  stderr: boolean
  tty: boolean
}

export interface UpstreamAttach {
  socket: WebSocket
  protocol: ChannelProtocol
  /** The frame tap under `socket` when the connection was opened for cut-through (relay/frame-tap.ts). */
  tap?: FrameTap
  /** Messages received between the handshake and `takeOver()` (the socket is paused meanwhile). */
  takeOver (): EarlyMessage[]
}

export interface UpstreamConnectorOptions {
  kubeConfig: KubeConfig
  maxPayload: number
  handshakeTimeoutMs?: number
}

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

export class UpstreamConnector {
  readonly #kc: KubeConfig
  readonly #maxPayload: number
  readonly #timeoutMs: number | undefined

  constructor (opts: UpstreamConnectorOptions) {
    this.#kc = opts.kubeConfig
    this.#maxPayload = opts.maxPayload
    this.#timeoutMs = opts.handshakeTimeoutMs
  }

  /**
   * Opens the upstream WebSocket; rejects with a ProblemError (404, 400, 403, 503 …) when the handshake fails.
   * `cutThrough`: the connection gets a frame tap, so a channel client's output can bypass ws's reassembly.
   */
  async connect (target: AttachTarget, impersonate?: Principal, o: { cutThrough?: boolean } = {}): Promise<UpstreamAttach> {
    let tap: FrameTap | undefined
    const maxPayload = this.#maxPayload
    const up = await openKubeWebSocket(this.#kc, attachPath(target), {
      what: 'attach',
      protocols: UPSTREAM_PROTOCOLS,
      maxPayload,
      ...(o.cutThrough === true ? { wrapSocket: (open) => (tap = new FrameTap(open, { maxPayload })) } : {}),
      ...(this.#timeoutMs !== undefined ? { handshakeTimeoutMs: this.#timeoutMs } : {}),
      ...(impersonate ? { headers: impersonationHeaderValues(impersonate) } : {})
    })
    const protocol = up.protocol
    if (!isChannelProtocol(protocol)) {
      up.socket.terminate()
      throw Problems.badGateway(`The Kubernetes API server chose an unsupported attach subprotocol "${protocol}".`)
    }
    return { socket: up.socket, protocol, takeOver: up.takeOver, ...(tap ? { tap } : {}) }
  }
}
