// LIST and WATCH of core/v1 Events as raw JSON over node:http(s). Not
// CoreV1Api: its list deserialises timestamps into Date objects (so listed and
// watched drops would differ), and client-node's Watch hides the Status body
// of an HTTP 410 and aborts after 30 s without data. The KubeConfig still
// supplies the server, credentials and TLS agent (applyToHTTPSOptions).
import http from 'node:http'
import https from 'node:https'
import type { KubeConfig } from '@kubernetes/client-node'

export interface EventScope {
  /** undefined = all namespaces (/api/v1/events). */
  namespace?: string
  fieldSelector: string
}

export interface EventListPage {
  items: unknown[]
  resourceVersion: string
  continue?: string
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR' | string
  object: unknown
}

/** A failed call; `status` 410 (HTTP or ERROR event) means the resourceVersion is too old. */
export class UpstreamError extends Error {
  readonly status: number | undefined
  readonly reason: string | undefined

  constructor (message: string, status?: number, reason?: string) {
    super(message)
    this.name = 'UpstreamError'
    this.status = status
    this.reason = reason
  }

  get expired (): boolean { return this.status === 410 }
}

export interface EventsUpstream {
  list (scope: EventScope, page: { limit: number, continue?: string, signal: AbortSignal }): Promise<EventListPage>
  /** Resolves when the server ends the stream normally; rejects with UpstreamError (or a network error). */
  watch (scope: EventScope, from: { resourceVersion: string, timeoutSeconds: number, signal: AbortSignal }, onEvent: (event: WatchEvent) => void): Promise<void>
}

function eventsPath (namespace: string | undefined): string {
  return namespace === undefined ? '/api/v1/events' : `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`
}

/** The Kubernetes Status in an error body, without ever echoing anything else of it. */
function statusOf (body: string): { message?: string, reason?: string, code?: number } {
  try {
    const s = JSON.parse(body) as Record<string, unknown>
    return {
      message: typeof s.message === 'string' ? s.message : undefined,
      reason: typeof s.reason === 'string' ? s.reason : undefined,
      code: typeof s.code === 'number' ? s.code : undefined
    }
  } catch {
    return {}
  }
}

export function upstreamErrorFromStatus (status: unknown, fallbackCode?: number): UpstreamError {
  const s = (typeof status === 'object' && status !== null ? status : {}) as Record<string, unknown>
  const code = typeof s.code === 'number' ? s.code : fallbackCode
  const reason = typeof s.reason === 'string' ? s.reason : undefined
  const message = typeof s.message === 'string' ? s.message : `API server answered ${code ?? 'an error'}`
  return new UpstreamError(message, code, reason)
}

interface RequestOptions extends https.RequestOptions {
  headers?: Record<string, string>
}

/** The real upstream: the API server the KubeConfig points at. */
export function kubeEventsUpstream (kubeConfig: KubeConfig, opts: { requestTimeoutMs?: number } = {}): EventsUpstream {
  const requestTimeoutMs = opts.requestTimeoutMs ?? 15000

  async function open (path: string, query: URLSearchParams, signal: AbortSignal, idleMs: number): Promise<http.IncomingMessage> {
    const server = kubeConfig.getCurrentCluster()?.server
    if (!server) throw new UpstreamError('kubeconfig has no current cluster')
    const url = new URL(server.replace(/\/+$/, '') + path)
    url.search = query.toString()
    const options: RequestOptions = { method: 'GET', headers: { accept: 'application/json' } }
    await kubeConfig.applyToHTTPSOptions(options)
    const transport = url.protocol === 'http:' ? http : https
    return await new Promise((resolve, reject) => {
      const req = transport.request(url, { ...options, signal }, resolve)
      // an idle socket (no bytes, not even a bookmark) means a dead connection
      req.setTimeout(idleMs, () => req.destroy(new UpstreamError(`no data from the API server for ${idleMs} ms`)))
      req.on('error', reject)
      req.end()
    })
  }

  async function readAll (res: http.IncomingMessage): Promise<string> {
    res.setEncoding('utf8')
    let body = ''
    for await (const chunk of res) body += chunk as string
    return body
  }

  async function failure (res: http.IncomingMessage): Promise<UpstreamError> {
    const body = await readAll(res).catch(() => '')
    const s = statusOf(body)
    return new UpstreamError(s.message ?? `API server answered ${res.statusCode ?? 0}`, res.statusCode, s.reason)
  }

  return {
    async list (scope, page) {
      const query = new URLSearchParams({ fieldSelector: scope.fieldSelector, limit: String(page.limit) })
      if (page.continue) query.set('continue', page.continue)
      const res = await open(eventsPath(scope.namespace), query, page.signal, requestTimeoutMs)
      if (res.statusCode !== 200) throw await failure(res)
      const list = JSON.parse(await readAll(res)) as { items?: unknown[], metadata?: { resourceVersion?: string, continue?: string } }
      return {
        items: Array.isArray(list.items) ? list.items : [],
        resourceVersion: list.metadata?.resourceVersion ?? '',
        continue: list.metadata?.continue || undefined
      }
    },

    async watch (scope, from, onEvent) {
      const query = new URLSearchParams({
        watch: 'true',
        fieldSelector: scope.fieldSelector,
        resourceVersion: from.resourceVersion,
        allowWatchBookmarks: 'true',
        timeoutSeconds: String(from.timeoutSeconds)
      })
      // the server ends the watch after timeoutSeconds; give it a margin before calling the socket dead
      const res = await open(eventsPath(scope.namespace), query, from.signal, from.timeoutSeconds * 1000 + requestTimeoutMs)
      if (res.statusCode !== 200) throw await failure(res)
      res.setEncoding('utf8')
      let pending = ''
      // newline-terminated JSON values (Go's json.Encoder); HTTP chunks do not align with them
      for await (const chunk of res) {
        pending += chunk as string
        let nl: number
        while ((nl = pending.indexOf('\n')) !== -1) {
          const line = pending.slice(0, nl).trim()
          pending = pending.slice(nl + 1)
          if (line === '') continue
          let event: WatchEvent
          try {
            event = JSON.parse(line) as WatchEvent
          } catch {
            throw new UpstreamError('malformed watch event from the API server')
          }
          if (event.type === 'ERROR') throw upstreamErrorFromStatus(event.object)
          onEvent(event)
        }
      }
      if (!res.complete) throw new UpstreamError('watch connection closed before the response completed')
    }
  }
}
