// Test doubles for the auth layer: a scriptable ReviewClient and a throwaway
// Fastify app on 127.0.0.1:0 with the auth plugin and a few routes.
import Fastify, { type FastifyInstance } from 'fastify'
import { Problems, isProblemError } from '../../src/errors.ts'
import { sendProblem } from '../../src/plugins/problem.ts'
import type { Principal } from '../../src/auth/identity.ts'
import type { ReviewClient, SubjectAccessReviewResult, SubjectAccessReviewSpec, TokenReviewResult } from '../../src/kube/reviews.ts'
import type { Authenticator } from '../../src/auth/authenticator.ts'
import { SarAuthorizer } from '../../src/auth/authorizer.ts'
import { authPlugin, type AuthPluginOptions } from '../../src/auth/plugin.ts'

/** One RBAC-ish allow rule; absent fields match anything. */
export interface FakeRule {
  user?: string
  group?: string
  verb: string
  apiGroup?: string
  resource: string
  subresource?: string
  namespace?: string
  name?: string
}

export const sleep = (ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms))

export class FakeReviewClient implements ReviewClient {
  tokens = new Map<string, Principal>()
  rules: FakeRule[] = []
  /** Explicit denies (`denied: true`), checked before rules. */
  denyRules: FakeRule[] = []
  down = false
  /** Throw a plain Error (a bug, not an outage). */
  broken = false
  delayMs = 0
  /** While set, TokenReviews wait for it to open (tests hold the first review until every caller has joined it). */
  tokenReviewGate: Promise<void> | undefined
  tokenReviewCalls: Array<{ audiences?: string[] }> = []
  sarCalls: SubjectAccessReviewSpec[] = []
  audiencesAnswer: string[] | undefined

  async tokenReview (token: string, audiences?: string[]): Promise<TokenReviewResult> {
    this.tokenReviewCalls.push(audiences ? { audiences } : {})
    if (this.tokenReviewGate) await this.tokenReviewGate
    if (this.delayMs) await sleep(this.delayMs)
    if (this.down) throw Problems.upstreamUnavailable(undefined, { retryAfter: 5 })
    const user = this.tokens.get(token)
    if (!user) return { authenticated: false, error: 'invalid bearer token' }
    const result: TokenReviewResult = { authenticated: true, user: structuredClone(user) }
    if (this.audiencesAnswer) result.audiences = this.audiencesAnswer
    return result
  }

  async subjectAccessReview (spec: SubjectAccessReviewSpec): Promise<SubjectAccessReviewResult> {
    this.sarCalls.push(structuredClone(spec))
    if (this.delayMs) await sleep(this.delayMs)
    if (this.broken) throw new Error('boom')
    if (this.down) throw Problems.upstreamUnavailable(undefined, { retryAfter: 5 })
    if (this.denyRules.some(r => matches(r, spec))) return { allowed: false, denied: true, reason: 'explicitly denied' }
    const rule = this.rules.find(r => matches(r, spec))
    return rule ? { allowed: true, reason: 'fake RBAC: allowed' } : { allowed: false }
  }
}

function matches (r: FakeRule, spec: SubjectAccessReviewSpec): boolean {
  const a = spec.resourceAttributes
  if (r.user !== undefined && r.user !== spec.user) return false
  if (r.group !== undefined && !spec.groups.includes(r.group)) return false
  return r.verb === a.verb &&
    (r.apiGroup ?? '') === (a.group ?? '') &&
    r.resource === a.resource &&
    (r.subresource === undefined || r.subresource === a.subresource) &&
    (r.namespace === undefined || r.namespace === a.namespace) &&
    (r.name === undefined || r.name === a.name)
}

export interface TestApp {
  app: FastifyInstance
  url: string
  close: () => Promise<void>
}

export interface TestAppOptions extends Partial<AuthPluginOptions> {
  authenticator: Authenticator
  client?: FakeReviewClient
}

/** A Fastify app with the auth plugin: GET /whoami, GET /namespaces/:ns/pods (needs `list pods`), GET /healthz (no auth). */
export async function startTestApp (opts: TestAppOptions): Promise<TestApp> {
  const app = Fastify({ logger: false })
  app.setErrorHandler((err, _request, reply) => {
    if (isProblemError(err)) return sendProblem(reply, err)
    return sendProblem(reply, Problems.internal())
  })
  const authorizer = opts.authorizer ?? new SarAuthorizer({ client: opts.client ?? new FakeReviewClient(), allowTtlMs: 10_000, denyTtlMs: 10_000 })
  const pluginOpts: AuthPluginOptions = { authenticator: opts.authenticator, authorizer }
  if (opts.delegation !== undefined) pluginOpts.delegation = opts.delegation
  if (opts.ticketAuthenticator) pluginOpts.ticketAuthenticator = opts.ticketAuthenticator
  await app.register(authPlugin, pluginOpts)
  app.get('/healthz', { config: { auth: false } }, async () => ({ ok: true }))
  app.get('/whoami', async (request) => request.identity)
  app.get('/stream', { config: { ticket: true } }, async (request) => request.identity)
  app.get<{ Params: { ns: string } }>('/namespaces/:ns/pods', async (request) => {
    await app.authorize(request, [{ verb: 'list', resource: 'pods', namespace: request.params.ns }])
    return { user: request.identity.user }
  })
  app.get<{ Params: { ns: string, pod: string } }>('/namespaces/:ns/pods/:pod/debug', async (request) => {
    const { ns, pod } = request.params
    await app.authorize(request, [
      { verb: 'get', resource: 'pods', namespace: ns, name: pod },
      { verb: 'patch', resource: 'pods', subresource: 'ephemeralcontainers', namespace: ns, name: pod }
    ])
    return { ok: true }
  })
  const address = await app.listen({ host: '127.0.0.1', port: 0 })
  return { app, url: address, close: async () => { await app.close() } }
}

export async function get (url: string, headers: Record<string, string> = {}): Promise<{ status: number, headers: Headers, body: any }> {
  const res = await fetch(url, { headers })
  const text = await res.text()
  let body: unknown = text
  try { body = JSON.parse(text) } catch {}
  return { status: res.status, headers: res.headers, body }
}

export function bearer (token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` }
}
