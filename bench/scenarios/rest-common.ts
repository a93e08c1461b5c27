// Shared set-up of the HTTP REST scenarios (rest-warm, rest-cold): a mock
// upstream process, the gateway process pointed at it through a kubeconfig
// (audit file in the bench tmpDir, logging at warn), and the request shapes
// of create-ephemeral and whoami, through the gateway and straight upstream.
import { fileURLToPath } from 'node:url'
import { startService, type Service } from '../lib/service.ts'
import { startGateway, writeKubeconfig } from '../lib/gateway.ts'
import type { CacheStats } from '../../src/auth/single-flight.ts'
import type { HttpLoadInput, Step, TokenMode } from '../workers/http-load.ts'
import type { ScenarioContext } from './types.ts'

const MOCK = fileURLToPath(new URL('../workers/mock-upstream.ts', import.meta.url))

export interface GatewayStats { cpuUs: number, rss: number, heapUsed: number, authn?: CacheStats, authz: CacheStats }
export interface MockStats {
  cpuUs: number
  rss: number
  requests: number
  byRoute: Record<string, number>
  tokenReviews: number
  distinctTokens: number
  maxTokenReviewsPerToken: number
  sars: number
  distinctSars: number
  maxSarsPerKey: number
}

export interface RestRig {
  mock: Service<{ port: number }>
  gateway: Service<{ port: number }>
  mockUrl: string
  gatewayUrl: string
  gatewayStats: () => Promise<GatewayStats>
  mockStats: () => Promise<MockStats>
  stop: () => Promise<void>
}

export const CONCURRENCY = 50
/**
 * The warm callers of create: 200 users in turn. A user's reservations in their session ledger
 * (the Lease that keeps the session limit across replicas) are made one at a time on a replica,
 * so 50 connections of one user would measure that queue, not the gateway; whoami uses WARM_TOKEN.
 */
export const WARM_POOL = { kind: 'pool' as const, users: 200, prefix: 'tok-warm-user-' }
export const WARM_TOKEN = { kind: 'fixed' as const, token: 'tok-warm-user-0' }
export const NAMESPACE = 'demo'
export const POD = 'web'
/**
 * ttlSeconds 1: the mock never shows a created session (the PATCH answers the pod unchanged), so
 * a session ends, for the per-user limit, when it expires. One second keeps each user's ledger
 * at the few live sessions a real user has (hundreds of creates per user and minute would
 * otherwise fill it to the limit).
 */
export const CREATE_BODY = JSON.stringify({ image: 'busybox:1.36', reason: 'bench: checking DNS from the pod', ttlSeconds: 1 })
// What the gateway sends for that body (strategic merge patch of spec.ephemeralContainers), for the direct baseline.
const EPHEMERAL_PATCH = JSON.stringify({
  spec: {
    ephemeralContainers: [{
      name: 'debugger-bench1',
      image: 'busybox:1.36',
      imagePullPolicy: 'IfNotPresent',
      stdin: true,
      tty: true,
      terminationMessagePolicy: 'File',
      env: [{ name: 'KDEBUG_SESSION', value: '0193a1b2c3d4e5f6a7b8c9d0e1f2a3b4' }, { name: 'KDEBUG_REQUESTED_BY', value: 'user-1' }, { name: 'KDEBUG_REASON', value: 'bench: checking DNS from the pod' }, { name: 'KDEBUG_EXPIRES_AT', value: '2026-11-27T12:00:00.000Z' }],
      securityContext: {}
    }]
  }
})

export async function startRestRig (ctx: ScenarioContext, name: string, opts: { audit?: boolean } = {}): Promise<RestRig> {
  const mock = await startService<{ port: number }>(MOCK, {})
  const mockUrl = `http://127.0.0.1:${mock.ready.port}`
  const gateway = await startGateway(ctx, name, writeKubeconfig(ctx, name, mockUrl), {
    ...(opts.audit === false ? { BENCH_AUDIT: 'noop' } : {}),
    // The mock serves no events: no drop watch here (sse-fanout measures that).
    KDEBUG_DROPS_ENABLED: 'false'
  })
  return {
    mock,
    gateway,
    mockUrl,
    gatewayUrl: `http://127.0.0.1:${gateway.ready.port}`,
    gatewayStats: async () => await gateway.call<GatewayStats>('stats'),
    mockStats: async () => await mock.call<MockStats>('stats'),
    stop: async () => { await gateway.stop(); await mock.stop() }
  }
}

export type Op = 'create' | 'whoami'

/** The operation through the gateway. */
export function viaGateway (rig: RestRig, op: Op, tokens: TokenMode): Omit<HttpLoadInput, 'mode' | 'connections' | 'rate' | 'warmupMs' | 'durationMs' | 'burst'> {
  const steps: Step[] = op === 'create'
    ? [{ method: 'POST', path: `/v1/namespaces/${NAMESPACE}/pods/${POD}/ephemeral-containers`, body: CREATE_BODY, contentType: 'application/json' }]
    : [{ method: 'GET', path: '/v1/whoami' }]
  return { url: rig.gatewayUrl, steps, headers: { accept: 'application/json' }, tokens, tokenIn: 'authorization' }
}

/**
 * The same operation straight to the upstream: create = kubectl debug's own
 * calls (GET the pod, PATCH ephemeralcontainers); whoami = the TokenReview
 * the answer comes from.
 */
export function direct (rig: RestRig, op: Op): Omit<HttpLoadInput, 'mode' | 'connections' | 'rate' | 'warmupMs' | 'durationMs' | 'burst'> {
  const pod = `/api/v1/namespaces/${NAMESPACE}/pods/${POD}`
  const steps: Step[] = op === 'create'
    ? [{ method: 'GET', path: pod }, { method: 'PATCH', path: `${pod}/ephemeralcontainers`, body: EPHEMERAL_PATCH, contentType: 'application/strategic-merge-patch+json' }]
    : [{ method: 'POST', path: '/apis/authentication.k8s.io/v1/tokenreviews', body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: '@TOKEN@' } }), contentType: 'application/json' }]
  return { url: rig.mockUrl, steps, headers: { accept: 'application/json', authorization: 'Bearer gateway-token' }, tokens: { kind: 'fixed', token: 'tok-user-1' }, tokenIn: 'body' }
}

export function timing (ctx: ScenarioContext): { warmupMs: number, durationMs: number } {
  return ctx.quick ? { warmupMs: 100, durationMs: 300 } : { warmupMs: 2000, durationMs: 3000 }
}
