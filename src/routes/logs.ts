// GET /v1/namespaces/{ns}/pods/{pod}/containers/{c}/logs — a container's
// output, streamed from the API server's `pods/{pod}/log`, for bots that
// cannot hold a WebSocket (run `ss -tanp` in an ephemeral container, read
// this). Chunked text/plain, or Server-Sent Events (`event: log` per line)
// with `Accept: text/event-stream`. Authorized as `get pods/log` plus policy
// (reading a container's output is judged like attaching to it);
// upstream refusals are problems before the first byte; a client that goes
// away aborts the upstream request.
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { Transform, PassThrough, type TransformCallback } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { Type, type Static, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Problems, isProblemError } from '../errors.ts'
import { permissionsFor } from '../auth/permissions.ts'
import type { CompiledPolicy } from '../policy/policy.ts'
import type { StreamJudge } from '../policy/stream-access.ts'
import { parseStatusBody, problemFromStatus, toProblem } from '../kube/errors.ts'
import { checkName, nameSegment } from '../kube/path-segment.ts'
import type { UpstreamConnector } from '../attach/upstream.ts'
import type { AttachMetrics } from '../attach/metrics.ts'
import { problemResponses } from '../schemas/problem.ts'
import { TicketParam } from '../schemas/stream.ts'
import { Names } from '../schemas/names.ts'
import type { Identity } from '../auth/identity.ts'
import type { AuditRecord } from '../audit/types.ts'
import { auditOutcome, auditRequest, type AuditScope } from '../audit/records.ts'
import { callerOf } from '../plugins/decision-audit.ts'
import { loggableError } from '../plugins/error-log.ts'

export const LogsParamsSchema = Type.Object({
  namespace: Names.namespace(),
  pod: Names.pod(),
  container: Names.container()
})

export const LogsQuerySchema = Type.Object({
  follow: Type.Boolean({ default: false, description: 'Keep streaming new output until the container exits or the client leaves.' }),
  tailLines: Type.Optional(Type.Integer({ minimum: 0, description: 'Only the last N lines of the existing output.' })),
  sinceSeconds: Type.Optional(Type.Integer({ minimum: 1, description: 'Only output newer than this many seconds.' })),
  timestamps: Type.Boolean({ default: false, description: 'Prefix each line with its RFC 3339 time.' }),
  limitBytes: Type.Optional(Type.Integer({ minimum: 1, description: 'Stop after this many bytes.' })),
  ticket: TicketParam
}, { additionalProperties: false })
export type LogsQuery = Static<typeof LogsQuerySchema>

export interface LogsRouteOptions {
  connector: UpstreamConnector
  policy: CompiledPolicy
  judge: StreamJudge
  impersonate: boolean
  metrics: AttachMetrics
  streams: LogStreams
  /** SSE heartbeat comment interval. */
  heartbeatMs: number
}

const MAX_ERROR_BODY = 64 * 1024

/** Open log streams, so shutdown can end them (an open stream would block app.close()). */
export class LogStreams {
  readonly #ends = new Set<() => void>()
  closing = false
  add (end: () => void): () => void {
    this.#ends.add(end)
    return () => this.#ends.delete(end)
  }

  get size (): number { return this.#ends.size }
  closeAll (): void {
    this.closing = true
    for (const end of [...this.#ends]) end()
  }
}

/** Lines → `event: log` SSE messages; CR is a line end in SSE, so it is dropped from data. */
export class SseLogLines extends Transform {
  #rest = ''
  /** The last event: `end` when the log ended, `shutdown` when the gateway is closing. */
  finalEvent = 'end'
  readonly #decoder = new TextDecoder('utf-8')

  override _transform (chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    const text = this.#rest + this.#decoder.decode(chunk, { stream: true })
    const lines = text.split('\n')
    this.#rest = lines.pop() ?? ''
    if (lines.length > 0) this.push(lines.map(l => `event: log\ndata: ${l.replace(/\r/g, '')}\n\n`).join(''))
    cb()
  }

  override _flush (cb: TransformCallback): void {
    const last = this.#rest + this.#decoder.decode()
    if (last !== '') this.push(`event: log\ndata: ${last.replace(/\r/g, '')}\n\n`)
    this.push(`event: ${this.finalEvent}\ndata: {}\n\n`)
    cb()
  }

  /** A comment line, between events (partial lines are still held back). */
  heartbeat (): void { this.push(': keepalive\n\n') }
}

async function readBody (res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const c of res as AsyncIterable<Buffer>) {
    if (size < MAX_ERROR_BODY) chunks.push(c)
    size += c.length
  }
  return Buffer.concat(chunks).toString('utf8')
}

export async function logsRoutes (fastify: FastifyInstance, opts: LogsRouteOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { connector, streams, metrics } = opts

  async function openUpstream (path: string, impersonate: Parameters<UpstreamConnector['requestOptions']>[0]): Promise<IncomingMessage> {
    const server = connector.server
    if (!server) throw Problems.internal('No Kubernetes API server is configured.')
    const url = new URL(server.replace(/\/$/, '') + path)
    const options = await connector.requestOptions(impersonate)
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest
    return await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(url, { ...(options as object), method: 'GET', headers: { ...options.headers, accept: 'text/plain, */*' } }, resolve)
      req.once('error', err => reject(toProblem(err)))
      req.end()
    })
  }

