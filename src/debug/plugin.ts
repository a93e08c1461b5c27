// Wires the debug actions, sessions and the TTL reaper into the app. Register
// with prefix /v1: `await app.register(debugPlugin, { prefix: '/v1', config })`.
// Needs the decorations of buildApp (config, audit, cluster, authorizer, metrics).
import type { FastifyInstance } from 'fastify'
import type { Config } from '../config.ts'
import type { Identity } from '../auth/identity.ts'
import type { CompiledPolicy } from '../policy/policy.ts'
import { kubeDebugClient, type DebugClient } from '../kube/debug-client.ts'
import { DEBUG_SHARED_SCHEMAS } from '../schemas/debug.ts'
import { loggableError } from '../plugins/error-log.ts'
import { debugRoutes } from '../routes/debug.ts'
import { sessionRoutes } from '../routes/sessions.ts'
import { SessionFinder } from './finder.ts'
import { Reaper } from './reaper.ts'
import { DebugService } from './service.ts'
import { SessionService } from './session-service.ts'
import { signerFromConfig, type MetadataSigner } from '../security/signing.ts'
import { replicaName } from '../config.ts'
import { kubeLeaseClient, type LeaseClient } from '../kube/lease-client.ts'
import { UserLock } from './user-lock.ts'

export interface DebugPluginOptions {
  config: Config
  /** The app's one compiled policy. */
  policy: CompiledPolicy
  /** Default: raw REST client on app.cluster's kubeconfig. */
  client?: DebugClient
  /** Run the TTL reaper (default true). */
  reaper?: boolean
  clock?: () => number
  rand?: () => number
  /** Default: Leases on app.cluster's kubeconfig when sessions.userLeaseNamespace is set. */
  leases?: LeaseClient
  /** Default: from config.security (a random per-process key when none is configured). */
  signer?: MetadataSigner
  /** Receives the plugin's services (tests and other wiring). */
  onServices?: (parts: { debug: DebugService, sessions: SessionService, reaper: Reaper, finder: SessionFinder }) => void
}

export async function debugPlugin (app: FastifyInstance, opts: DebugPluginOptions): Promise<void> {
  const { config } = opts
  const client = opts.client ?? kubeDebugClient(app.cluster.kubeConfig, { requestTimeoutMs: config.kube.requestTimeoutMs })
  const onError = (err: unknown, context: string): void => {
    // Never the error object itself: client errors may carry request headers.
    app.log.error({ err: loggableError(err), context }, 'debug: error after the point of no return')
  }
  const signer = opts.signer ?? signerFromConfig(config.security)
  const finder = new SessionFinder({ client, clock: opts.clock, verify: signer.verify })
  const impersonate = config.authorization.mode === 'impersonate'
  const leaseNamespace = config.sessions.userLeaseNamespace
  const userLock = new UserLock({
    ...(leaseNamespace === null ? {} : { leases: opts.leases ?? kubeLeaseClient(app.cluster.kubeConfig, { requestTimeoutMs: config.kube.requestTimeoutMs }) }),
    namespace: leaseNamespace ?? '',
    identity: replicaName(config),
    leaseSeconds: config.sessions.userLeaseSeconds,
    acquireTimeoutMs: config.kube.requestTimeoutMs * 2
  })
  const debug = new DebugService({
    client,
    audit: app.audit,
    authorizer: app.authorizer,
    policy: opts.policy,
    finder,
    userLock,
    signer,
    nodeDebugNamespace: config.sessions.nodeDebugNamespace,
    defaultTtlSeconds: config.sessions.defaultTtlSeconds,
    impersonate,
    publicUrl: config.server.publicUrl,
    clock: opts.clock,
    rand: opts.rand,
    onError
  })
  const sessions = new SessionService({
    client,
    audit: app.audit,
    authorizer: app.authorizer,
    finder,
    verify: signer.verify,
    callOptions: (identity: Identity) => debug.callOptions(identity),
    clock: opts.clock,
    onError
  })
  const reaper = new Reaper({
    client,
    audit: app.audit,
    intervalMs: config.sessions.reaperIntervalSeconds * 1000,
    registry: (app as { metrics?: { registry: import('prom-client').Registry } }).metrics?.registry,
    verify: signer.verify,
    clock: opts.clock,
    replica: config.audit.replica,
    onError
  })

  for (const schema of DEBUG_SHARED_SCHEMAS) app.addSchema(schema)
  await app.register(debugRoutes, { debug, sessions })
  await app.register(sessionRoutes, { sessions })

  if (opts.reaper !== false) {
    app.addHook('onReady', async () => { reaper.start() })
    app.addHook('preClose', async () => { await reaper.stop() })
  }
  opts.onServices?.({ debug, sessions, reaper, finder })
}
