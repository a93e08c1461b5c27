// Interactive attach, in the order every check happens. prepare() runs
// before the WebSocket upgrade, so each refusal is an ordinary problem
// response: shutdown → subprotocol → authorization (`create pods/attach`) →
// policy (the container judged as if it were being created; gateway sessions
// only for their requester, never after their expiry — src/policy/
// stream-access.ts) → stream budget → the attach.start audit record (no
// record, no session) → the container's state → the upstream handshake (so a
// missing pod is a 404, not a closed socket). start() runs after the upgrade:
// the relay, until attach.end is written.
import { randomUUID } from 'node:crypto'
import type { WebSocket } from 'ws'
import type { BaseLogger } from 'pino'
import { Problems, isProblemError } from '../errors.ts'
import { permissionsFor } from '../auth/permissions.ts'
import type { Identity, ResourceAttributes } from '../auth/identity.ts'
import type { AuditLog, AuditRecord } from '../audit/types.ts'
import { auditDenied, auditOutcome, auditRequest, type AuditScope, type Caller } from '../audit/records.ts'
import { waitForContainer } from '../sessions/wait.ts'
import type { StreamAccess, StreamJudge } from '../policy/stream-access.ts'
import type { DebugClient } from '../kube/debug-client.ts'
import type { Pod } from '../kube/types.ts'
import { loggableError } from '../plugins/error-log.ts'
import type { AttachConfig } from './config-schema.ts'
import type { AttachQuery } from './schemas.ts'
import { ATTACH_PROTOCOLS, KDEBUG_PROTOCOL, chooseClientProtocol, offeredProtocols, type ClientProtocol } from './protocols.ts'
import type { UpstreamAttach, UpstreamConnector } from './upstream.ts'
import { attachStreamsFor, containerAttachable, type AttachStreams } from './target.ts'
import { attachLimit, sessionLimitMs } from './limits.ts'
import type { SessionRegistry } from './registry.ts'
import { RelaySession, type RelayOptions, type SessionEnd } from './relay/session.ts'
import { AsciicastRecorder, type Recorder } from './recording.ts'
import { recordingDir } from '../sessions/recordings.ts'
import { lookupExitCode } from './exit-code.ts'
import type { AttachMetrics } from './metrics.ts'

type LogLike = Pick<BaseLogger, 'info' | 'warn' | 'error'>

/** What the service needs of the client's connection before the upgrade. */
export interface ClientSocket {
  readonly destroyed: boolean
  once: (e: 'close', f: () => void) => unknown
  off: (e: 'close', f: () => void) => unknown
}

/** The client's connection under its WebSocket (cut-through writes taken frames to it: relay/session.ts). */
export type ClientConnection = RelayOptions['clientConnection']

export interface AttachServiceOptions {
  config: AttachConfig
  connector: UpstreamConnector
  /** Judges the container like a create (effective privilege, session owner, expiry). */
  judge: StreamJudge
  /** Reads the pod (container spec and state) before the upstream dial, and its exit code after. */
  client: DebugClient
  audit: AuditLog
  authorizer: { authorizeAll (who: Identity, attrs: readonly ResourceAttributes[]): Promise<void> }
  budgets: { acquireStream (identity: Identity): () => void }
  registry: SessionRegistry
  metrics: AttachMetrics
  /** authorization.mode impersonate: the upstream calls carry the caller's identity. */
  impersonate: boolean
}

export interface AttachRequest {
  caller: Caller
  namespace: string
  pod: string
  query: AttachQuery
  /** The Sec-WebSocket-Protocol header as sent. */
  protocols: string | string[] | undefined
  /** The client's connection: a client that leaves before the upgrade abandons the session. */
  socket: ClientSocket
}

