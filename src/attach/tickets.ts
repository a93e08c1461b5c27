// Stream tickets: browsers cannot send an Authorization header with a
// WebSocket or an EventSource, so they first POST /v1/stream-tickets (with
// the header) and pass the answer as `?ticket=` to exactly one stream URL.
//
// Tickets are stateless: `kdt1.<payload>.<hmac>` where the payload (base64url
// JSON) carries the identity (with delegation), the bound path (+ `container`
// query), a random id and the expiry, signed with HMAC-SHA256. Any replica
// with the same secret can verify one. Single use is enforced by a bounded
// per-replica set of redeemed ids kept until their expiry — so a ticket can be
// redeemed at most once per replica within its ~30 s life. That is the
// trade-off against a shared store; a ticket is bound to one URL and one
// identity, so a second use elsewhere gains an attacker nothing the first
// holder did not already have. The ticket is a secret: it never goes into a
// log, an error or an audit record.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Type, type Static, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Identity, Principal } from '../auth/identity.ts'
import type { TicketAuthenticator } from '../auth/authenticator.ts'
import { Problems } from '../errors.ts'
import { problemResponses } from '../schemas/problem.ts'
import type { AuditTarget } from '../audit/types.ts'
import { auditRequest } from '../audit/records.ts'
import { callerOf } from '../plugins/decision-audit.ts'

const PREFIX = 'kdt1'

export interface TicketServiceOptions {
  /** HMAC key; random per process when unset (single-replica only). */
  secret?: string
  ttlMs: number
  maxUsed: number
  now?: () => number
}

/** What a ticket is bound to: a path and, for attach, the container query parameter. */
export interface TicketBinding {
  path: string
  container?: string
}

interface WirePrincipal { u: string, g: string[], id?: string, x?: Record<string, string[]> }
interface WirePayload { n: string, e: number, p: string, c?: string, i: WirePrincipal, a?: WirePrincipal }

function toWire (p: Principal): WirePrincipal {
  const w: WirePrincipal = { u: p.user, g: p.groups }
  if (p.uid) w.id = p.uid
  if (p.extra && Object.keys(p.extra).length > 0) w.x = p.extra
  return w
}

function fromWire (w: WirePrincipal): Principal {
  const p: Principal = { user: w.u, groups: w.g }
  if (w.id) p.uid = w.id
  if (w.x) p.extra = w.x
  return p
}

/** The binding of a stream URL (absolute or a path) as tickets see it; undefined if it is not a gateway API path. */
export function bindingOf (url: string): TicketBinding | undefined {
  let parsed: URL
  try { parsed = new URL(url, 'http://gateway.invalid') } catch { return undefined }
  if (!parsed.pathname.startsWith('/v1/')) return undefined
  const container = parsed.searchParams.get('container')
  return container !== null && container !== '' ? { path: parsed.pathname, container } : { path: parsed.pathname }
}

export class TicketService implements TicketAuthenticator {
  readonly #key: Buffer
  readonly #ttlMs: number
  readonly #maxUsed: number
  readonly #now: () => number
  /** Redeemed ticket id → its expiry (ms); entries leave once expired. */
  readonly #used = new Map<string, number>()

  constructor (opts: TicketServiceOptions) {
    this.#key = opts.secret ? Buffer.from(opts.secret, 'utf8') : randomBytes(32)
    this.#ttlMs = opts.ttlMs
    this.#maxUsed = opts.maxUsed
    this.#now = opts.now ?? Date.now
  }

  #sign (data: string): Buffer {
    return createHmac('sha256', this.#key).update(data).digest()
  }

  issue (identity: Identity, binding: TicketBinding): { ticket: string, expiresAt: Date } {
    const expires = this.#now() + this.#ttlMs
    const payload: WirePayload = { n: randomBytes(16).toString('base64url'), e: expires, p: binding.path, i: toWire(identity) }
    if (binding.container !== undefined) payload.c = binding.container
    if (identity.actor) payload.a = toWire(identity.actor)
    const body = `${PREFIX}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`
    return { ticket: `${body}.${this.#sign(body).toString('base64url')}`, expiresAt: new Date(expires) }
  }

