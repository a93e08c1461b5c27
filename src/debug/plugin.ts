// The debug actions: ephemeral containers, pod copies, node debug pods.
// Register with prefix /v1 after the auth plugin (it needs request.identity
// and the decorations of buildApp: config, audit, cluster, authorizer):
// `await app.register(debugPlugin, { prefix: '/v1', sessions: config.sessions, policy, signer, … })`.
import type { FastifyInstance } from 'fastify'
import type { CompiledPolicy } from '../policy/policy.ts'
import { kubeDebugClient } from '../kube/debug-client.ts'
import { DEBUG_SHARED_SCHEMAS } from '../schemas/debug.ts'
import { loggableError } from '../plugins/error-log.ts'
import type { MetadataSigner } from '../security/signing.ts'
import type { SessionsConfig } from '../sessions/config-schema.ts'
import { SessionFinder } from '../sessions/finder.ts'
import { debugRoutes } from './routes.ts'
import { DebugService } from './service.ts'
import type { SessionLedger } from '../sessions/ledger.ts'

export interface DebugPluginOptions {
  sessions: SessionsConfig
  /** Bound of every API server call (kube.requestTimeoutMs). */
  kubeRequestTimeoutMs: number
  /** Cluster calls as the requesting user (authorization.mode `impersonate`). */
  impersonate: boolean
  /** Base of the attach URLs in answers (server.publicUrl). */
  publicUrl?: string
  /** The app's one compiled policy. */
  policy: CompiledPolicy
  /** Signs session attribution (the key every replica verifies with). */
  signer: MetadataSigner
  /** The users' session ledgers (the per-user limit), shared with the sessions feature. */
  ledger: SessionLedger
  clock?: () => number
}

export async function debugPlugin (app: FastifyInstance, opts: DebugPluginOptions): Promise<void> {
  const { sessions, signer, kubeRequestTimeoutMs, ledger } = opts
  const client = kubeDebugClient(app.cluster.kubeConfig, { requestTimeoutMs: kubeRequestTimeoutMs })
  const debug = new DebugService({
    client,
    audit: app.audit,
    authorizer: app.authorizer,
    policy: opts.policy,
    finder: new SessionFinder({ client, clock: opts.clock, verify: signer.verify }),
    ledger,
    signer,
    nodeDebugNamespace: sessions.nodeDebugNamespace,
    defaultTtlSeconds: sessions.defaultTtlSeconds,
    impersonate: opts.impersonate,
    publicUrl: opts.publicUrl,
    clock: opts.clock,
    onError: (err: unknown, context: string): void => {
      // Never the error object itself: client errors may carry request headers.
      app.log.error({ err: loggableError(err), context }, 'debug: error after the point of no return')
    }
  })

  for (const schema of DEBUG_SHARED_SCHEMAS) app.addSchema(schema)
  await app.register(debugRoutes, { debug })
}
