// Starting the gateway as a bench process (workers/gateway.ts, built like
// src/main.ts from KDEBUG_* environment) against a kubeconfig that points at
// one of the bench's API servers (a mock or the sim). Every scenario that
// measures the gateway starts it here, so all of them measure the same
// production wiring: TokenReview/SAR authentication and authorization, the
// policy, per-caller budgets, the audit file (group commit) and the real routes.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { startService, type Service } from './service.ts'
import type { ScenarioContext } from '../scenarios/types.ts'
import { defaultPolicy } from '../../src/policy/default.ts'

const GATEWAY = fileURLToPath(new URL('../workers/gateway.ts', import.meta.url))

/** A kubeconfig for `server` as the gateway's own identity (token `gateway-token`); returns its path. */
export function writeKubeconfig (ctx: ScenarioContext, name: string, server: string): string {
  const file = path.join(ctx.tmpDir, `${name}-kubeconfig.yaml`)
  fs.writeFileSync(file, [
    'apiVersion: v1', 'kind: Config', 'current-context: mock',
    `clusters: [{ name: mock, cluster: { server: "${server}", insecure-skip-tls-verify: true } }]`,
    'users: [{ name: gateway, user: { token: gateway-token } }]',
    'contexts: [{ name: mock, context: { cluster: mock, user: gateway } }]', ''
  ].join('\n'), { mode: 0o600 })
  return file
}

/**
 * The default policy with every rule's session limit at its maximum (1,000): under Zipf load
 * (rest-cold) the busiest bench user creates about a hundred sessions a second, each live for
 * its one-second TTL (rest-common.ts CREATE_BODY), far past a person's 3 or 10. The limit is
 * still counted, in the user's ledger, on every create.
 */
function writeBenchPolicy (ctx: ScenarioContext): string {
  const file = path.join(ctx.tmpDir, 'bench-policy.json')
  const rules = defaultPolicy.rules.map(r => ({ ...r, allow: { ...r.allow, maxSessionsPerUser: 1000 } }))
  fs.writeFileSync(file, JSON.stringify({ policy: { ...defaultPolicy, rules } }))
  return file
}

/**
 * The environment every bench gateway gets. Budgets stay on the path (every request is
 * charged and checked) but are sized for load generators: one bench token stands in for the
 * many users a replica serves, so 5,000 sessions or 10,000 SSE subscribers from it, and its
 * thousands of audit records a second, must not hit the per-user defaults (32 streams,
 * 1,200 records a minute), nor its creates the per-user session limit (writeBenchPolicy).
 * A fixed signing key, as main.ts requires. Each gateway is its own
 * audit replica: its chain is anchored in its own Lease on the mock (with one replica name,
 * the second gateway would find the first one's anchor and report its own chain as rewritten).
 */
export function gatewayEnv (ctx: ScenarioContext, name: string, kubeconfig: string): Record<string, string> {
  return {
    KDEBUG_CONFIG: writeBenchPolicy(ctx),
    KDEBUG_KUBE_KUBECONFIG: kubeconfig,
    KDEBUG_AUDIT_FILE: path.join(ctx.tmpDir, `${name}-audit.jsonl`),
    KDEBUG_AUDIT_REPLICA: `bench-${name}`,
    KDEBUG_LOGGING_LEVEL: 'warn',
    KDEBUG_SECURITY_SIGNING_KEY: 'bench-signing-key-0123456789abcdef0123456789abcdef',
    KDEBUG_SESSIONS_REAPER_INTERVAL_SECONDS: '3600',
    KDEBUG_LIMITS_STREAMS_PER_USER: '1000000',
    KDEBUG_LIMITS_AUDIT_RECORDS_PER_USER_PER_MINUTE: '1000000000'
  }
}

/**
 * The gateway process. BENCH_GATEWAY_NODE_OPTIONS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles it;
 * `env` overrides gatewayEnv (e.g. KDEBUG_DROPS_ENABLED, BENCH_AUDIT=noop).
 */
export async function startGateway (ctx: ScenarioContext, name: string, kubeconfig: string, env: Record<string, string> = {}): Promise<Service<{ port: number }>> {
  return await startService<{ port: number }>(GATEWAY, {}, {
    execArgv: ['--expose-gc', ...(process.env.BENCH_GATEWAY_NODE_OPTIONS ?? '').split(' ').filter(Boolean)],
    env: { ...gatewayEnv(ctx, name, kubeconfig), ...env },
    // Loading the whole app (type stripping included) takes seconds on a busy 2-core machine.
    timeoutMs: 120_000
  })
}
