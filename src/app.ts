// buildApp(deps) → a ready-to-listen Fastify instance. No listen, no env
// reads: main.ts and the tests construct the dependencies and hand them in.
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Logger } from 'pino'
import { replicaName, type Config } from './config.ts'
import type { AuditLog } from './audit/types.ts'
import type { Authenticator } from './auth/authenticator.ts'
import type { SarAuthorizer } from './auth/authorizer.ts'
import type { Cluster } from './kube/cluster.ts'
import problemPlugin from './plugins/problem.ts'
import { bodyDepthGuard, clientErrorHandler, frameworkErrorHandler, MAX_PARAM_LENGTH, urlLengthGuard } from './plugins/framework-errors.ts'
import metricsPlugin, { createMetrics, type GatewayMetrics } from './plugins/metrics.ts'
import openapiPlugin from './plugins/openapi.ts'
import corsPlugin, { createOriginPolicy, websocketOrigin } from './plugins/cors.ts'
import { requestIdFor, REQUEST_ID_HEADER } from './plugins/request-id.ts'
import { auditBudgetGate, createRequestAudit, requestAuditStart } from './plugins/decision-audit.ts'
import { Budgets } from './budgets/index.ts'
import authPlugin from './auth/plugin.ts'
import { healthPlugin } from './health/plugin.ts'
import { apiServerCheck, auditLogCheck } from './health/checks.ts'
import type { ReadinessCheck } from './readiness.ts'
import { whoamiPlugin } from './whoami/plugin.ts'
import { loggerOptions } from './logger.ts'
import { dropsPlugin } from './drops/plugin.ts'
import { debugPlugin } from './debug/plugin.ts'
import { sessionsPlugin } from './sessions/plugin.ts'
import { SessionFinder } from './sessions/finder.ts'
import { SessionLedger } from './sessions/ledger.ts'
import { startLedgerWatch, type LedgerWatch } from './sessions/ledger-watch.ts'
import { loggableError } from './plugins/error-log.ts'
import { localLeaseClient } from './sessions/local-leases.ts'
import { kubeLeaseClient } from './kube/lease-client.ts'
import { podsPlugin } from './pods/plugin.ts'
import { kubeDebugClient } from './kube/debug-client.ts'
import { signerFromConfig } from './security/signing.ts'
import { compilePolicy } from './policy/policy.ts'
import { auditPlugin } from './audit/plugin.ts'
import type { AuditRuntime } from './audit/runtime.ts'
import { attachPlugin } from './attach/plugin.ts'
import { logsPlugin } from './logs/plugin.ts'
import { ticketServiceFrom } from './tickets/service.ts'
import { ticketsPlugin } from './tickets/plugin.ts'
import { instrumentAudit, registerCacheMetrics } from './plugins/service-metrics.ts'
import { uiPlugin } from './ui/plugin.ts'

export interface AppDeps {
  config: Config
  cluster: Cluster
  audit: AuditLog
  /** Rotation, forwarders and anchor of the audit log (services.ts builds it). */
  auditRuntime?: AuditRuntime
  authenticator: Authenticator
  authorizer: SarAuthorizer
  /** A pino logger to use; default: one built from config.logging. */
  logger?: Logger
  metrics?: GatewayMetrics
  /** Readiness checks beyond the API server and audit log ones. */
  readinessChecks?: ReadinessCheck[]
  /** Milliseconds since the epoch: per-caller budgets, session expiry, tickets (tests move it; default Date.now). */
  clock?: () => number
}

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    audit: AuditLog
    cluster: Cluster
    lifecycle: { shuttingDown: boolean }
  }
}