  /** The upstream log stream once it answered 200; its refusals as problems. */
  async function openUpstreamLog (q: LogsQuery, namespace: string, pod: string, container: string, identity: Identity): Promise<IncomingMessage> {
    const params = new URLSearchParams({ container: checkName('container', container) })
    if (q.follow) params.set('follow', 'true')
    if (q.tailLines !== undefined) params.set('tailLines', String(q.tailLines))
    if (q.sinceSeconds !== undefined) params.set('sinceSeconds', String(q.sinceSeconds))
    if (q.timestamps) params.set('timestamps', 'true')
    if (q.limitBytes !== undefined) params.set('limitBytes', String(q.limitBytes))
    const path = `/api/v1/namespaces/${nameSegment('namespace', namespace)}/pods/${nameSegment('pod', pod)}/log?${params.toString()}`

    const upstream = await openUpstream(path, opts.impersonate ? identity : undefined)
    if (upstream.statusCode !== 200) {
      let body = ''
      try { body = await readBody(upstream) } catch (err) { throw isProblemError(err) ? err : Problems.badGateway() }
      throw problemFromStatus(upstream.statusCode ?? 502, parseStatusBody(body), upstream.headers['retry-after'] as string | undefined)
    }
    return upstream
  }

  app.get('/namespaces/:namespace/pods/:pod/containers/:container/logs', {
    config: { ticket: true, auditAction: 'logs.read' },
    schema: {
      tags: ['streams'],
      summary: 'Stream a container\'s output (chunked text/plain, or SSE with Accept: text/event-stream)',
      description: 'Authorized as `get pods/log`, then judged like attaching: the container\'s effective privilege in its pod against the caller\'s policy rule, gateway sessions only for their requester (or `attachOthers`), 410 after a session\'s expiry. With `follow=true` the stream stays open until the container exits or the client disconnects.',
      params: LogsParamsSchema,
      querystring: LogsQuerySchema,
      response: {
        200: { description: 'The output', content: { 'text/plain': { schema: Type.String() }, 'text/event-stream': { schema: Type.String() } } },
        ...problemResponses(404, 410, 429)
      }
    }
  }, async (request, reply) => {
    const { namespace, pod, container } = request.params
    const q = request.query
    await app.authorize(request, permissionsFor('logs', { namespace, pod }))
    await opts.judge.judge({ subject: request.identity, action: 'logs', namespace, pod, container })
    if (streams.closing) throw Problems.unavailable('The gateway is shutting down; reconnect to another replica.', { retryAfter: 1 })
    // Refusals above are audited by the decision-audit plugin; an allowed read is audited here, before any byte.
    const release = q.follow ? app.budgets.acquireStream(request.identity) : () => {}
    const scope: AuditScope = {
      audit: app.audit,
      caller: callerOf(request),
      action: 'logs.read',
      target: { namespace, pod, container },
      request: { follow: q.follow, ...(q.tailLines !== undefined ? { tailLines: q.tailLines } : {}), ...(q.sinceSeconds !== undefined ? { sinceSeconds: q.sinceSeconds } : {}), authMethod: request.identity.method }
    }
    let upstream: IncomingMessage
    let start: AuditRecord | undefined
    try {
      start = await auditRequest(scope, {})
      upstream = await openUpstreamLog(q, namespace, pod, container, request.identity)
    } catch (err) {
      release()
      if (start !== undefined) {
        const problem = isProblemError(err) ? err : undefined
        await auditOutcome(scope, start.id, { status: problem?.status ?? 502, code: problem?.code, kubernetesReason: problem?.extras.kubernetesReason })
          .catch(e => request.log.error({ err: loggableError(e) }, 'logs.read outcome audit failed'))
      }
      throw err
    }

    const sse = (request.headers.accept ?? '').toLowerCase().includes('text/event-stream')
    const sseOut = sse ? new SseLogLines() : undefined
    const out = sseOut ?? new PassThrough()
    let heartbeat: NodeJS.Timeout | undefined
    if (sseOut && q.follow) {
      heartbeat = setInterval(() => { sseOut.heartbeat() }, opts.heartbeatMs)
      heartbeat.unref()
    }
    metrics.logStreams.inc()
    const remove = streams.add(() => {
      // Shutdown: end our side cleanly, then drop the upstream.
      upstream.unpipe(out)
      upstream.destroy()
      if (sseOut) sseOut.finalEvent = 'shutdown'
      out.end()
    })
    let cleaned = false
    const cleanup = (): void => {
      if (cleaned) return
      cleaned = true
      if (heartbeat) clearInterval(heartbeat)
      remove()
      release()
      metrics.logStreams.dec()
      upstream.destroy() // the client went away (or we are done): abort the upstream request
    }
    upstream.on('error', err => { if (!cleaned) out.destroy(err) })
    out.on('close', cleanup)
    upstream.pipe(out)

    reply.header('cache-control', 'no-cache')
    if (sse) {
      reply.header('x-accel-buffering', 'no')
      reply.type('text/event-stream; charset=utf-8')
    } else {
      reply.type('text/plain; charset=utf-8')
    }
    // The 200 schema documents text; the body is a stream of it.
    return await reply.send(out as unknown as string)
  })
}
