// Builds the long-lived services the app needs from the config: the cluster
// connection, authentication, authorization and the audit log. main.ts, the
// demo and the integration tests all go through here, so they run the same wiring.
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { replicaName, type Config } from './config.ts'
import { Cluster, loadKubeConfig } from './kube/cluster.ts'
import { closeKubeConnections } from './kube/transport.ts'
import { KubeReviewClient } from './kube/reviews.ts'
import { buildAuthenticator, buildAuthorizer } from './auth/factory.ts'
import { AuditRuntime } from './audit/runtime.ts'
import { kubeLeaseClient } from './kube/lease-client.ts'
import type { Authenticator } from './auth/authenticator.ts'
import type { SarAuthorizer } from './auth/authorizer.ts'
import type { AuditLog } from './audit/types.ts'

export interface Services {
  cluster: Cluster
  authenticator: Authenticator
  authorizer: SarAuthorizer
  audit: AuditLog
  /** Rotation, forwarders and anchor around the audit log (absent when a test handed in its own log). */
  auditRuntime?: AuditRuntime
  close: () => Promise<void>
}

export interface ServiceOptions {
  env?: Record<string, string | undefined>
  /** kubeconfig YAML text instead of config.kube.kubeconfig (demo, tests). */
  kubeconfigText?: string
  /** Replace the audit log (tests). */
  audit?: AuditLog
  /** Time source of the token and authorization caches (tests advance it instead of sleeping). */
  clock?: () => number
  /** Time source of audit records, rotation by age and anchors (tests). */
  auditClock?: () => number
}

export async function createServices (config: Config, opts: ServiceOptions = {}): Promise<Services> {
  const kubeConfig = loadKubeConfig({
    kubeconfig: config.kube.kubeconfig,
    kubeconfigText: opts.kubeconfigText,
    context: config.kube.context,
    env: opts.env
  })
  const cluster = new Cluster(kubeConfig)
  const reviewClient = new KubeReviewClient({ kubeConfig, timeoutMs: config.kube.requestTimeoutMs })
  const clock = opts.clock ? { clock: opts.clock } : {}
  const authenticator = buildAuthenticator(config.authentication, { reviewClient, ...clock })
  const authorizer = buildAuthorizer(config.authorization, { reviewClient, ...clock })
  let runtime: AuditRuntime | undefined
  if (!opts.audit) {
    if (config.audit.file) mkdirSync(dirname(config.audit.file), { recursive: true })
    runtime = await AuditRuntime.create({
      config: config.audit,
      replica: replicaName(config),
      env: opts.env ?? {},
      leases: kubeLeaseClient(kubeConfig, { requestTimeoutMs: config.kube.requestTimeoutMs }),
      ...(opts.auditClock ? { clock: opts.auditClock } : {})
    })
    runtime.start()
  }
  const auditLog = opts.audit ?? (runtime as AuditRuntime).log
  return {
    cluster,
    authenticator,
    authorizer,
    audit: auditLog,
    ...(runtime ? { auditRuntime: runtime } : {}),
    close: async () => {
      // The log closes (and forwarders drain, the anchor gets the final head) before the connections go.
      if (runtime) await runtime.close()
      else await auditLog.close()
      closeKubeConnections(kubeConfig)
    }
  }
}