/** A session that passed every check and holds its upstream, waiting for the client's upgrade. */
export interface PreparedSession {
  readonly id: string
  readonly request: AttachRequest
  readonly upstream: UpstreamAttach
  readonly clientProtocol: ClientProtocol
  /** Whether the session has a TTY (the container spec's, not the query's hint). */
  readonly tty: boolean
  /** Claims the session for the upgraded socket; false when it was abandoned meanwhile. */
  claim (): boolean
  /** Frees the caller's stream slot (idempotent). */
  release (): void
  readonly endScope: AuditScope
  readonly startId: string
  readonly limit: { maxDurationMs: number, close?: { code: number, reason: string } }
  /** The gateway debug session the container belongs to (verified attribution): its recordings are filed under it. */
  readonly gatewaySession?: string
}

/**
 * Returns the streams to request (attachStreamsFor) from the pod the policy judged, after making sure the
 * container runs: on 1.30+ a kubelet refusal only shows after the upgrade, so a container that
 * is waiting (ContainerCreating, ImagePullBackOff …) or gone is a 409 here, naming its state.
 * `wait` seconds let a starting container come up first (a watch, as `wait` on create does).
 * undefined when the pod does not say which container (the API server's answer then decides).
 */
export async function attachableStreams (client: DebugClient, a: { namespace: string, pod: string, read: Pod, query: AttachQuery, as?: Identity, socket?: Pick<ClientSocket, 'once' | 'off'> }): Promise<AttachStreams | undefined> {
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

export class AttachService {
  readonly #o: AttachServiceOptions

  constructor (opts: AttachServiceOptions) {
    this.#o = opts
  }

  /** Every check before the upgrade; throws a problem on refusal (audited when it is a decision). */
  async prepare (r: AttachRequest, log: LogLike): Promise<PreparedSession> {
    const { registry, judge, config } = this.#o
    if (registry.closing) throw Problems.unavailable('The gateway is shutting down; reconnect to another replica.', { retryAfter: 1 })
    const clientProtocol = chooseClientProtocol(offeredProtocols(r.protocols))
    if (clientProtocol === false) {
      throw Problems.badRequest(`No supported subprotocol offered; use one of ${ATTACH_PROTOCOLS.join(', ')} (or none for ${KDEBUG_PROTOCOL}).`)
    }
    const { namespace, pod, query, caller } = r
    const identity = caller.identity
    const id = randomUUID()
    const scope: AuditScope = {
      audit: this.#o.audit,
      caller,
      action: 'attach.start',
      target: { namespace, pod, ...(query.container ? { container: query.container } : {}), session: id },
      request: { protocol: clientProtocol, tty: query.tty, stdin: query.stdin, authMethod: identity.method }
    }

    let access: StreamAccess
    try {
      await this.#o.authorizer.authorizeAll(identity, permissionsFor('attach', { namespace, pod }))
      access = await judge.judge({ subject: identity, action: 'attach', namespace, pod, ...(query.container ? { container: query.container } : {}) })
    } catch (err) {
      if (isProblemError(err) && (err.status === 403 || err.status === 404 || err.status === 410)) {
        await auditDenied(scope, { permission: err.extras.permission, rule: err.extras.rule, detail: err.detail }, err.status)
      }
      throw err
    }
    const limit = attachLimit(sessionLimitMs(config.maxDurationSeconds, access.maxTtlSeconds), access, judge.now())

    // Counted from here until the relay ends (or the session is abandoned).
    const release = this.#o.budgets.acquireStream(identity)
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
      streams = await attachableStreams(this.#o.client, { namespace, pod, read: access.pod, query, ...(this.#o.impersonate ? { as: identity } : {}), socket: r.socket })
      upstream = await this.#o.connector.connect({
        namespace,
        pod,
        ...(streams ? { container: streams.container } : query.container ? { container: query.container } : {}),
        stdin: streams?.stdin ?? query.stdin,
        stdout: true,
        stderr: streams?.stderr ?? query.stderr ?? !query.tty,
        tty: streams?.tty ?? query.tty
      }, this.#o.impersonate ? identity : undefined, { cutThrough: clientProtocol !== KDEBUG_PROTOCOL })
    } catch (err) {
      release()
      const status = isProblemError(err) ? err.status : 502
      await auditOutcome(endScope, start.id, { status, error: isProblemError(err) ? err.detail : 'upstream connection failed', kubernetesReason: isProblemError(err) ? err.extras.kubernetesReason : undefined })
        .catch(e => log.error({ err: loggableError(e) }, 'attach.end audit failed'))
      throw err
    }

    let settled = false
    const abandon = async (reason: string): Promise<void> => {
      if (settled) return
      settled = true
      release()
      upstream.socket.terminate()
      registry.delete(id)
      await auditOutcome(endScope, start.id, { status: 499, error: reason, upstreamProtocol: upstream.protocol })
        .catch(e => log.error({ err: loggableError(e) }, 'attach.end audit failed'))
    }
    const prepared: PreparedSession = {
      id,
      request: r,
      upstream,
      clientProtocol,
      tty: streams?.tty ?? query.tty,
      endScope,
      startId: start.id,
      limit,
      ...(access.session !== undefined ? { gatewaySession: access.session.session.id } : {}),
      release,
      claim: () => {
        if (settled) return false
        settled = true
        return true
      }
    }
    registry.add({ id, namespace, pod, container: query.container, user: identity.user, close: async (_code, reason) => { await abandon(reason) } })
    // The client may vanish between here and the upgrade (or already has): release the upstream then.
    if (r.socket.destroyed) {
      await abandon('client went away before the upgrade')
      return prepared
    }
    r.socket.once('close', () => { abandon('client went away before the upgrade').catch(() => {}) })
    return prepared
  }

  /** After the upgrade: relays until either side ends, then writes attach.end; the session leaves the registry only after that. */
  start (p: PreparedSession, socket: WebSocket, log: LogLike, connection?: ClientConnection): void {
    const { config, metrics, registry } = this.#o
    const q = p.request.query
    const { namespace, pod } = p.request
    let recorder: Recorder | undefined
    if (config.recording.enabled) {
      try {
        recorder = new AsciicastRecorder({ dir: recordingDir(config.recording.dir, p.gatewaySession), sessionId: p.id, cols: q.cols ?? 80, rows: q.rows ?? 24, stdin: config.recording.stdin, maxBytes: config.recording.maxBytes, title: `${namespace}/${pod}${q.container ? `/${q.container}` : ''}` })
      } catch (err) {
        log.warn({ err }, 'attach recording could not be started')
      }
    }
    const exitLookup = config.exitCodeLookupMs > 0
      ? async () => await lookupExitCode({
        readPod: async () => await this.#o.client.getPod(namespace, pod) as never,
        container: q.container,
        timeoutMs: config.exitCodeLookupMs
      })
      : undefined
    const relay = new RelaySession({
      client: socket,
      upstream: p.upstream.socket,
      ...(connection ? { clientConnection: connection } : {}),
      ...(p.upstream.tap ? { upstreamTap: p.upstream.tap } : {}),
      clientProtocol: p.clientProtocol,
      upstreamProtocol: p.upstream.protocol,
      early: p.upstream.takeOver(),
      stderrAsText: q.stderrText,
      tty: p.tty,
      ...(q.cols !== undefined && q.rows !== undefined ? { initialSize: { cols: q.cols, rows: q.rows } } : {}),
      pingIntervalMs: config.pingIntervalSeconds * 1000,
      idleTimeoutMs: config.idleTimeoutSeconds * 1000,
      maxDurationMs: p.limit.maxDurationMs,
      ...(p.limit.close ? { maxDurationClose: p.limit.close } : {}),
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
      await auditOutcome(p.endScope, p.startId, {
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
      namespace,
      pod,
      container: q.container,
      user: p.request.caller.identity.user,
      relay,
      close: async (code, reason) => {
        relay.close(code, reason)
        await finished
      }
    })
  }
}
