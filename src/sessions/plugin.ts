// Debug sessions: list, read and end them, a pod's ephemeral containers, and
// the TTL reaper. Any replica answers for all: sessions are found from the
// cluster (finder.ts), never from memory. Register with prefix /v1 after the
// auth plugin: `await app.register(sessionsPlugin, { prefix: '/v1', sessions: config.sessions, verify, … })`.
import type { FastifyInstance } from 'fastify'
import type { SessionsConfig } from './config-schema.ts'
import { callOptionsFor, kubeDebugClient } from '../kube/debug-client.ts'
import { DEBUG_SHARED_SCHEMAS } from '../schemas/debug.ts'
import { loggableError } from '../plugins/error-log.ts'
import type { Identity } from '../auth/identity.ts'
import { SessionFinder } from './finder.ts'
import type { SessionLedger } from './ledger.ts'
import type { VerifyFn } from './found.ts'
import { Reaper } from './reaper.ts'
import { sessionRoutes } from './routes.ts'
import { SessionService, type RecordingPolicy } from './service.ts'

export interface SessionsPluginOptions {
  sessions: SessionsConfig
  /** Bound of every API server call (kube.requestTimeoutMs). */
  kubeRequestTimeoutMs: number
  /** Cluster calls as the requesting user (authorization.mode `impersonate`). */
  impersonate: boolean
  /** Names this replica in the reaper's records (audit.replica). */
  replica?: string
  /** Checks the replicas' signature on session attribution. */
  verify: VerifyFn
  /** The app's one compiled policy (recordings are judged like attaching). */
  policy?: RecordingPolicy
  /** attach.recording.dir when recording is on: GET /sessions/{id}/recording serves from it. */
  recordingsDir?: string
  /** The users' session ledgers (the per-user limit): deletes forget their sessions there. */
  ledger?: SessionLedger
  clock?: () => number
}

export async function sessionsPlugin (app: FastifyInstance, opts: SessionsPluginOptions): Promise<void> {
  const { verify, impersonate } = opts
  const client = kubeDebugClient(app.cluster.kubeConfig, { requestTimeoutMs: opts.kubeRequestTimeoutMs })
  const onError = (err: unknown, context: string): void => {
    // Never the error object itself: client errors may carry request headers.
    app.log.error({ err: loggableError(err), context }, 'sessions: error after the point of no return')
  }
  const sessions = new SessionService({
    client,
    audit: app.audit,
    authorizer: app.authorizer,
    finder: new SessionFinder({ client, clock: opts.clock, verify }),
    verify,
    callOptions: (identity: Identity) => callOptionsFor(identity, impersonate),
    ...(opts.policy !== undefined ? { policy: opts.policy } : {}),
    ...(opts.recordingsDir !== undefined ? { recordingsDir: opts.recordingsDir } : {}),
    ...(opts.ledger !== undefined ? { ledger: opts.ledger } : {}),
    clock: opts.clock,
    onError
  })
  const reaper = new Reaper({
    client,
    audit: app.audit,
    intervalMs: opts.sessions.reaperIntervalSeconds * 1000,
    registry: app.metrics.registry,
    verify,
    clock: opts.clock,
    replica: opts.replica,
    onError
  })

  for (const schema of DEBUG_SHARED_SCHEMAS) app.addSchema(schema)
  await app.register(sessionRoutes, { sessions })

  app.addHook('onReady', async () => { reaper.start() })
  app.addHook('preClose', async () => { await reaper.stop() })
}