export async function buildApp (deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps
  const opts: FastifyServerOptions = {
    loggerInstance: deps.logger,
    logger: deps.logger ? undefined : loggerOptions(config.logging.level),
    // Per-request logs cost ~40 % throughput on hot paths; the audit log is the record.
    logController: new LogController({ disableRequestLogging: !config.logging.requests, requestIdLogLabel: 'requestId' }),
    genReqId: requestIdFor,
    requestIdHeader: false,
    bodyLimit: config.server.bodyLimitBytes,
    requestTimeout: config.server.requestTimeoutMs,
    keepAliveTimeout: config.server.keepAliveTimeoutMs,
    trustProxy: config.server.trustProxy,
    // Bodies are validated, not rewritten: keep what clients send so Kubernetes
    // partial specs (custom) are not stripped.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: true } },
    return503OnClosing: true,
    // Errors before routing are problem+json too (see plugins/framework-errors.ts).
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH }
  }
  const app = Fastify(opts).withTypeProvider<TypeBoxTypeProvider>()

  const metrics = deps.metrics ?? createMetrics()
  const budgets = new Budgets({ config: config.limits, registry: metrics.registry, clock: deps.clock })
  // Every record goes through the tracker: it knows which requests have one, and charges audit budgets.
  const tracker = createRequestAudit({ audit: instrumentAudit(deps.audit, metrics.registry), budgets })
  const audit = tracker.log
  registerCacheMetrics(metrics.registry, 'token', () => deps.authenticator.stats?.())
  registerCacheMetrics(metrics.registry, 'authz', () => deps.authorizer.stats())

  app.decorate('config', config)
  app.decorate('audit', audit)
  app.decorate('budgets', budgets)
  app.decorate('cluster', deps.cluster)
  app.decorate('lifecycle', { shuttingDown: false })

  app.addHook('onRequest', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id)
  })
  app.addHook('onRequest', urlLengthGuard)
  app.addHook('preValidation', bodyDepthGuard)
  // Flip readiness first so load balancers stop sending while we drain.
  app.addHook('preClose', async () => { app.lifecycle.shuttingDown = true })
  // A keep-alive connection whose request finishes during shutdown would hold
  // server.close() open until the keep-alive timeout: ask the client to go.
  app.addHook('onSend', async (_request, reply) => {
    if (app.lifecycle.shuttingDown) reply.header('connection', 'close')
  })

  await app.register(requestAuditStart, { tracker })
  await app.register(problemPlugin)
  await app.register(openapiPlugin, { docs: config.docs.enabled })
  await app.register(metricsPlugin, { metrics })
  // One allowlist for CORS and WebSocket origins; preflights are answered before auth (they carry no credentials).
  const origins = createOriginPolicy(config.server.cors, config.server.publicUrl)
  await app.register(corsPlugin, { config: config.server.cors, origins })
  // One signer for the process: what the debug routes sign, attach and logs verify.
  const signer = signerFromConfig(config.security)
  // One compiled policy for the process: every create, attach and log stream is judged by it.
  const policy = compilePolicy(config.policy)
  const clock = deps.clock ? { clock: deps.clock } : {}
  // Stream tickets are issued by their route and redeemed by the auth plugin.
  const tickets = ticketServiceFrom(config.attach, deps.clock)
  await app.register(authPlugin, {
    authenticator: deps.authenticator,
    authorizer: deps.authorizer,
    delegation: config.authorization.delegation,
    ticketAuthenticator: tickets
  })
  await app.register(auditBudgetGate)
  await app.register(ticketsPlugin, { prefix: '/v1', tickets })
  // Every WebSocket upgrade's Origin against the same allowlist as CORS (after auth, so refusals name the caller).
  await app.register(websocketOrigin, { origins })
  await app.register(attachPlugin, { prefix: '/v1', policy, verify: signer.verify, ...clock })
  await app.register(logsPlugin, { prefix: '/v1', policy, verify: signer.verify, ...clock })

  const readinessChecks: ReadinessCheck[] = [
    apiServerCheck(deps.cluster),
    ...(deps.auditRuntime?.readinessChecks() ?? [auditLogCheck(audit)]),
    ...(deps.readinessChecks ?? [])
  ]
  await app.register(healthPlugin, { isShuttingDown: () => app.lifecycle.shuttingDown, checks: readinessChecks })
  // whoami's `allowed.sessions.used`: the live sessions the cluster shows (what the create
  // path's ledger is rebuilt from when a user is at the limit).
  const sessionFinder = new SessionFinder({ client: kubeDebugClient(deps.cluster.kubeConfig, { requestTimeoutMs: config.kube.requestTimeoutMs }), verify: signer.verify, ...clock })
  await app.register(whoamiPlugin, {
    prefix: '/v1',
    nodeDebugNamespace: config.sessions.nodeDebugNamespace,
    policy,
    defaultTtlSeconds: config.sessions.defaultTtlSeconds,
    liveSessions: async (user) => (await sessionFinder.userSessions(user)).filter(s => s.live).length
  })
  const kube = { kubeRequestTimeoutMs: config.kube.requestTimeoutMs, impersonate: config.authorization.mode === 'impersonate' }
  // The per-user session limit: creates reserve in it, deletes forget. Without a namespace
  // (one replica) the ledgers live in this process.
  const leaseNamespace = config.sessions.userLeaseNamespace
  const clusterLeases = leaseNamespace === null ? undefined : kubeLeaseClient(deps.cluster.kubeConfig, { requestTimeoutMs: config.kube.requestTimeoutMs })
  const ledger = new SessionLedger({
    leases: clusterLeases ?? localLeaseClient(),
    namespace: leaseNamespace ?? 'local',
    signer,
    graceMs: config.sessions.userLeaseSeconds * 1000,
    acquireTimeoutMs: config.kube.requestTimeoutMs * 2,
    ...clock
  })
  // Other replicas' ledger writes reach this replica's cache (freshness only: see ledger-watch.ts).
  // Started once the app is ready, so building an app opens no connection.
  let ledgerWatch: LedgerWatch | undefined
  if (clusterLeases !== undefined && leaseNamespace !== null) {
    app.addHook('onReady', async () => {
      ledgerWatch = startLedgerWatch({ leases: clusterLeases, namespace: leaseNamespace, ledger, onError: err => { app.log.warn({ err: loggableError(err) }, 'session ledger watch failed; retrying (creates still work, with an extra read when another replica wrote first)') } })
    })
  }
  // Removals of reservations whose creates were not made, and of deleted sessions, run off the
  // answers' paths: let those in flight land before the process goes (else they count until a rebuild).
  app.addHook('onClose', async () => {
    await ledgerWatch?.stop()
    await ledger.idle()
  })
  await app.register(debugPlugin, { prefix: '/v1', sessions: config.sessions, ...kube, publicUrl: config.server.publicUrl, policy, signer, ledger, ...clock })
  await app.register(sessionsPlugin, { prefix: '/v1', sessions: config.sessions, ...kube, replica: config.audit.replica, verify: signer.verify, policy, ledger, ...(config.attach.recording.enabled ? { recordingsDir: config.attach.recording.dir } : {}), ...clock })
  await app.register(podsPlugin, { prefix: '/v1', verify: signer.verify, impersonate: config.authorization.mode === 'impersonate', requestTimeoutMs: config.kube.requestTimeoutMs, ...clock })
  await app.register(auditPlugin, { prefix: '/v1', file: config.audit.file, replica: replicaName(config), peers: config.audit.peers, ...(deps.auditRuntime ? { runtime: deps.auditRuntime } : {}) })
  // Its readiness check joins the list /readyz reads on each request (after the gateway's own ones).
  await app.register(dropsPlugin, { prefix: '/v1', ...clock, onReadinessCheck: check => { readinessChecks.splice(readinessChecks.length - (deps.readinessChecks?.length ?? 0), 0, check) } })
  if (config.ui.enabled) await app.register(uiPlugin, { ui: config.ui, authentication: config.authentication, nodeDebugNamespace: config.sessions.nodeDebugNamespace })

  return app
}