  /** The identity of a valid, unexpired, unused ticket bound to this URL; marks it used. */
  redeem (ticket: string, url: string): Identity | undefined {
    const parts = ticket.split('.')
    if (parts.length !== 3 || parts[0] !== PREFIX) return undefined
    const body = `${parts[0]}.${parts[1] as string}`
    const sig = Buffer.from(parts[2] as string, 'base64url')
    const want = this.#sign(body)
    if (sig.length !== want.length || !timingSafeEqual(sig, want)) return undefined
    let payload: WirePayload
    try { payload = JSON.parse(Buffer.from(parts[1] as string, 'base64url').toString('utf8')) as WirePayload } catch { return undefined }
    const now = this.#now()
    if (typeof payload.e !== 'number' || payload.e <= now) return undefined
    const binding = bindingOf(url)
    if (!binding || binding.path !== payload.p || binding.container !== payload.c) return undefined
    if (!this.#markUsed(payload.n, payload.e, now)) return undefined
    const identity: Identity = { ...fromWire(payload.i), method: 'ticket' }
    if (payload.a) identity.actor = fromWire(payload.a)
    return identity
  }

  #markUsed (id: string, expires: number, now: number): boolean {
    if (this.#used.has(id)) return false
    if (this.#used.size >= this.#maxUsed) {
      for (const [k, e] of this.#used) if (e <= now) this.#used.delete(k)
      // Fail closed: forgetting a live id would make it reusable.
      if (this.#used.size >= this.#maxUsed) return false
    }
    this.#used.set(id, expires)
    return true
  }

  /** TicketAuthenticator for the auth plugin (`?ticket=` on routes with `config: { ticket: true }`). */
  async authenticate (ticket: string, request: FastifyRequest): Promise<Identity | undefined> {
    return this.redeem(ticket, request.url)
  }

  /** Redeemed ids currently remembered (tests, metrics). */
  get usedCount (): number { return this.#used.size }
}

export const StreamTicketRequestSchema = Type.Object({
  url: Type.String({ minLength: 4, maxLength: 2048, description: 'The stream the ticket is for: a path such as `/v1/namespaces/demo/pods/web/attach?container=debugger-abcde` or `/v1/drops` (an absolute URL is accepted; only its path and `container` parameter are bound).' })
}, { additionalProperties: false })
export type StreamTicketRequest = Static<typeof StreamTicketRequestSchema>

export const StreamTicketSchema = Type.Object({
  ticket: Type.String({ description: 'Pass as `?ticket=` to the stream URL. Single use; a secret.' }),
  expiresAt: Type.String({ format: 'date-time' }),
  path: Type.String({ description: 'The path the ticket is bound to.' }),
  container: Type.Optional(Type.String({ description: 'The `container` query parameter the ticket is bound to.' }))
}, { additionalProperties: false })

const NAMESPACED = /^\/v1\/namespaces\/([^/]+)(?:\/pods\/([^/]+))?/

function safeDecode (s: string): string {
  try { return decodeURIComponent(s) } catch { return s }
}

/** The namespace and pod of a bound stream path, for the issuance record. */
export function ticketTarget (binding: TicketBinding): AuditTarget {
  const m = NAMESPACED.exec(binding.path)
  const t: AuditTarget = {}
  if (m?.[1] !== undefined) t.namespace = safeDecode(m[1])
  if (m?.[2] !== undefined) t.pod = safeDecode(m[2])
  if (binding.container !== undefined) t.container = binding.container
  return t
}

export async function streamTicketRoutes (fastify: FastifyInstance, opts: { tickets: TicketService }): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.post('/stream-tickets', {
    config: { auditAction: 'ticket.issue' },
    schema: {
      tags: ['streams'],
      summary: 'A single-use, short-lived ticket for one stream URL (for browsers: WebSocket and EventSource cannot send headers)',
      body: StreamTicketRequestSchema,
      response: { 201: StreamTicketSchema, ...problemResponses(429) }
    }
  }, async (request, reply) => {
    const binding = bindingOf(request.body.url)
    if (!binding) {
      throw Problems.validation('url must be a gateway stream path such as /v1/namespaces/NS/pods/POD/attach.', { errors: [{ field: '/body/url', message: 'not a /v1/ path' }] })
    }
    app.budgets.takeTicket(request.identity)
    const { ticket, expiresAt } = opts.tickets.issue(request.identity, binding)
    // Who got a ticket for which stream — never the ticket itself. No record, no ticket.
    await auditRequest({
      audit: app.audit,
      caller: callerOf(request),
      action: 'ticket.issue',
      target: ticketTarget(binding),
      request: { path: binding.path, ...(binding.container !== undefined ? { container: binding.container } : {}), expiresAt: expiresAt.toISOString() }
    }, {})
    reply.code(201).header('cache-control', 'no-store')
    return { ticket, expiresAt: expiresAt.toISOString(), ...binding }
  })
}
