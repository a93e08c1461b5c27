// The audit feature's HTTP side: GET /v1/audit, and the audit runtime's
// metrics (rotation, forwarders, anchor) on the app's registry.
import type { FastifyInstance } from 'fastify'
import { auditRoutes } from './routes.ts'
import type { AuditPeersConfig } from './peers.ts'
import type { AuditRuntime } from './runtime.ts'

export interface AuditPluginOptions {
  file: string | null
  replica: string
  peers: AuditPeersConfig
  /** Rotation, forwarders and anchor of this process (absent when a test hands in a bare log). */
  runtime?: AuditRuntime
}

export async function auditPlugin (app: FastifyInstance, opts: AuditPluginOptions): Promise<void> {
  opts.runtime?.registerMetrics(app.metrics.registry)
  // Messages only: they name files, seqs and HTTP statuses, never a key or a record's content.
  opts.runtime?.onError((err, context) => { app.log.error({ context, err: { message: err.message } }, 'audit') })
  await app.register(auditRoutes, { file: opts.file, replica: opts.replica, peers: opts.peers })
}
