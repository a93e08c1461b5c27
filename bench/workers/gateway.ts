// The gateway as a bench process: built like src/main.ts (config from the
// KDEBUG_* environment → services → app → listen), plus IPC commands so a
// scenario can read its CPU time, memory and auth cache statistics without
// an in-process client (BENCH rules 2 and 5). Run with --expose-gc for `gc`.
import { pino } from 'pino'
import { loadConfig, requireSigningKey } from '../../src/config.ts'
import { loggerOptions } from '../../src/logger.ts'
import { createServices } from '../../src/services.ts'
import { buildApp } from '../../src/app.ts'
import { createNoopAuditLog } from '../../src/audit/writer.ts'
import type { CacheStats } from '../../src/auth/single-flight.ts'
import { processStats, serveCommands } from '../lib/service.ts'

const config = loadConfig(process.env, [])
requireSigningKey(config)
const logger = pino(loggerOptions(config.logging.level))
// BENCH_AUDIT=noop: no audit log at all (the audit scenario's baseline).
const audit = process.env.BENCH_AUDIT === 'noop' ? createNoopAuditLog('bench') : undefined
const services = await createServices(config, { env: process.env, ...(audit ? { audit } : {}) })
const app = await buildApp({ ...services, config, logger })
await app.listen({ host: '127.0.0.1', port: 0 })
const address = app.server.address()
const port = typeof address === 'object' && address !== null ? address.port : 0

const authnStats = (): CacheStats | undefined => (services.authenticator as { stats?: () => CacheStats }).stats?.()

serveCommands({ port }, async (cmd) => {
  switch (cmd) {
    case 'stats':
      return { ...processStats(), authn: authnStats(), authz: services.authorizer.stats(), sessions: app.attachSessions.size }
    case 'gc':
      (globalThis as { gc?: () => void }).gc?.()
      return processStats()
    case 'metrics':
      return (await app.inject({ method: 'GET', url: '/metrics' })).body
    case 'close':
      await app.close()
      await services.close()
      return null
    default:
      throw new Error(`unknown command ${cmd}`)
  }
})
