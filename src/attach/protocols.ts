// The attach subprotocols: what clients may speak to the gateway and what the
// gateway offers the API server. The one list of each; the debug responses
// advertise ATTACH_PROTOCOLS.

/** The gateway's own protocol: binary frames are stdin/stdout, text frames JSON control (openapi/attach.md). */
export const KDEBUG_PROTOCOL = 'kdebug.v1'
/** kubernetes/apimachinery pkg/util/remotecommand/constants.go StreamProtocolV5Name: v4 plus a CLOSE signal. */
export const V5_PROTOCOL = 'v5.channel.k8s.io'
/** StreamProtocolV4Name: channel-prefixed binary frames, exit status as a Status on the error channel. */
export const V4_PROTOCOL = 'v4.channel.k8s.io'

export type ChannelProtocol = typeof V5_PROTOCOL | typeof V4_PROTOCOL
export type ClientProtocol = ChannelProtocol | typeof KDEBUG_PROTOCOL

/**
 * What the gateway offers the API server, in preference order: 1.30+ API servers terminate v5
 * themselves, older ones proxy v4 to the kubelet (kubernetes staging/src/k8s.io/apiserver
 * pkg/util/proxy/streamtranslator.go).
 */
export const UPSTREAM_PROTOCOLS: readonly ChannelProtocol[] = [V5_PROTOCOL, V4_PROTOCOL]

/** What clients may speak, as advertised (kdebug.v1 first: it is what a client that offers none gets). */
export const ATTACH_PROTOCOLS: readonly ClientProtocol[] = [KDEBUG_PROTOCOL, V5_PROTOCOL, V4_PROTOCOL]

export function isChannelProtocol (p: string): p is ChannelProtocol {
  return p === V5_PROTOCOL || p === V4_PROTOCOL
}

/** The client subprotocol: the first offered one the gateway speaks (the client's preference); kdebug.v1 when none is offered; false when none fits. */
export function chooseClientProtocol (offered: Iterable<string>): ClientProtocol | false {
  let any = false
  for (const p of offered) {
    any = true
    if ((ATTACH_PROTOCOLS as readonly string[]).includes(p)) return p as ClientProtocol
  }
  return any ? false : KDEBUG_PROTOCOL
}

/** The subprotocols of a Sec-WebSocket-Protocol header (repeated or comma-separated). */
export function offeredProtocols (header: string | string[] | undefined): string[] {
  const raw = Array.isArray(header) ? header.join(',') : header ?? ''
  return raw.split(',').map(s => s.trim()).filter(s => s !== '')
}

/** Kubernetes' WebSocket bearer subprotocol (kubernetes staging/src/k8s.io/apiserver pkg/authentication/request/websocket). */
export const BEARER_PROTOCOL_PREFIX = 'base64url.bearer.authorization.k8s.io.'

/**
 * Moves a `base64url.bearer.authorization.k8s.io.<token>` subprotocol into the
 * Authorization header (when there is none) and removes it from the offered list,
 * so the auth plugin sees an ordinary bearer token and the token is never echoed
 * back as the chosen subprotocol.
 */
export function translateBearerProtocol (headers: Record<string, string | string[] | undefined>): void {
  const offered = offeredProtocols(headers['sec-websocket-protocol'])
  const bearer = offered.filter(p => p.startsWith(BEARER_PROTOCOL_PREFIX))
  if (bearer.length === 0) return
  const rest = offered.filter(p => !p.startsWith(BEARER_PROTOCOL_PREFIX))
  if (rest.length > 0) headers['sec-websocket-protocol'] = rest.join(', ')
  else delete headers['sec-websocket-protocol']
  if (headers.authorization !== undefined || bearer.length !== 1) return
  const encoded = (bearer[0] as string).slice(BEARER_PROTOCOL_PREFIX.length)
  if (!/^[A-Za-z0-9_-]+$/.test(encoded)) return
  const token = Buffer.from(encoded, 'base64url').toString('utf8')
  if (token !== '') headers.authorization = `Bearer ${token}`
}
