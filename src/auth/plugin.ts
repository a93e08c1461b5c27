// Authentication, delegation and authorization for every route, as one plugin.
// An onRequest hook (before the body is read) turns `Authorization: Bearer …`
// into `request.identity`, applying Impersonate-* delegation; routes then call
// `app.authorize(request, [...])`. Routes opt out with `config: { auth: false }`
// (health, metrics, openapi). The token never reaches a log, error or reply.
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Problems, type ProblemError } from '../errors.ts'
import type { Identity, ResourceAttributes } from './identity.ts'
import type { Authenticator, TicketAuthenticator } from './authenticator.ts'
import type { SarAuthorizer } from './authorizer.ts'
import { applyDelegation, type HeaderMap } from './delegation.ts'

/** Seam for stream tickets (`?ticket=` on routes with `config: { ticket: true }`); implemented with attach. */
export interface AuthPluginOptions {
  authenticator: Authenticator
  authorizer: SarAuthorizer
  /** Honour Impersonate-* headers (default true); when false they are refused with 400 rather than silently ignored. */
  delegation?: boolean
  ticketAuthenticator?: TicketAuthenticator
  /** realm of the WWW-Authenticate challenge. */
  realm?: string
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The effective identity; set on every route without `config.auth === false`. */
    identity: Identity
  }
  interface FastifyInstance {
    /** Throws a 403 problem naming the first missing permission (503 when the API server cannot answer). */
    authorize (request: FastifyRequest, attrsList: readonly ResourceAttributes[]): Promise<void>
    authorizer: SarAuthorizer
  }
  interface FastifyContextConfig {
    /** false = no authentication (health, metrics, openapi). */
    auth?: boolean
    /** true = a `?ticket=` query parameter may stand in for the bearer token. */
    ticket?: boolean
  }
}

// Longer than real JWTs and service account tokens (Node caps all headers at 16 KiB); refused without asking anyone.
const MAX_TOKEN_LENGTH = 12 * 1024

type ChallengeError = 'invalid_request' | 'invalid_token'

function unauthenticated (realm: string, detail: string, error?: ChallengeError): ProblemError {
  const challenge = `Bearer realm="${realm}"` + (error ? `, error="${error}"` : '')
  return Problems.unauthenticated(detail, { headers: { 'WWW-Authenticate': challenge } })
}

/** The bearer token, or why there is none. */
export function parseBearer (header: string | undefined): { token: string } | { error: 'missing' | 'malformed' } {
  if (header === undefined || header === '') return { error: 'missing' }
  const m = /^Bearer +([^\s]+) *$/i.exec(header)
  if (!m) return { error: 'malformed' }
  return { token: m[1] as string }
}

const IMPERSONATE_PREFIX = 'impersonate-'

/**
 * Impersonate-* headers with one value per header line. Node's `headersDistinct`
 * keeps lines apart (a group name may contain a comma, as in the API server);
 * where it is missing (light-my-request's inject) joined values are split on commas.
 */
export function impersonationHeaders (request: FastifyRequest): HeaderMap {
  const distinct = (request.raw as { headersDistinct?: Record<string, string[]> }).headersDistinct
  const out: HeaderMap = {}
  if (distinct) {
    for (const [k, v] of Object.entries(distinct)) if (k.startsWith(IMPERSONATE_PREFIX)) out[k] = v
    return out
  }
  for (const [k, v] of Object.entries(request.headers)) {
    if (!k.startsWith(IMPERSONATE_PREFIX) || v === undefined) continue
    const list = Array.isArray(v) ? v : [v]
    out[k] = k === 'impersonate-user' || k === 'impersonate-uid' ? list : list.flatMap(s => s.split(/\s*,\s*/))
  }
  return out
}

async function auth (app: FastifyInstance, opts: AuthPluginOptions): Promise<void> {
  const { authenticator, authorizer, ticketAuthenticator } = opts
  const realm = opts.realm ?? 'kdebug-gateway'

  app.decorateRequest('identity', null as unknown as Identity)
  app.decorate('authorizer', authorizer)
  app.decorate('authorize', async function authorize (request: FastifyRequest, attrsList: readonly ResourceAttributes[]): Promise<void> {
    if (!request.identity) throw unauthenticated(realm, 'A valid bearer token is required.')
    await authorizer.authorizeAll(request.identity, attrsList)
  })

  app.addHook('onRequest', async (request) => {
    // Unknown routes answer 404 without asking who is calling.
    if (request.is404 || request.routeOptions.config.auth === false) return
    request.identity = await identify(request)
  })

  async function identify (request: FastifyRequest): Promise<Identity> {
    const header = request.headers.authorization
    if (header === undefined && request.routeOptions.config.ticket === true && ticketAuthenticator) {
      const ticket = (request.query as Record<string, unknown> | undefined)?.ticket
      if (typeof ticket === 'string' && ticket !== '') {
        const identity = await ticketAuthenticator.authenticate(ticket, request)
        if (!identity) throw unauthenticated(realm, 'The stream ticket is invalid, expired or already used.', 'invalid_token')
        return identity
      }
    }
    const parsed = parseBearer(header)
    if ('error' in parsed) {
      if (parsed.error === 'missing') throw unauthenticated(realm, 'A bearer token is required (Authorization: Bearer <token>).')
      throw unauthenticated(realm, 'The Authorization header must be "Bearer <token>".', 'invalid_request')
    }
    const principal = parsed.token.length > MAX_TOKEN_LENGTH ? undefined : await authenticator.authenticate(parsed.token)
    if (!principal) {
      request.log.debug({ method: authenticator.method }, 'bearer token rejected')
      throw unauthenticated(realm, 'The bearer token is invalid or expired.', 'invalid_token')
    }
    const caller: Identity = { ...principal, method: authenticator.method }
    const impersonate = impersonationHeaders(request)
    if (Object.keys(impersonate).length === 0) return caller
    // Known from here on: a refused delegation is audited as this caller's attempt.
    request.authenticatedCaller = caller
    if (opts.delegation === false) throw Problems.badRequest('Impersonate-* headers are not accepted: delegation is disabled on this gateway.')
    return await applyDelegation({ caller, headers: impersonate, authorizer })
  }
}

export const authPlugin = fp<AuthPluginOptions>(auth, { name: 'kdebug-auth', fastify: '5.x' })
export default authPlugin
