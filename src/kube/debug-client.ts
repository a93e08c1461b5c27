// The debug actions' only I/O: pods and nodes over the API server's REST API as
// raw JSON over node:http(s). Not CoreV1Api: it turns timestamps into Date
// objects (the spec builders and responses want the wire JSON), cannot send
// one Impersonate-Group line per group (fetch's Headers joins repeated names
// into one comma-separated line, which the API server reads as ONE group), and
// its Watch hides error bodies. The KubeConfig supplies server, credentials
// and TLS agent (applyToHTTPSOptions). Failures become ProblemErrors
// (src/kube/errors.ts), so Kubernetes' 403/404/409/422 pass through with
// their reason and causes.
import type http from 'node:http'
import type { KubeConfig } from '@kubernetes/client-node'
import type { Principal } from './user-info.ts'
import { impersonationHeadersFor } from './impersonation.ts'
import { Problems } from '../errors.ts'
import { parseStatusBody, problemFromStatus, toProblem } from './errors.ts'
import { nameSegment } from './path-segment.ts'
import { NoClusterError, openKubeRequest, readBody, readJson, watchEvents, type HeaderValues } from './transport.ts'
import type { EphemeralPatch, Node, Pod } from './types.ts'

export interface CallOptions {
  /** Send the call as this user (authorization mode `impersonate`). */
  as?: Principal
  signal?: AbortSignal
  /** Receives the API server's `Warning` headers (admission warnings such as PodSecurity `warn`, deprecations). */
  onWarning?: (text: string) => void
}

/** The options of a call made for `identity`: as that user in authorization mode `impersonate`, else as the gateway. */
export function callOptionsFor (identity: Principal, impersonate: boolean, signal?: AbortSignal): CallOptions {
  const o: CallOptions = {}
  if (impersonate) o.as = identity
  if (signal) o.signal = signal
  return o
}

/**
 * The texts of RFC 7234 `Warning: 299 - "text"` headers, as the API server
 * sends them (k8s.io/apiserver/pkg/warning); one header line each.
 */
export function parseWarningHeaders (values: readonly string[] | undefined): string[] {
  const out: string[] = []
  for (const v of values ?? []) {
    const m = /^\d{3} \S+ "((?:[^"\\]|\\.)*)"/.exec(v.trim())
    if (m) out.push((m[1] as string).replace(/\\(.)/g, '$1'))
  }
  return out
}

/** The `Warning` header lines of a response, one each (rawHeaders: no header object built per call, repeated lines kept apart). */
export function warningHeaders (res: Pick<http.IncomingMessage, 'rawHeaders'>): string[] {
  const out: string[] = []
  const raw = res.rawHeaders
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string
    if (name.length === 7 && name.toLowerCase() === 'warning') out.push(raw[i + 1] as string)
  }
  return out
}

export interface MutateOptions extends CallOptions {
  /** dryRun=All: the API server validates, admits and answers, but stores nothing. */
  dryRun?: boolean
}

export interface DeleteOptions extends CallOptions {
  preconditions?: { uid?: string, resourceVersion?: string }
  gracePeriodSeconds?: number
}

export interface PodQuery {
  /** undefined = all namespaces. */
  namespace?: string
  labelSelector?: string
  fieldSelector?: string
  /** '0' = any cached version (cheap, may lag); unset = a consistent read. */
  resourceVersion?: string
  /** Page size (`limit`; default 500, kubectl's chunk size). */
  pageSize?: number
  /** Receives each page as it arrives; the pods are then not collected into the result (memory stays one page). */
  onPage?: (items: Pod[]) => void
}

export interface PodList {
  items: Pod[]
  resourceVersion: string
}

export interface PodPage {
  items: Pod[]
  resourceVersion: string
  /** Absent on the last page. */
  continue?: string
}

export interface PodWatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | string
  object: Pod
}

export interface DebugClient {
  getPod (namespace: string, name: string, opts?: CallOptions): Promise<Pod>
  getNode (name: string, opts?: CallOptions): Promise<Node>
  /** PATCH pods/NAME/ephemeralcontainers (strategic merge patch); resolves with the updated pod. */
  addEphemeralContainer (namespace: string, name: string, patch: EphemeralPatch, opts?: MutateOptions): Promise<Pod>
  createPod (namespace: string, pod: Pod, opts?: MutateOptions): Promise<Pod>
  deletePod (namespace: string, name: string, opts?: DeleteOptions): Promise<void>
  listPods (query: PodQuery, opts?: CallOptions): Promise<PodList>
  /** Names of all namespaces (paged): where a caller without cluster-wide rights may have sessions. */
  listNamespaces? (opts?: CallOptions): Promise<string[]>
  /**
   * Watches one pod from `resourceVersion`; `onEvent` returning true ends the watch.
   * Resolves when ended (by onEvent, the signal, or the server's timeout).
   */
  watchPod (namespace: string, name: string, from: { resourceVersion: string, timeoutSeconds: number, signal: AbortSignal },
    onEvent: (event: PodWatchEvent) => boolean, opts?: CallOptions): Promise<void>
}

