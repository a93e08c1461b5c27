// LIST and WATCH of core/v1 Events as raw JSON over node:http(s). Not
// CoreV1Api: its list deserialises timestamps into Date objects (so listed and
// watched drops would differ), and client-node's Watch hides the Status body
// of an HTTP 410 and aborts after 30 s without data. The KubeConfig still
// supplies the server, credentials and TLS agent (applyToHTTPSOptions).
import type http from 'node:http'
import type { KubeConfig } from '@kubernetes/client-node'
import { NoClusterError, openKubeRequest, readBody, watchEvents } from '../kube/transport.ts'
import { nameSegment } from '../kube/path-segment.ts'

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
  return namespace === undefined ? '/api/v1/events' : `/api/v1/namespaces/${nameSegment('namespace', namespace)}/events`
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

/** The real upstream: the API server the KubeConfig points at. */
export function kubeEventsUpstream (kubeConfig: KubeConfig, opts: { requestTimeoutMs?: number } = {}): EventsUpstream {
  const requestTimeoutMs = opts.requestTimeoutMs ?? 15000

  async function open (path: string, query: URLSearchParams, signal: AbortSignal, idleMs: number): Promise<http.IncomingMessage> {
    try {
      return await openKubeRequest(kubeConfig, path, { query, signal, idleMs })
    } catch (err) {
      if (err instanceof NoClusterError) throw new UpstreamError(err.message)
      throw err
    }
  }

  async function failure (res: http.IncomingMessage): Promise<UpstreamError> {
    const body = await readBody(res).catch(() => '')
    const s = statusOf(body)
    return new UpstreamError(s.message ?? `API server answered ${res.statusCode ?? 0}`, res.statusCode, s.reason)
  }

  return {
    async list (scope, page) {
      const query = new URLSearchParams({ fieldSelector: scope.fieldSelector, limit: String(page.limit) })
      if (page.continue) query.set('continue', page.continue)
      const res = await open(eventsPath(scope.namespace), query, page.signal, requestTimeoutMs)
      if (res.statusCode !== 200) throw await failure(res)
      const list = JSON.parse(await readBody(res)) as { items?: unknown[], metadata?: { resourceVersion?: string, continue?: string } }
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
      try {
        for await (const event of watchEvents<WatchEvent>(res)) {
          if (event.type === 'ERROR') throw upstreamErrorFromStatus(event.object)
          onEvent(event)
        }
      } catch (err) {
        if (err instanceof SyntaxError) throw new UpstreamError('malformed watch event from the API server')
        throw err
      }
      if (!res.complete) throw new UpstreamError('watch connection closed before the response completed')
    }
  }
}
