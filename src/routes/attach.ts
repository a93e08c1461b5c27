// GET /v1/namespaces/{namespace}/pods/{pod}/attach — interactive attach over
// WebSocket. Everything that can fail does so BEFORE the upgrade, as a normal
// problem response: origin, authentication (auth plugin: header, ticket or the
// bearer subprotocol), authorization, policy (the container judged as if it
// were being created; gateway sessions only for their requester, never after
// their expiry — src/policy/stream-access.ts), the attach.start audit record and
// the upstream handshake (so a missing pod is a 404, not a closed socket).
// Only then is the client upgraded and the relay started. Protocols and close
// codes: openapi/attach.md.
import { randomUUID } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { WebSocket } from 'ws'
import { Type, type Static, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Problems, isProblemError } from '../errors.ts'
import { permissionsFor } from '../auth/permissions.ts'
import type { CompiledPolicy } from '../policy/policy.ts'
import type { Identity } from '../auth/identity.ts'
import type { StreamAccess, StreamJudge } from '../policy/stream-access.ts'
import { auditDenied, auditOutcome, auditRequest, type AuditScope } from '../audit/records.ts'
import type { AuditRecord } from '../audit/types.ts'
import { loggableError } from '../plugins/error-log.ts'
import type { AttachConfig } from '../attach/config-schema.ts'
import type { UpstreamAttach, UpstreamConnector } from '../attach/upstream.ts'
import { CloseCode, KDEBUG_PROTOCOL, RelaySession, type ClientProtocol, type SessionEnd } from '../attach/relay.ts'
import { V4_PROTOCOL, V5_PROTOCOL } from '../attach/upstream.ts'
import { AsciicastRecorder, type Recorder } from '../attach/recording.ts'
import { lookupExitCode } from '../attach/exit-code.ts'
import type { AttachMetrics } from '../attach/metrics.ts'
import { TicketParam } from '../schemas/stream.ts'
import { Names } from '../schemas/names.ts'
import type { DebugClient } from '../kube/debug-client.ts'
import type { Pod } from '../kube/types.ts'
import { waitForContainer } from '../debug/wait.ts'
import { attachStreamsFor, containerAttachable, type AttachStreams } from '../attach/target.ts'

export const CLIENT_PROTOCOLS: readonly ClientProtocol[] = [V5_PROTOCOL, V4_PROTOCOL, KDEBUG_PROTOCOL]

/** The client subprotocol: the first offered one the gateway speaks; kdebug.v1 when none is offered; false when none fits. */
export function chooseClientProtocol (offered: Iterable<string>): ClientProtocol | false {
  let any = false
  for (const p of offered) {
    any = true
    if ((CLIENT_PROTOCOLS as readonly string[]).includes(p)) return p as ClientProtocol
  }
  return any ? false : KDEBUG_PROTOCOL
}

export function offeredProtocols (header: string | string[] | undefined): string[] {
  const raw = Array.isArray(header) ? header.join(',') : header ?? ''
  return raw.split(',').map(s => s.trim()).filter(s => s !== '')
}

export const AttachParamsSchema = Type.Object({
  namespace: Names.namespace(),
  pod: Names.pod()
})

const Size = Type.Integer({ minimum: 1, maximum: 65535 })
export const AttachQuerySchema = Type.Object({
  container: Type.Optional(Names.container('Container to attach to (required when the pod has several).')),
  stdin: Type.Boolean({ default: true, description: 'Send input to the container (it must have stdin: true).' }),
  tty: Type.Boolean({ default: false, description: 'A hint only: the container spec decides whether the session has a TTY (stderr merged into stdout, resize applies), as the kubelet does.' }),
  stderr: Type.Optional(Type.Boolean({ description: 'Receive stderr (default: true without tty).' })),
  stderrText: Type.Boolean({ default: false, description: 'kdebug.v1: stderr as {"type":"stderr","data":…} text frames instead of binary frames.' }),
  wait: Type.Optional(Type.Integer({ minimum: 0, maximum: 60, description: 'Seconds to wait for the container to be running before attaching (0 = refuse at once with 409 when it is not).' })),
  cols: Type.Optional(Size),
  rows: Type.Optional(Size),
  ticket: TicketParam
}, { additionalProperties: false })
export type AttachQuery = Static<typeof AttachQuerySchema>

export interface AttachRouteOptions {
  config: AttachConfig
  connector: UpstreamConnector
  policy: CompiledPolicy
  /** Judges the container like a create (effective privilege, session owner, expiry). */
  judge: StreamJudge
  impersonate: boolean
  metrics: AttachMetrics
  registry: SessionRegistry
  /** Reads the pod (container spec and state) before the upstream dial. */
  client: DebugClient
}

