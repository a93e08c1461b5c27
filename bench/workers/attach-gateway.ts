// The gateway side of the attach benchmarks, in its own process: the attach
// plugin (real relay, real auth plugin) in front of attach-upstream, with an
// authenticator and authorizer that allow everyone (they are not what is
// measured; rest-warm covers them) and a no-op audit log.
// Input (argv): { upstreamPort, highWaterMarkBytes? }. IPC: sends {port};
// answers 'stats' with { cpuUs, rss, heapUsed }; exits on disconnect.
import Fastify from 'fastify'
import { KubeConfig } from '@kubernetes/client-node'
import { workerInput } from '../lib/child.ts'
import { resolveConfig } from '../../src/config.ts'
import { Cluster } from '../../src/kube/cluster.ts'
import { SarAuthorizer } from '../../src/auth/authorizer.ts'
import authPlugin from '../../src/auth/plugin.ts'
import problemPlugin from '../../src/plugins/problem.ts'
import openapiPlugin from '../../src/plugins/openapi.ts'
import metricsPlugin, { createMetrics } from '../../src/plugins/metrics.ts'
import { createAttach } from '../../src/attach/index.ts'
import { AttachConfigSchema, type AttachConfig } from '../../src/attach/config-schema.ts'
import { Value } from '@sinclair/typebox/value'
import type { AuditLog, AuditRecord } from '../../src/audit/types.ts'

export interface AttachGatewayInput { upstreamPort: number, highWaterMarkBytes?: number }

const input = workerInput<AttachGatewayInput>()
const kc = new KubeConfig()
kc.loadFromOptions({
  clusters: [{ name: 'mock', server: `http://127.0.0.1:${input.upstreamPort}`, skipTLSVerify: true }],
  users: [{ name: 'gw', token: 'gateway-token' }],
  contexts: [{ name: 'mock', cluster: 'mock', user: 'gw' }],
  currentContext: 'mock'
})
const config = resolveConfig({
  logging: { level: 'silent' },
  policy: { rules: [{ name: 'all', match: {}, allow: { actions: ['attach', 'logs'], maxTtlSeconds: 86400 } }] }
})
let seq = 0
const audit: AuditLog = {
  append: async (e) => ({ ...e, seq: ++seq, time: '', id: String(seq), replica: 'bench', prevHash: '' }) as AuditRecord,
  writable: () => true,
  close: async () => {}
}
const attachConfig = Value.Default(AttachConfigSchema, { exitCodeLookupMs: 0, ...(input.highWaterMarkBytes ? { highWaterMarkBytes: input.highWaterMarkBytes } : {}) }) as AttachConfig
// Nothing in the bench world is a signed gateway session.
const attach = createAttach({ config: attachConfig, verify: () => false })
const authorizer = new SarAuthorizer({
  client: {
    tokenReview: async () => ({ authenticated: true, user: { user: 'bench', groups: ['bench'] } }),
    subjectAccessReview: async () => ({ allowed: true })
  },
  allowTtlMs: 60_000,
  denyTtlMs: 0
})
const app = Fastify({ logger: false, ajv: { customOptions: { coerceTypes: 'array', useDefaults: true } } })
app.decorate('config', config)
app.decorate('audit', audit)
app.decorate('cluster', new Cluster(kc))
app.decorate('lifecycle', { shuttingDown: false })
await app.register(problemPlugin)
await app.register(openapiPlugin, { docs: false })
await app.register(metricsPlugin, { metrics: createMetrics() })
await app.register(authPlugin, {
  authenticator: { method: 'static', authenticate: async () => ({ user: 'bench', groups: ['bench'] }) },
  authorizer,
  ticketAuthenticator: attach.ticketAuthenticator
})
await app.register(attach.plugin, { prefix: '/v1' })
await app.listen({ host: '127.0.0.1', port: 0 })
const address = app.server.address()
process.send?.({ port: typeof address === 'object' && address ? address.port : 0 })
process.on('message', (m) => {
  if (m !== 'stats') return
  const cpu = process.cpuUsage()
  const mem = process.memoryUsage()
  process.send?.({ cpuUs: cpu.user + cpu.system, rss: mem.rss, heapUsed: mem.heapUsed, sessions: attach.sessions.size })
})
process.on('disconnect', () => { app.close().finally(() => process.exit(0)) })
