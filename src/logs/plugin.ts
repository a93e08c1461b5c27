// Container logs as one plugin: `await app.register(logsPlugin, { prefix:
// '/v1', verify })` after the auth plugin. It decorates the app with
// `logStreams` (the open streams: shutdown ends each with a final event) and
// registers the route in its own scope. Needs the decorations of buildApp
// (config, cluster, audit, budgets, metrics) and of the auth plugin.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { CompiledPolicy } from '../policy/policy.ts'
import { kubeDebugClient } from '../kube/debug-client.ts'
import { StreamJudge } from '../policy/stream-access.ts'
import type { VerifyFn } from '../sessions/found.ts'
import { LogStreams } from './streams.ts'
import { LogsService } from './service.ts'
import { logsRoutes } from './routes.ts'
import { logStreamsGauge } from './metrics.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** Open log streams of this replica. */
    logStreams: LogStreams
  }
}

export interface LogsPluginOptions {
  /** The app's one compiled policy: streams are judged by it like the creates. */
  policy: CompiledPolicy
  /** Verifies the signature on gateway session metadata (the same signer the debug routes sign with). */
  verify: VerifyFn
  /** Clock of session expiry (tests). */
  clock?: () => number
  /** Route prefix (the plugin decorates the app, so it applies the prefix to its route itself). */
  prefix?: string
}

async function logs (app: FastifyInstance, opts: LogsPluginOptions): Promise<void> {
  const streams = new LogStreams()
  app.decorate('logStreams', streams)
  app.addHook('preClose', async () => { streams.closeAll() })
  const { config } = app
  const kubeConfig = app.cluster.kubeConfig
  const client = kubeDebugClient(kubeConfig, { requestTimeoutMs: config.kube.requestTimeoutMs })
  const service = new LogsService({
    kubeConfig,
    judge: new StreamJudge({
      policy: opts.policy,
      verify: opts.verify,
      readPod: async (ns, name) => await client.getPod(ns, name),
      ...(opts.clock ? { clock: opts.clock } : {})
    }),
    audit: app.audit,
    authorizer: app.authorizer,
    budgets: app.budgets,
    streams,
    active: logStreamsGauge(app.metrics.registry),
    impersonate: config.authorization.mode === 'impersonate',
    heartbeatMs: config.attach.pingIntervalSeconds * 1000
  })
  await app.register(logsRoutes, { service, prefix: opts.prefix ?? '' })
}

export const logsPlugin = fp<LogsPluginOptions>(logs, { name: 'kdebug-logs', fastify: '5.x', dependencies: ['kdebug-auth'] })
export default logsPlugin
