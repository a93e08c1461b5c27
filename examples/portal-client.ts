// A portal's client for kdebug-gateway: types generated from the gateway's
// OpenAPI document, then plain fetch — no runtime dependency.
//
//   npx openapi-typescript https://kdebug.example.com/openapi.json -o kdebug-api.d.ts
//
// The flow a "Debug" button needs: what may I use here → pick a pod → start an
// ephemeral container → a stream ticket → the attach WebSocket URL → the
// namespace's drops (history, then live). The socket's messages and the SSE
// events are described in openapi/asyncapi.yaml. test/openapi/portal-client.test.ts
// generates the types from openapi/openapi.json and type-checks this file.
import type { components, operations } from './kdebug-api.d.ts'

export type Schemas = components['schemas']
type Params<Op> = Op extends { parameters: infer P } ? P : never
type Query<Op> = Params<Op> extends { query?: infer Q } ? NonNullable<Q> : never
type JsonBody<Op> = Op extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never
type Ok<Op, Status extends number> = Op extends { responses: { [S in Status]: { content: { 'application/json': infer R } } } } ? R : never

export type Whoami = Ok<operations['getWhoami'], 200>
export type Allowed = NonNullable<Whoami['allowed']>
export type PodList = Ok<operations['listPods'], 200>
export type DebugStarted = Ok<operations['createEphemeralContainer'], 201>
export type EphemeralRequest = JsonBody<operations['createEphemeralContainer']>
export type StreamTicket = Ok<operations['createStreamTicket'], 201>
export type DropList = Ok<operations['listNamespaceDrops'], 200>
export type Drop = Schemas['Drop']
export type Problem = Schemas['Problem']

/** A refusal from the gateway: the problem+json body says why (permission, policy rule, field). */
export class GatewayError extends Error {
  constructor (readonly problem: Problem) {
    super(`${problem.title}: ${problem.detail}`)
  }
}

export interface ClientOptions {
  /** https://kdebug.example.com (the page's origin must be in the gateway's server.cors.origins). */
  baseUrl: string
  /** The user's bearer token (an OIDC ID token or a Kubernetes token). */
  token: () => string
  fetch?: typeof fetch
}

function queryString (q: Record<string, string | number | boolean | undefined> = {}): string {
  const s = new URLSearchParams()
  for (const [k, v] of Object.entries(q)) if (v !== undefined) s.set(k, String(v))
  const text = s.toString()
  return text === '' ? '' : `?${text}`
}

const seg = encodeURIComponent

export class KdebugClient {
  readonly #o: ClientOptions
  constructor (opts: ClientOptions) { this.#o = opts }

  async #call<T> (method: 'GET' | 'POST' | 'DELETE', path: string, init: { body?: unknown, headers?: Record<string, string> } = {}): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.#o.token()}`, accept: 'application/json', ...init.headers }
    if (init.body !== undefined) headers['content-type'] = 'application/json'
    const res = await (this.#o.fetch ?? fetch)(this.#o.baseUrl + path, { method, headers, ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}) })
    const body = await res.json() as unknown
    if (!res.ok) throw new GatewayError(body as Problem)
    return body as T
  }

  /** What the debug dialog may offer in a namespace: images, profiles, capabilities, TTLs, whether a reason is required. */
  async allowed (namespace: string): Promise<Allowed | undefined> {
    const query: Query<operations['getWhoami']> = { namespace }
    return (await this.#call<Whoami>('GET', `/v1/whoami${queryString(query)}`)).allowed
  }

  async pods (namespace: string, query: Query<operations['listPods']> = {}): Promise<PodList> {
    return await this.#call<PodList>('GET', `/v1/namespaces/${seg(namespace)}/pods${queryString(query)}`)
  }

  /** Starts an ephemeral debug container; the key makes a retried click safe (same session back). */
  async startDebug (namespace: string, pod: string, body: EphemeralRequest, idempotencyKey: string): Promise<DebugStarted> {
    return await this.#call<DebugStarted>('POST', `/v1/namespaces/${seg(namespace)}/pods/${seg(pod)}/ephemeral-containers`, { body, headers: { 'idempotency-key': idempotencyKey } })
  }

  /** A single-use, 30-second ticket for one stream URL: browsers cannot send headers on WebSocket or EventSource. */
  async ticket (url: string): Promise<StreamTicket> {
    const body: JsonBody<operations['createStreamTicket']> = { url }
    return await this.#call<StreamTicket>('POST', '/v1/stream-tickets', { body })
  }

  /** The WebSocket URL of the session's terminal (kdebug.v1; see openapi/asyncapi.yaml), with a fresh ticket. */
  async attachUrl (started: DebugStarted, size: { cols: number, rows: number }): Promise<string> {
    if (started.attach === undefined) throw new Error('the session has no attachable container')
    const path = `${new URL(started.attach.url, this.#o.baseUrl).pathname}${new URL(started.attach.url, this.#o.baseUrl).search}`
    const url = `${path}${path.includes('?') ? '&' : '?'}cols=${size.cols}&rows=${size.rows}`
    const { ticket } = await this.ticket(url)
    return `${this.#o.baseUrl.replace(/^http/, 'ws')}${url}&ticket=${seg(ticket)}`
  }

  /** The namespace's recent drops as JSON (newest first), e.g. the last ten minutes. */
  async recentDrops (namespace: string, query: Query<operations['listNamespaceDrops']> = {}): Promise<Drop[]> {
    return (await this.#call<DropList>('GET', `/v1/namespaces/${seg(namespace)}/drops${queryString(query)}`)).items
  }

  /** An EventSource URL for the namespace's drops: history from `since` first, then live. */
  async dropStreamUrl (namespace: string, since = '10m'): Promise<string> {
    const url = `/v1/namespaces/${seg(namespace)}/drops${queryString({ since })}`
    const { ticket } = await this.ticket(url)
    return `${this.#o.baseUrl}${url}&ticket=${seg(ticket)}`
  }
}

/** The whole "Debug" button, end to end. */
export async function debugButton (client: KdebugClient, namespace: string, pod: string, reason: string): Promise<{ terminal: string, drops: string }> {
  const allowed = await client.allowed(namespace)
  if (allowed?.rule == null || !allowed.actions.includes('ephemeral')) throw new Error('nothing may be debugged here')
  const picked = (await client.pods(namespace, { limit: 50 })).items.find(p => p.name === pod)
  const target = picked?.containers.find(c => c.state === 'running')?.name
  const image = allowed.images.find(i => i.startsWith('busybox')) ?? 'busybox:1.36'
  const started = await client.startDebug(namespace, pod, {
    image: image.replace(/\*$/, '1.36'),
    ...(target ? { target } : {}),
    ...(allowed.reasonRequired || reason !== '' ? { reason } : {}),
    ttlSeconds: allowed.ttl.defaultSeconds,
    wait: 30
  }, crypto.randomUUID())
  return { terminal: await client.attachUrl(started, { cols: 120, rows: 32 }), drops: await client.dropStreamUrl(namespace) }
}