/** Pod listing for callers that page themselves (the pod picker). */
export interface PodPager {
  /** One page of a namespace's pods (`limit` + `continue`, as `kubectl get pods --chunk-size`). */
  listPodsPage (namespace: string, page: { limit: number, continue?: string }, opts?: CallOptions): Promise<PodPage>
}

export interface KubeDebugClientOptions {
  /** Per-call timeout of non-streaming calls. */
  requestTimeoutMs?: number
  /** Most pages one listing follows before calling the server broken (default 10,000: 5 million pods at 500 a page). */
  maxListPages?: number
}

const STRATEGIC_MERGE = 'application/strategic-merge-patch+json'
/** kubectl's default --chunk-size. */
export const LIST_PAGE_SIZE = 500
/** 5 million pods at 500 a page: a server that never stops paging is broken, not big. */
const MAX_LIST_PAGES = 10_000
const ENDLESS_PAGING = 'The Kubernetes API server kept answering with more pages than any cluster holds.'

/**
 * The next page's continue token, or undefined on the last page. A token equal to the one
 * just sent would ask for the same page again (the API server's tokens encode the next key,
 * apiserver/pkg/storage/continue.go EncodeContinue), and more than `maxPages` is a server
 * that never stops: both are a 502 rather than an endless loop.
 */
function nextContinue (sent: string | undefined, received: string | undefined, page: number, maxPages: number): string | undefined {
  const token = received || undefined
  if (token === undefined) return undefined
  if (token === sent || page + 1 >= maxPages) throw Problems.badGateway(ENDLESS_PAGING)
  return token
}

/** Impersonate-* headers with repeated names as arrays: Node writes one header line per element. */
export function impersonationHeaderValues (who: Principal | undefined): HeaderValues {
  const out: HeaderValues = {}
  if (who === undefined) return out
  for (const [name, value] of impersonationHeadersFor(who)) {
    const prev = out[name]
    out[name] = prev === undefined ? value : [...(Array.isArray(prev) ? prev : [prev]), value]
  }
  return out
}

const ns = (name: string): string => nameSegment('namespace', name)
const podName = (name: string): string => nameSegment('pod', name)

