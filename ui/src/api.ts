// The gateway's HTTP API as the console uses it: a bearer token on every
// call, problem+json errors turned into ApiError (the problem's own words,
// never the token). Shapes follow openapi/openapi.json.

export interface Problem {
  type?: string
  title?: string
  status?: number
  detail?: string
  errors?: Array<{ field?: string, message?: string }>
  permission?: string
  rule?: string
}

export class ApiError extends Error {
  readonly status: number
  readonly problem: Problem
  constructor (status: number, problem: Problem) {
    super(describeProblem(status, problem))
    this.name = 'ApiError'
    this.status = status
    this.problem = problem
  }
}

/** One readable sentence: detail, then the fields or the permission it names. */
export function describeProblem (status: number, p: Problem): string {
  const head = p.detail ?? p.title ?? `HTTP ${status}`
  const fields = (p.errors ?? []).map(e => [e.field, e.message].filter(Boolean).join(': ')).filter(s => s !== '')
  const extra = fields.length > 0 ? ` (${fields.join('; ')})` : p.permission ? ` (needs ${p.permission})` : ''
  return head + extra
}

export interface Whoami {
  user: string
  groups: string[]
  authenticatedBy?: string
  namespace?: string
  can?: Record<string, boolean>
  allowed?: Allowed
}

export interface Allowed {
  rule: string | null
  actions: string[]
  images: string[]
  profiles: string[]
  capabilities: string[]
  privileged: boolean
  nodeDebug: boolean
  podSecurity?: string
  secretEnv?: boolean
  attachOthers: boolean
  ttl: { maxSeconds: number, defaultSeconds: number }
  reasonRequired: boolean
  sessions: { used: number, limit: number }
}

export type ContainerState = 'running' | 'waiting' | 'terminated' | string

export interface PodContainer {
  name: string
  image: string
  state: ContainerState
  ready?: boolean
  restarts?: number
  tty?: boolean
  stdin?: boolean
}

export interface PodEphemeralContainer {
  name: string
  image: string
  state: ContainerState
  tty?: boolean
  stdin?: boolean
  targetContainer?: string
  session?: { id: string, requester: string, reason?: string, expiresAt?: string, verified: boolean }
}

export interface Pod {
  name: string
  phase: string
  node?: string
  createdAt?: string
  containers: PodContainer[]
  ephemeralContainers: PodEphemeralContainer[]
}

export interface PodList { items: Pod[], continue?: string }

export interface Session {
  id: string
  kind: 'ephemeral' | 'copy' | 'node'
  namespace: string
  pod: string
  container?: string
  node?: string
  image?: string
  profile?: string
  state: string
  status?: { reason?: string, message?: string, exitCode?: number }
  reason?: string
  ticket?: string
  requestedBy: string
  verified: boolean
  createdAt?: string
  expiresAt?: string
}

export interface CreateResponse {
  session: Session
  attach?: { url: string, protocols: string[] }
  warnings: Array<{ code: string, message: string }>
}

export interface Drop {
  id: string
  time: string | null
  namespace: string
  pod: string | null
  direction: 'ingress' | 'egress' | null
  peer: string | null
  peerIP: string | null
  port: number | null
  protocol: string | null
  count: number
  source: string
  dropReason: string | null
  policies: string[]
  message: string
}

export interface DebugRequest {
  image: string
  target?: string
  profile?: string
  capabilities?: { add: string[] }
  reason?: string
  ttlSeconds?: number
  stdin: true
  tty: true
  wait: number
}

export interface UiConfig {
  namespaces: string[]
  nodeDebugNamespace: string
  oidc?: { issuer: string, clientId: string, scopes: string[] }
}

const enc = encodeURIComponent

export class Api {
  readonly #token: string
  readonly #base: string

  constructor (token: string, base = '') {
    this.#token = token
    this.#base = base
  }

  async #call (method: string, path: string, body?: unknown, accept = 'application/json'): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.#token}`, accept }
    if (body !== undefined) headers['content-type'] = 'application/json'
    const res = await fetch(this.#base + path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
    if (!res.ok) {
      const problem = await res.json().catch(() => ({})) as Problem
      throw new ApiError(res.status, problem)
    }
    return res
  }

  async json<T> (method: string, path: string, body?: unknown): Promise<T> {
    return await (await this.#call(method, path, body)).json() as T
  }

  async whoami (namespace?: string): Promise<Whoami> {
    return await this.json('GET', `/v1/whoami${namespace ? `?namespace=${enc(namespace)}` : ''}`)
  }

  async pods (namespace: string, cont?: string): Promise<PodList> {
    return await this.json('GET', `/v1/namespaces/${enc(namespace)}/pods?limit=100${cont ? `&continue=${enc(cont)}` : ''}`)
  }

  async sessions (): Promise<Session[]> {
    return (await this.json<{ items: Session[] }>('GET', '/v1/sessions')).items
  }

  async deleteSession (s: Pick<Session, 'id' | 'namespace'>): Promise<Session> {
    return await this.json('DELETE', `/v1/sessions/${enc(s.id)}?namespace=${enc(s.namespace)}`)
  }

  async createEphemeral (namespace: string, pod: string, body: DebugRequest): Promise<CreateResponse> {
    return await this.json('POST', `/v1/namespaces/${enc(namespace)}/pods/${enc(pod)}/ephemeral-containers`, body)
  }

  async createNodePod (node: string, body: DebugRequest): Promise<CreateResponse> {
    return await this.json('POST', `/v1/nodes/${enc(node)}/debug-pods`, body)
  }

  /** A single-use ticket for a stream URL: browsers cannot send Authorization on WebSocket or EventSource. */
  async ticket (url: string): Promise<string> {
    return (await this.json<{ ticket: string }>('POST', '/v1/stream-tickets', { url })).ticket
  }

  async recording (s: Pick<Session, 'id' | 'namespace'>): Promise<string> {
    return await (await this.#call('GET', `/v1/sessions/${enc(s.id)}/recording?namespace=${enc(s.namespace)}`, undefined, 'application/x-asciicast')).text()
  }
}
