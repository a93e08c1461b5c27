// Cross-origin access for browser portals: one allowlist (`server.cors.origins`)
// decides both CORS (via @fastify/cors) and which pages may open WebSockets.
// Nothing is allowed by default. Requests without `Origin` (CLIs, bots, curl)
// and same-origin requests are not cross-origin and are unaffected.
//
// corsPlugin goes before authentication: preflights carry no credentials, so an
// allowed one is answered there and a refused one is a 403 problem. Allowed
// origins get their own origin echoed back, or `*` when configured — never `*`
// with credentials (the Fetch standard forbids it: fetch.spec.whatwg.org "CORS check").
//
// Browsers never preflight a WebSocket handshake, so websocketOriginPlugin checks
// the upgrade's `Origin` on every WebSocket route (cross-site WebSocket hijacking),
// after authentication so the refusal's audit record (decision-audit plugin,
// under the route's action) names who tried, and before any route runs.
import fp from 'fastify-plugin'
import cors from '@fastify/cors'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Problems } from '../errors.ts'
import type { CorsConfig } from './cors-config.ts'

/** Methods the /v1 API uses. */
const METHODS = ['GET', 'HEAD', 'POST', 'DELETE']

/**
 * Request headers a portal may send. Listed, not echoed: a browser page gets exactly the
 * headers the API reads (authorization, JSON bodies, idempotency, request ids, SSE resume,
 * delegation).
 */
const ALLOWED_HEADERS = [
  'authorization', 'content-type', 'idempotency-key', 'x-request-id', 'last-event-id',
  'impersonate-user', 'impersonate-group', 'impersonate-uid'
]

/** Response headers a portal may read besides the CORS-safelisted ones. */
const EXPOSED_HEADERS = ['x-request-id', 'retry-after', 'www-authenticate', 'location', 'idempotency-key', 'idempotent-replayed', 'warning']

export interface OriginPolicy {
  /** Whether a page on `origin` may use the API cross-origin. */
  allowsCrossOrigin (origin: string): boolean
  /** Whether the request may proceed as far as its Origin goes: none (not a browser), same origin, or allowed. */
  allows (request: FastifyRequest): boolean
  /** `*` is configured (any origin, never with credentials). */
  readonly anyOrigin: boolean
}

/** The origin (scheme://host[:port]) of a URL, or undefined when it has none. */
function originOf (url: string | undefined): string | undefined {
  if (url === undefined) return undefined
  try {
    const o = new URL(url).origin
    return o === 'null' ? undefined : o
  } catch {
    return undefined
  }
}

export function createOriginPolicy (config: CorsConfig, publicUrl?: string): OriginPolicy {
  const anyOrigin = config.origins.includes('*')
  const listed = new Set(config.origins)
  const publicOrigin = originOf(publicUrl)
  const allowsCrossOrigin = (origin: string): boolean => anyOrigin || listed.has(origin)
  return {
    anyOrigin,
    allowsCrossOrigin,
    allows (request) {
      const origin = request.headers.origin
      if (origin === undefined) return true
      if (allowsCrossOrigin(origin)) return true
      // The gateway's own pages (the console at /ui/) are not cross-origin: a page cannot forge its Origin.
      if (publicOrigin !== undefined && origin === publicOrigin) return true
      return origin === `${request.protocol}://${request.host}`
    }
  }
}

function isWebSocketUpgrade (request: FastifyRequest): boolean {
  return (request.headers.upgrade ?? '').toLowerCase() === 'websocket'
}

function isPreflight (request: FastifyRequest): boolean {
  return request.method === 'OPTIONS' && request.headers.origin !== undefined && request.headers['access-control-request-method'] !== undefined
}

export interface CorsPluginOptions {
  config: CorsConfig
  origins: OriginPolicy
}

async function corsPlugin (app: FastifyInstance, opts: CorsPluginOptions): Promise<void> {
  const { config, origins } = opts
  await app.register(cors, {
    // Echo an allowed origin, or `*` when configured (config refuses it with credentials); anything else gets no CORS headers.
    origin: (origin, cb) => {
      if (origin === undefined || !origins.allowsCrossOrigin(origin)) { cb(null, false); return }
      cb(null, origins.anyOrigin ? '*' : origin)
    },
    credentials: config.credentials,
    methods: METHODS,
    allowedHeaders: ALLOWED_HEADERS,
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: config.maxAgeSeconds,
    strictPreflight: false
  })
  // Registered after @fastify/cors, whose hook has already answered every allowed preflight.
  app.addHook('onRequest', async (request) => {
    if (!request.is404 && isPreflight(request) && !origins.allowsCrossOrigin(request.headers.origin as string)) {
      throw Problems.originForbidden(`Origin ${request.headers.origin as string} may not call this API (server.cors.origins).`)
    }
  })
}

async function websocketOriginPlugin (app: FastifyInstance, opts: { origins: OriginPolicy }): Promise<void> {
  app.addHook('onRequest', async (request) => {
    if (!request.is404 && isWebSocketUpgrade(request) && !opts.origins.allows(request)) {
      throw Problems.originForbidden(`Origin ${request.headers.origin ?? ''} may not open WebSockets on this gateway (server.cors.origins).`)
    }
  })
}

/** Register before the auth plugin. */
export default fp<CorsPluginOptions>(corsPlugin, { name: 'kdebug-cors', fastify: '5.x' })
/** Register after the auth plugin (and the audit budget gate). */
export const websocketOrigin = fp<{ origins: OriginPolicy }>(websocketOriginPlugin, { name: 'kdebug-websocket-origin', fastify: '5.x' })
