// pino options for the gateway: JSON lines, secrets redacted wherever they
// could appear, requests logged by route pattern (never the raw URL: a query
// string may carry a stream ticket).
import type { LoggerOptions } from 'pino'
import type { FastifyRequest } from 'fastify'

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["sec-websocket-protocol"]',
  'headers.authorization',
  'authorization',
  'token',
  '*.token',
  'ticket',
  '*.ticket',
  'password',
  '*.password'
]

export function loggerOptions (level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    serializers: {
      req (req: FastifyRequest) {
        return {
          method: req.method,
          route: req.routeOptions?.url,
          path: typeof req.url === 'string' ? req.url.split('?')[0] : undefined,
          remoteAddress: req.ip
        }
      }
    }
  }
}
