// The reference web console at /ui/: the static files `npm run build:ui`
// writes (no CDN: everything the browser runs comes from this gateway), and
// GET /ui/config.json — what the console needs before sign-in (namespaces to
// offer, the OIDC issuer and public client id). Never secrets: the console is
// a public client (authorization code + PKCE), and these routes need no token.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import fastifyStatic from '@fastify/static'
import { Type, type Static } from '@sinclair/typebox'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { AuthenticationConfig } from '../auth/config-schema.ts'
import type { UiConfig } from './config-schema.ts'

/** Where `npm run build:ui` writes by default: ui/dist of the installation (from src/ui/ and dist/ui/ alike). */
export const DEFAULT_UI_DIR = fileURLToPath(new URL('../../ui/dist/', import.meta.url))

export class UiBuildMissingError extends Error {
  constructor (dir: string) {
    super(`ui.enabled is true but ${join(dir, 'index.html')} does not exist: build the console with \`npm run build:ui\` (or set ui.dir)`)
    this.name = 'UiBuildMissingError'
  }
}

export const UiClientConfigSchema = Type.Object({
  namespaces: Type.Array(Type.String()),
  nodeDebugNamespace: Type.String(),
  oidc: Type.Optional(Type.Object({
    issuer: Type.String(),
    clientId: Type.String(),
    scopes: Type.Array(Type.String())
  }))
})
export type UiClientConfig = Static<typeof UiClientConfigSchema>

export interface UiPluginOptions {
  ui: UiConfig
  authentication: AuthenticationConfig
  nodeDebugNamespace: string
}

/** Pure: what GET /ui/config.json answers. OIDC only when the gateway verifies OIDC tokens. */
export function clientConfig (opts: UiPluginOptions): UiClientConfig {
  const out: UiClientConfig = { namespaces: opts.ui.namespaces, nodeDebugNamespace: opts.nodeDebugNamespace }
  const oidc = opts.authentication.oidc
  if (opts.authentication.mode === 'oidc' && oidc) {
    out.oidc = { issuer: oidc.issuerUrl, clientId: opts.ui.oidc.clientId ?? oidc.audience, scopes: opts.ui.oidc.scopes }
  }
  return out
}

/**
 * Pure: the console's Content-Security-Policy. Scripts only from here; WebAssembly
 * for the asciicast player's terminal; inline styles because xterm.js's DOM
 * renderer writes <style> elements at run time; the OIDC issuer reachable for
 * discovery and the token exchange; framing only by the listed portals.
 */
export function contentSecurityPolicy (opts: UiPluginOptions): string {
  const connect = ["'self'"]
  const oidc = clientConfig(opts).oidc
  if (oidc) connect.push(new URL(oidc.issuer).origin)
  return [
    "default-src 'none'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    `connect-src ${connect.join(' ')}`,
    "worker-src 'self' blob:",
    "base-uri 'none'",
    "form-action 'self'",
    `frame-ancestors ${["'self'", ...opts.ui.frameAncestors].join(' ')}`
  ].join('; ')
}

export async function uiPlugin (fastify: FastifyInstance, opts: UiPluginOptions): Promise<void> {
  const dir = opts.ui.dir ?? DEFAULT_UI_DIR
  // Fail at start, not with a 404 page later: an operator who enabled the console wants it.
  if (!existsSync(join(dir, 'index.html'))) throw new UiBuildMissingError(dir)
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const csp = contentSecurityPolicy(opts)
  const config = clientConfig(opts)

  // Public like /openapi.json, and outside the API contract.
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, auth: false }
    route.schema = { ...route.schema, hide: true }
  })
  app.addHook('onSend', async (_request, reply) => {
    reply.header('content-security-policy', csp)
    reply.header('x-content-type-options', 'nosniff')
    // The OIDC redirect carries the authorization code in the query: never send it on.
    reply.header('referrer-policy', 'no-referrer')
  })

  app.get('/ui', async (_request, reply) => await reply.redirect('/ui/', 308))
  app.get('/ui/config.json', { schema: { response: { 200: UiClientConfigSchema } } }, async (_request, reply) => {
    reply.header('cache-control', 'no-store')
    return config
  })
  await app.register(fastifyStatic, {
    root: dir,
    prefix: '/ui/',
    decorateReply: false,
    index: 'index.html',
    // Bundles are named by content hash (ui/build.ts): cache them for good; index.html never.
    setHeaders: (reply, path) => {
      reply.header('cache-control', path.endsWith('.html') ? 'no-cache' : 'public, max-age=31536000, immutable')
    }
  })
}