export function kubeDebugClient (kubeConfig: KubeConfig, options: KubeDebugClientOptions = {}): DebugClient & PodPager {
  const timeoutMs = options.requestTimeoutMs ?? 15000
  const maxListPages = options.maxListPages ?? MAX_LIST_PAGES

  async function open (method: string, path: string, init: { query?: URLSearchParams, body?: unknown, contentType?: string, opts?: CallOptions, idleMs?: number }): Promise<http.IncomingMessage> {
    try {
      return await openKubeRequest(kubeConfig, path, {
        method,
        query: init.query,
        body: init.body,
        contentType: init.contentType,
        headers: impersonationHeaderValues(init.opts?.as),
        signal: init.opts?.signal,
        idleMs: init.idleMs ?? timeoutMs
      })
    } catch (err) {
      if (err instanceof NoClusterError) throw Problems.upstreamUnavailable(err.message)
      throw err
    }
  }

  async function call<T> (method: string, path: string, init: Parameters<typeof open>[2] = {}): Promise<T> {
    try {
      const res = await open(method, path, init)
      if (init.opts?.onWarning) for (const w of parseWarningHeaders(warningHeaders(res))) init.opts.onWarning(w)
      return await readJson<T>(res)
    } catch (err) {
      throw toProblem(err)
    }
  }

  function dryRunQuery (dryRun: boolean | undefined): URLSearchParams | undefined {
    return dryRun === true ? new URLSearchParams({ dryRun: 'All' }) : undefined
  }

  return {
    async getPod (namespace, name, opts) {
      return await call<Pod>('GET', `/api/v1/namespaces/${ns(namespace)}/pods/${podName(name)}`, { opts })
    },
    async getNode (name, opts) {
      return await call<Node>('GET', `/api/v1/nodes/${nameSegment('node', name)}`, { opts })
    },
    async addEphemeralContainer (namespace, name, patch, opts) {
      return await call<Pod>('PATCH', `/api/v1/namespaces/${ns(namespace)}/pods/${podName(name)}/ephemeralcontainers`,
        { body: patch, contentType: STRATEGIC_MERGE, query: dryRunQuery(opts?.dryRun), opts })
    },
    async createPod (namespace, pod, opts) {
      return await call<Pod>('POST', `/api/v1/namespaces/${ns(namespace)}/pods`, { body: pod, query: dryRunQuery(opts?.dryRun), opts })
    },
    async deletePod (namespace, name, opts = {}) {
      const body: Record<string, unknown> = { apiVersion: 'v1', kind: 'DeleteOptions' }
      if (opts.preconditions) body.preconditions = opts.preconditions
      if (opts.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = opts.gracePeriodSeconds
      await call<unknown>('DELETE', `/api/v1/namespaces/${ns(namespace)}/pods/${podName(name)}`, { body, opts })
    },
    async listPodsPage (namespace, page, opts) {
      const q = new URLSearchParams({ limit: String(page.limit) })
      if (page.continue !== undefined && page.continue !== '') q.set('continue', page.continue)
      const list = await call<{ items?: Pod[], metadata?: { resourceVersion?: string, continue?: string } }>('GET', `/api/v1/namespaces/${ns(namespace)}/pods`, { query: q, opts })
      const next = list.metadata?.continue
      return { items: list.items ?? [], resourceVersion: list.metadata?.resourceVersion ?? '', ...(next ? { continue: next } : {}) }
    },
    async listPods (query, opts) {
      // Paged like kubectl get (--chunk-size 500): the API server answers each page from one
      // snapshot, `continue` carries on where the page ended, and no single response (or
      // string in this process) grows with the size of the cluster.
      const path = query.namespace === undefined ? '/api/v1/pods' : `/api/v1/namespaces/${ns(query.namespace)}/pods`
      const items: Pod[] = []
      let token: string | undefined
      let resourceVersion = ''
      for (let page = 0; ; page++) {
        const q = new URLSearchParams()
        if (query.labelSelector) q.set('labelSelector', query.labelSelector)
        if (query.fieldSelector) q.set('fieldSelector', query.fieldSelector)
        q.set('limit', String(query.pageSize ?? LIST_PAGE_SIZE))
        // resourceVersion applies to the first page only; the continue token pins the rest.
        if (token !== undefined) q.set('continue', token)
        else if (query.resourceVersion !== undefined) q.set('resourceVersion', query.resourceVersion)
        const list = await call<{ items?: Pod[], metadata?: { resourceVersion?: string, continue?: string } }>('GET', path, { query: q, opts })
        if (page === 0) resourceVersion = list.metadata?.resourceVersion ?? ''
        if (query.onPage) query.onPage(list.items ?? [])
        else for (const p of list.items ?? []) items.push(p)
        token = nextContinue(token, list.metadata?.continue, page, maxListPages)
        if (token === undefined) break
      }
      return { items, resourceVersion }
    },
    async listNamespaces (opts) {
      const names: string[] = []
      let token: string | undefined
      for (let page = 0; ; page++) {
        const q = new URLSearchParams({ limit: String(LIST_PAGE_SIZE) })
        if (token !== undefined) q.set('continue', token)
        const list = await call<{ items?: Array<{ metadata?: { name?: string } }>, metadata?: { continue?: string } }>('GET', '/api/v1/namespaces', { query: q, opts })
        for (const n of list.items ?? []) if (n.metadata?.name) names.push(n.metadata.name)
        token = nextContinue(token, list.metadata?.continue, page, maxListPages)
        if (token === undefined) return names
      }
    },
    async watchPod (namespace, name, from, onEvent, opts) {
      const query = new URLSearchParams({
        watch: 'true',
        fieldSelector: `metadata.name=${name}`,
        resourceVersion: from.resourceVersion,
        timeoutSeconds: String(from.timeoutSeconds)
      })
      let res: http.IncomingMessage
      try {
        res = await open('GET', `/api/v1/namespaces/${ns(namespace)}/pods`, { query, opts: { ...opts, signal: from.signal }, idleMs: from.timeoutSeconds * 1000 + timeoutMs })
      } catch (err) {
        if (from.signal.aborted) return
        throw toProblem(err)
      }
      if (res.statusCode !== 200) {
        const text = await readBody(res).catch(() => '')
        throw problemFromStatus(res.statusCode ?? 0, parseStatusBody(text))
      }
      try {
        for await (const event of watchEvents<PodWatchEvent>(res)) {
          if (event.type === 'ERROR') throw problemFromStatus(Number((event.object as { code?: number }).code ?? 500), parseStatusBody(event.object))
          if (onEvent(event)) {
            res.destroy()
            return
          }
        }
      } catch (err) {
        if (from.signal.aborted) return
        throw toProblem(err)
      }
    }
  }
}
