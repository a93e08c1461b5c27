// A container's output, in the order every check happens: authorization
// (`get pods/log`) → policy (reading a container's output is judged like
// attaching to it: src/policy/stream-access.ts) → shutdown → stream budget
// (followed logs) → the logs.read audit record (no record, no bytes) → the
// upstream request (its refusals are problems before the first byte, with an
// outcome record) → the body: chunked text/plain as the API server sends it,
// or Server-Sent Events. A client that goes away aborts the upstream request.
import { PassThrough, type Readable } from 'node:stream'
import type { IncomingMessage } from 'node:http'
import type { KubeConfig } from '@kubernetes/client-node'
import type { BaseLogger } from 'pino'
import type { Gauge } from 'prom-client'
import { Problems, isProblemError } from '../errors.ts'
import { permissionsFor } from '../auth/permissions.ts'
import type { Identity, ResourceAttributes } from '../auth/identity.ts'
import type { AuditLog, AuditRecord } from '../audit/types.ts'
import { auditOutcome, auditRequest, type AuditScope, type Caller } from '../audit/records.ts'
import type { StreamJudge } from '../policy/stream-access.ts'
import { impersonationHeaderValues } from '../kube/debug-client.ts'
import { loggableError } from '../plugins/error-log.ts'
import { SseWriter } from '../lib/sse.ts'
import type { LogsQuery } from './schemas.ts'
import type { LogStreams } from './streams.ts'
import { openLog, type LogTarget } from './upstream.ts'
import { finalLogEvent, LOG_HEARTBEAT, LogEventEncoder } from './log-events.ts'

export interface LogsServiceOptions {
  kubeConfig: KubeConfig
  judge: StreamJudge
  audit: AuditLog
  authorizer: { authorizeAll (who: Identity, attrs: readonly ResourceAttributes[]): Promise<void> }
  budgets: { acquireStream (identity: Identity): () => void }
  streams: LogStreams
  active: Gauge
  /** authorization.mode impersonate: the upstream call carries the caller's identity. */
  impersonate: boolean
  /** SSE heartbeat comment interval (followed streams). */
  heartbeatMs: number
}

export interface LogsRequest extends LogTarget {
  caller: Caller
  query: LogsQuery
  /** Accept: text/event-stream. */
  sse: boolean
}

export interface LogBody {
  body: Readable
  contentType: string
}

export class LogsService {
  readonly #o: LogsServiceOptions

  constructor (opts: LogsServiceOptions) {
    this.#o = opts
  }

  async open (r: LogsRequest, log: Pick<BaseLogger, 'error'>): Promise<LogBody> {
    const { namespace, pod, container, query: q, caller } = r
    const identity = caller.identity
    await this.#o.authorizer.authorizeAll(identity, permissionsFor('logs', { namespace, pod }))
    await this.#o.judge.judge({ subject: identity, action: 'logs', namespace, pod, container })
    if (this.#o.streams.closing) throw Problems.unavailable('The gateway is shutting down; reconnect to another replica.', { retryAfter: 1 })
    // Refusals above are audited by the decision-audit plugin; an allowed read is audited here, before any byte.
    const release = q.follow ? this.#o.budgets.acquireStream(identity) : () => {}
    const scope: AuditScope = {
      audit: this.#o.audit,
      caller,
      action: 'logs.read',
      target: { namespace, pod, container },
      request: { follow: q.follow, ...(q.tailLines !== undefined ? { tailLines: q.tailLines } : {}), ...(q.sinceSeconds !== undefined ? { sinceSeconds: q.sinceSeconds } : {}), authMethod: identity.method }
    }
    let upstream: IncomingMessage
    let start: AuditRecord | undefined
    try {
      start = await auditRequest(scope, {})
      upstream = await openLog(this.#o.kubeConfig, { namespace, pod, container }, q, this.#o.impersonate ? { headers: impersonationHeaderValues(identity) } : {})
    } catch (err) {
      release()
      if (start !== undefined) {
        const problem = isProblemError(err) ? err : undefined
        await auditOutcome(scope, start.id, { status: problem?.status ?? 502, code: problem?.code, kubernetesReason: problem?.extras.kubernetesReason })
          .catch(e => log.error({ err: loggableError(e) }, 'logs.read outcome audit failed'))
      }
      throw err
    }
    return r.sse ? this.#relaySse(upstream, q.follow, release) : this.#relayText(upstream, release)
  }

  /** Counts the stream and registers it for shutdown; `cleanup` runs once when the body closes. */
  #track (body: Readable, upstream: IncomingMessage, release: () => void, onShutdown: () => void): void {
    this.#o.active.inc()
    const remove = this.#o.streams.add(onShutdown)
    let cleaned = false
    const cleanup = (): void => {
      if (cleaned) return
      cleaned = true
      remove()
      release()
      this.#o.active.dec()
      upstream.destroy() // the client went away (or we are done): abort the upstream request
    }
    upstream.on('error', err => { if (!cleaned) body.destroy(err) })
    body.on('close', cleanup)
  }

  #relayText (upstream: IncomingMessage, release: () => void): LogBody {
    const body = new PassThrough()
    this.#track(body, upstream, release, () => {
      // Shutdown: end our side cleanly, then drop the upstream.
      upstream.unpipe(body)
      upstream.destroy()
      body.end()
    })
    upstream.pipe(body)
    return { body, contentType: 'text/plain; charset=utf-8' }
  }

  #relaySse (upstream: IncomingMessage, follow: boolean, release: () => void): LogBody {
    const body = new PassThrough()
    const encoder = new LogEventEncoder()
    // Backpressure: the upstream is read only while the client keeps up.
    const sse = new SseWriter(body, { onDrain: () => { upstream.resume() } })
    let heartbeat: NodeJS.Timeout | undefined
    if (follow) {
      heartbeat = setInterval(() => { sse.heartbeat(LOG_HEARTBEAT) }, this.#o.heartbeatMs)
      heartbeat.unref()
    }
    const finish = (kind: 'end' | 'shutdown'): void => {
      clearInterval(heartbeat)
      upstream.removeAllListeners('data')
      sse.end(encoder.end() + finalLogEvent(kind))
    }
    upstream.on('data', (chunk: Buffer) => {
      const frames = encoder.push(chunk)
      if (frames !== '' && !sse.write(frames)) upstream.pause()
    })
    upstream.once('end', () => { finish('end') })
    body.once('close', () => { clearInterval(heartbeat) })
    this.#track(body, upstream, release, () => {
      // Shutdown: the final event, then drop the upstream.
      finish('shutdown')
      upstream.destroy()
    })
    return { body, contentType: 'text/event-stream; charset=utf-8' }
  }
}
