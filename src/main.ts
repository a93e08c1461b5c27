// Process entry: config → cluster connection → services → app → listen,
// and graceful shutdown on SIGTERM/SIGINT. The only module that reads
// process.env and argv.
import closeWithGrace from 'close-with-grace'
import { pino } from 'pino'
import { loadConfig, ConfigError, requireSigningKey } from './config.ts'
import { auditUsesStdout } from './audit/runtime.ts'
import { loggerOptions } from './logger.ts'
import { createServices } from './services.ts'
import { buildApp } from './app.ts'

async function main (): Promise<void> {
  let config
  try {
    config = loadConfig(process.env, process.argv.slice(2))
    requireSigningKey(config)
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`kdebug-gateway: ${err.message}\n`)
      process.exit(2)
    }
    throw err
  }
  // Audit records on stdout are alone there: the application log moves to stderr.
  const logger = auditUsesStdout(config.audit) ? pino(loggerOptions(config.logging.level), pino.destination(2)) : pino(loggerOptions(config.logging.level))
  const services = await createServices(config, { env: process.env })
  const app = await buildApp({ ...services, config, logger })

  closeWithGrace({ delay: config.server.shutdownGraceMs, logger }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'closing after an error')
    else logger.info({ signal }, 'shutting down')
    await app.close()
    await services.close()
  })

  await app.listen({ host: config.server.host, port: config.server.port })
}

main().catch((err: Error) => {
  process.stderr.write(`kdebug-gateway: failed to start: ${err.message}\n`)
  process.exit(1)
})
