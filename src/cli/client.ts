// The gateway's public HTTP API as the CLI uses it: JSON calls, streams,
// stream tickets. Failures become ProblemError (the gateway's problem+json)
// or CliError (no answer at all). The token is only ever a request header.
import { readFileSync } from 'node:fs'
import { CliError, ProblemError, sanitize, type ProblemBody } from './errors.ts'
import { EXIT, exitCodeForStatus } from './exit-codes.ts'
import type { Connection } from './credentials.ts'

export type Query = Record<string, string | number | boolean | undefined>

export interface CallOptions {
  query?: Query
  body?: unknown
  headers?: Record<string, string>
  signal?: AbortSignal
}

// Two levels up from both src/cli/ and dist/cli/.
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version

export function cliVersion (): string { return VERSION }

export class GatewayClient {
  readonly #conn: Connection
  readonly #fetch: typeof fetch

  constructor (conn: Connection, fetchImpl: typeof fetch = fetch) {
    this.#conn = conn
    this.#fetch = fetchImpl
  }

  /** `path` (e.g. `/v1/sessions`) under the server URL, which may carry a path prefix. */
  url (path: string, query: Query = {}): URL {
    const url = new URL(path.replace(/^\/+/, ''), this.#conn.server)
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v))
    return url
  }

  /** A request whose answer must be 2xx; the Response is returned unread (for streams). */
  async request (method: string, path: string, o: CallOptions = {}): Promise<Response> {
    const headers = new Headers({ 'user-agent': `kdebug-cli/${VERSION}`, ...o.headers })
    for (const [k, v] of Object.entries(this.#conn.headers)) {
      for (const one of Array.isArray(v) ? v : [v]) headers.append(k, one)
    }
    let body: string | undefined
    if (o.body !== undefined) {
      headers.set('content-type', 'application/json')
      body = JSON.stringify(o.body)
    }
    const url = this.url(path, o.query)
    let res: Response
    try {
      res = await this.#fetch(url, { method, headers, body, signal: o.signal })
    } catch (err) {
      if (o.signal?.aborted) throw err
      const cause = (err as { cause?: { code?: string, message?: string } }).cause
      throw new CliError(`cannot reach the gateway at ${url.origin}: ${cause?.code ?? cause?.message ?? (err as Error).message}`, EXIT.unavailable)
    }
    if (!res.ok) throw await errorOf(res)
    return res
  }

  async json<T> (method: string, path: string, o: CallOptions = {}): Promise<T> {
    const res = await this.request(method, path, o)
    return await res.json() as T
  }

  /** A single-use stream ticket for a WebSocket or SSE URL (path and query as the gateway gave them). */
  async ticket (streamPath: string): Promise<string> {
    const out = await this.json<{ ticket: string }>('POST', '/v1/stream-tickets', { body: { url: streamPath } })
    return out.ticket
  }

  /** The ws:// or wss:// URL of a stream path, with a ticket and extra query parameters. */
  wsUrl (streamPath: string, query: Query): URL {
    let url: URL
    if (/^https?:\/\//i.test(streamPath)) {
      // The gateway's attach.url is absolute when it knows its public URL.
      url = new URL(streamPath)
    } else {
      const [path = '', search = ''] = streamPath.split('?', 2)
      url = this.url(path)
      url.search = search
    }
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v))
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
    return url
  }
}

/** A failed answer as an error: the gateway's problem+json when it sent one, else the status line. */
export async function errorOf (res: Response): Promise<CliError> {
  const text = await res.text().catch(() => '')
  const type = res.headers.get('content-type') ?? ''
  if (type.includes('json')) {
    try {
      return new ProblemError(res.status, JSON.parse(text) as ProblemBody)
    } catch {}
  }
  const snippet = sanitize(text).slice(0, 200)
  return new CliError(`HTTP ${res.status} ${sanitize(res.statusText)}${snippet ? `: ${snippet}` : ''}`, exitCodeForStatus(res.status))
}