/** A live (or about-to-be-live) session, for shutdown and tests. */
export interface ActiveSession {
  id: string
  namespace: string
  pod: string
  container?: string
  user: string
  relay?: RelaySession
  /** Ends the session (1001 on shutdown); resolves once it is audited. */
  close (code: number, reason: string): Promise<void>
}

export class SessionRegistry {
  readonly #sessions = new Map<string, ActiveSession>()
  closing = false
  add (s: ActiveSession): void { this.#sessions.set(s.id, s) }
  delete (id: string): void { this.#sessions.delete(id) }
  list (): ActiveSession[] { return [...this.#sessions.values()] }
  get size (): number { return this.#sessions.size }
  async closeAll (code: number, reason: string): Promise<void> {
    this.closing = true
    await Promise.all(this.list().map(async s => { await s.close(code, reason) }))
  }
}

interface Prepared {
  id: string
  upstream: UpstreamAttach
  clientProtocol: ClientProtocol
  scope: AuditScope
  startId: string
  maxDurationMs: number
  maxDurationClose?: { code: number, reason: string }
  query: AttachQuery
  /** Whether the session has a TTY (the container spec's, not the query's hint). */
  tty: boolean
  namespace: string
  pod: string
  started: boolean
  /** Frees the caller's stream slot (idempotent). */
  release: () => void
  /** Settles the session's audit when it never reached the relay. */
  abandon (reason: string): Promise<void>
}

function originAllowed (request: FastifyRequest, allowed: readonly string[]): boolean {
  const origin = request.headers.origin
  if (origin === undefined) return true // not a browser
  if (allowed.includes('*') || allowed.includes(origin)) return true
  // Same origin cannot be cross-site WebSocket hijacking.
  const host = request.headers.host
  return host !== undefined && (origin === `${request.protocol}://${host}`)
}

/** The longest a session may last: the configured maximum capped by the policy rule's TTL (0 = no limit). */
export function sessionLimitMs (configSeconds: number, ruleMaxTtlSeconds: number | undefined): number {
  const caps = [configSeconds, ruleMaxTtlSeconds ?? 0].filter(s => s > 0)
  return caps.length === 0 ? 0 : Math.min(...caps) * 1000
}

/**
 * Returns the streams to request (attachStreamsFor) from the pod the policy judged, after making sure the
 * container runs: on 1.30+ a kubelet refusal only shows after the upgrade, so a container that
 * is waiting (ContainerCreating, ImagePullBackOff …) or gone is a 409 here, naming its state.
 * `wait` seconds let a starting container come up first (a watch, as `wait` on create does).
 * undefined when the pod does not say which container (the API server's answer then decides).
 */
export async function attachableStreams (client: DebugClient, a: { namespace: string, pod: string, read: Pod, query: AttachQuery, as?: Identity, socket?: { once: (e: 'close', f: () => void) => unknown, off: (e: 'close', f: () => void) => unknown } }): Promise<AttachStreams | undefined> {
  const ac = new AbortController()
  const gone = (): void => ac.abort()
  a.socket?.once('close', gone)
  try {
    const callOpts = { ...(a.as ? { as: a.as } : {}), signal: ac.signal }
    let pod: Pod = a.read
    const streams = attachStreamsFor(pod as never, a.query.container, { stdin: a.query.stdin, tty: a.query.tty, ...(a.query.stderr !== undefined ? { stderr: a.query.stderr } : {}) })
    if (!streams) return undefined
    let state = containerAttachable(pod as never, streams.container)
    if (!state.attachable && (a.query.wait ?? 0) > 0 && (state.state === 'waiting' || state.state === 'unknown')) {
      pod = (await waitForContainer(client, { namespace: a.namespace, pod: a.pod, container: streams.container, from: pod, seconds: a.query.wait as number, callOpts, signal: ac.signal })).pod
      state = containerAttachable(pod as never, streams.container)
    }
    if (!state.attachable) {
      const what = state.state === 'terminated' ? 'has terminated' : state.state === 'deleting' ? 'is being deleted' : 'is not running yet'
      throw Problems.containerNotRunning(`container "${streams.container}" ${what}: ${state.reason}${state.message ? `: ${state.message}` : ''}`, {
        container: { name: streams.container, state: state.state, reason: state.reason, ...(state.message ? { message: state.message } : {}), ...(state.exitCode !== undefined ? { exitCode: state.exitCode } : {}) }
      })
    }
    return streams
  } finally {
    a.socket?.off('close', gone)
  }
}

/** The session limit further capped by the debug session's remaining TTL, closing with 4004 when that is what ends it. */
export function attachLimit (limitMs: number, access: Pick<StreamAccess, 'expiresAtMs'>, nowMs: number): { maxDurationMs: number, close?: { code: number, reason: string } } {
  if (access.expiresAtMs === undefined) return { maxDurationMs: limitMs }
  const remaining = Math.max(1, access.expiresAtMs - nowMs)
  if (limitMs > 0 && limitMs <= remaining) return { maxDurationMs: limitMs }
  return { maxDurationMs: remaining, close: { code: CloseCode.sessionExpired, reason: 'debug session expired' } }
}

export async function attachRoutes (fastify: FastifyInstance, opts: AttachRouteOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { config, connector, metrics, registry } = opts
  const prepared = new WeakMap<FastifyRequest, Prepared>()

  app.get('/namespaces/:namespace/pods/:pod/attach', {
    websocket: true,
    // Refusals before the upgrade (origin, ticket, protocol, shutdown, budget) are audited under this action.
    config: { ticket: true, auditAction: 'attach.start' },
    schema: { params: AttachParamsSchema, querystring: AttachQuerySchema },
    onRequest: async (request) => {
      if (!originAllowed(request, config.allowedOrigins)) {
        throw Problems.originForbidden(`Origin ${request.headers.origin ?? ''} may not open attach sessions (attach.allowedOrigins).`)
      }
    },
    preHandler: async (request) => {
      if (!request.ws) throw Problems.badRequest('Upgrade request required: attach is a WebSocket endpoint (see openapi/attach.md).')
      if (registry.closing) throw Problems.unavailable('The gateway is shutting down; reconnect to another replica.', { retryAfter: 1 })
      const clientProtocol = chooseClientProtocol(offeredProtocols(request.headers['sec-websocket-protocol']))
      if (clientProtocol === false) {
        throw Problems.badRequest(`No supported subprotocol offered; use one of ${CLIENT_PROTOCOLS.join(', ')} (or none for ${KDEBUG_PROTOCOL}).`)
      }
      const { namespace, pod } = request.params as Static<typeof AttachParamsSchema>
      const query = request.query as AttachQuery
      const identity = request.identity
      const id = randomUUID()
      const target = { namespace, pod, ...(query.container ? { container: query.container } : {}), session: id }
      const scope: AuditScope = {
        audit: app.audit,
        caller: { identity, requestId: request.id, source: { ip: request.ip, ...(request.headers['user-agent'] ? { userAgent: request.headers['user-agent'] } : {}) } },
        action: 'attach.start',
        target,
        request: { protocol: clientProtocol, tty: query.tty, stdin: query.stdin, authMethod: identity.method }
      }

      let access: StreamAccess
      try {
        await app.authorize(request, permissionsFor('attach', { namespace, pod }))
        access = await opts.judge.judge({ subject: identity, action: 'attach', namespace, pod, ...(query.container ? { container: query.container } : {}) })
      } catch (err) {
        if (isProblemError(err) && (err.status === 403 || err.status === 404 || err.status === 410)) {
          await auditDenied(scope, { permission: err.extras.permission, rule: err.extras.rule, detail: err.detail }, err.status)
        }
        throw err
      }
      const limit = attachLimit(sessionLimitMs(config.maxDurationSeconds, access.maxTtlSeconds), access, opts.judge.now())

      // Counted from here until the relay ends (or the session is abandoned).
      const release = app.budgets.acquireStream(identity)
      let start: AuditRecord
      try {
        start = await auditRequest(scope, { rule: access.rule })
      } catch (err) {
        release()
        throw err
      }
      const endScope: AuditScope = { ...scope, action: 'attach.end' }
      let upstream: UpstreamAttach
      let streams: AttachStreams | undefined
      try {
        streams = await attachableStreams(opts.client, { namespace, pod, read: access.pod, query, ...(opts.impersonate ? { as: identity } : {}), socket: request.raw.socket })
        upstream = await connector.connect({
          namespace,
          pod,
          ...(streams ? { container: streams.container } : query.container ? { container: query.container } : {}),
          stdin: streams?.stdin ?? query.stdin,
          stdout: true,
          stderr: streams?.stderr ?? query.stderr ?? !query.tty,
          tty: streams?.tty ?? query.tty
        }, opts.impersonate ? identity : undefined)
      } catch (err) {
        release()
        const status = isProblemError(err) ? err.status : 502
        await auditOutcome(endScope, start.id, { status, error: isProblemError(err) ? err.detail : 'upstream connection failed', kubernetesReason: isProblemError(err) ? err.extras.kubernetesReason : undefined })
          .catch(e => request.log.error({ err: e }, 'attach.end audit failed'))
        throw err
      }

      const p: Prepared = {
        id,
        upstream,
        clientProtocol,
        scope: endScope,
        startId: start.id,
        maxDurationMs: limit.maxDurationMs,
        ...(limit.close ? { maxDurationClose: limit.close } : {}),
        query,
        tty: streams?.tty ?? query.tty,
        namespace,
        pod,
        started: false,
        release,
        abandon: async (reason: string) => {
          if (p.started) return
          p.started = true // settled
          release()
          upstream.socket.terminate()
          registry.delete(id)
          await auditOutcome(endScope, start.id, { status: 499, error: reason, upstreamProtocol: upstream.protocol })
            .catch(e => request.log.error({ err: e }, 'attach.end audit failed'))
        }
      }
      prepared.set(request, p)
      registry.add({ id, namespace, pod, container: query.container, user: identity.user, close: async (_code, reason) => { await p.abandon(reason) } })
      // The client may vanish between here and the upgrade (or already has): release the upstream then.
      const socket = request.raw.socket
      if (socket.destroyed) {
        await p.abandon('client went away before the upgrade')
        return
      }
      socket.once('close', () => { p.abandon('client went away before the upgrade').catch(() => {}) })
    }
  }, (socket: WebSocket, request: FastifyRequest) => {
    const p = prepared.get(request)
    if (!p || p.started) { p?.release(); socket.close(1011, 'session not prepared'); return }
    p.started = true
    const q = p.query
    const log = request.log.child({ stream: 'attach', namespace: p.namespace, pod: p.pod, session: p.id })
    let recorder: Recorder | undefined
    if (config.recording.enabled) {
      try {
        recorder = new AsciicastRecorder({ dir: config.recording.dir, sessionId: p.id, cols: q.cols ?? 80, rows: q.rows ?? 24, stdin: config.recording.stdin, maxBytes: config.recording.maxBytes, title: `${p.namespace}/${p.pod}${q.container ? `/${q.container}` : ''}` })
      } catch (err) {
        log.warn({ err }, 'attach recording could not be started')
      }
    }
    const exitLookup = config.exitCodeLookupMs > 0
      ? async () => await lookupExitCode({
        readPod: async () => await app.cluster.core.readNamespacedPod({ name: p.pod, namespace: p.namespace }),
        container: q.container,
        timeoutMs: config.exitCodeLookupMs
      })
      : undefined
    const relay = new RelaySession({
      client: socket,
      upstream: p.upstream.socket,
      clientProtocol: p.clientProtocol,
      upstreamProtocol: p.upstream.protocol,
      early: p.upstream.takeOver(),
      stderrAsText: q.stderrText,
      tty: p.tty,
      ...(q.cols !== undefined && q.rows !== undefined ? { initialSize: { cols: q.cols, rows: q.rows } } : {}),
      pingIntervalMs: config.pingIntervalSeconds * 1000,
      idleTimeoutMs: config.idleTimeoutSeconds * 1000,
      maxDurationMs: p.maxDurationMs,
      ...(p.maxDurationClose ? { maxDurationClose: p.maxDurationClose } : {}),
      highWaterMark: config.highWaterMarkBytes,
      sendWindow: config.sendWindowBytes,
      fairnessBudget: config.fairnessBudgetBytes,
      ...(recorder ? { recorder } : {}),
      ...(exitLookup ? { resolveExitCode: exitLookup } : {}),
      onBytes: (i, o) => { metrics.bytes.inc({ direction: 'in' }, i); metrics.bytes.inc({ direction: 'out' }, o) },
      onWarning: msg => log.warn(msg)
    })
    relay.start()
    metrics.active.inc()
    log.info({ protocol: p.clientProtocol, upstreamProtocol: p.upstream.protocol }, 'attach session opened')

    const finished = relay.done.then(async (end: SessionEnd) => {
      p.release()
      metrics.active.dec()
      metrics.duration.observe(end.durationMs / 1000)
      const rec = recorder ? await recorder.close().catch(() => undefined) : undefined
      log.info({ closeCode: end.closeCode, durationMs: end.durationMs, bytesIn: end.bytesIn, bytesOut: end.bytesOut }, 'attach session closed')
      await auditOutcome(p.scope, p.startId, {
        status: 101,
        upstreamProtocol: p.upstream.protocol,
        exitCode: end.exitCode,
        detached: end.detached,
        closeCode: end.closeCode,
        closeReason: end.closeReason,
        endedBy: end.endedBy,
        error: end.error?.message,
        durationMs: end.durationMs,
        bytesIn: end.bytesIn,
        bytesOut: end.bytesOut,
        recording: rec ? { file: rec.file, bytes: rec.bytes, truncated: rec.truncated } : undefined
      }).catch(err => log.error({ err: loggableError(err) }, 'attach.end audit failed'))
      // Only now: a session that left the registry has its end record written.
      registry.delete(p.id)
    })
    registry.add({
      id: p.id,
      namespace: p.namespace,
      pod: p.pod,
      container: q.container,
      user: request.identity.user,
      relay,
      close: async (code, reason) => {
        relay.close(code, reason)
        await finished
      }
    })
  })
}
