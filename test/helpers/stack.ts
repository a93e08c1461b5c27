// Test harness: a simulated cluster plus a gateway wired to it exactly like
// main.ts does (createServices + buildApp), listening on loopback.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { startSim, type Sim, type SimOptions } from '../../src/sim/index.ts'
import { resolveConfig, type Config } from '../../src/config.ts'
import { createServices, type Services } from '../../src/services.ts'
import { buildApp } from '../../src/app.ts'
import type { AuditLog } from '../../src/audit/types.ts'
import type { Logger } from 'pino'

export interface StackOptions {
  sim?: SimOptions
  /** An already running sim to reuse (several gateways, restarts). */
  existingSim?: Sim
  /** Deep-merged over the test defaults. */
  config?: Record<string, unknown>
  audit?: AuditLog
  /** A pino logger for the gateway (tests that inspect logs). */
  logger?: Logger
  /** Config that depends on the stack's temp dir (merged over `config`). */
  configure?: (dir: string) => Record<string, unknown>
  /** Leave the temp dir on close (the caller removes it). */
  keepDir?: boolean
  /** Time source of the token and authorization caches, the per-caller budgets, session expiry and tickets (a ManualClock's `now`). */
  clock?: () => number
  /** Called after buildApp and before listen: tests add routes of their own here. */
  extend?: (app: FastifyInstance) => void | Promise<void>
}

export interface Stack {
  sim: Sim
  app: FastifyInstance
  services: Services
  config: Config
  /** http://127.0.0.1:PORT of the gateway. */
  url: string
  auditFile: string
  dir: string
  /** fetch against the gateway with a demo user's token (`alice`, `bob`, …) or none. */
  request: (path: string, init?: RequestInit & { as?: string, token?: string }) => Promise<Response>
  close: () => Promise<void>
}

function isPlainObject (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

export function deepMerge (base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base }
  for (const [k, v] of Object.entries(over)) {
    out[k] = isPlainObject(v) && isPlainObject(out[k]) ? deepMerge(out[k] as Record<string, unknown>, v) : v
  }
  return out
}

export async function startStack (opts: StackOptions = {}): Promise<Stack> {
  const sim = opts.existingSim ?? await startSim({ startDelayMs: 10, ...opts.sim })
  const dir = mkdtempSync(join(tmpdir(), 'kdebug-test-'))
  const auditFile = join(dir, 'audit.log')
  const config = resolveConfig(deepMerge({
    server: { host: '127.0.0.1', port: 0 },
    logging: { level: 'silent' },
    // Anchoring off by default: tests of it turn it on (it writes a Lease in the sim).
    audit: { file: auditFile, replica: 'test-1', anchor: { intervalSeconds: 0 } }
  }, deepMerge(opts.config ?? {}, opts.configure?.(dir) ?? {})))
  const services = await createServices(config, { kubeconfigText: sim.kubeconfig, audit: opts.audit, ...(opts.clock ? { clock: opts.clock } : {}) })
  const app = await buildApp({ ...services, config, logger: opts.logger, clock: opts.clock })
  if (opts.extend) await opts.extend(app)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  const url = `http://127.0.0.1:${port}`
  return {
    sim,
    app,
    services,
    config,
    url,
    auditFile,
    dir,
    request: async (path, init = {}) => {
      const { as, token, ...rest } = init
      const headers = new Headers(rest.headers)
      const bearer = token ?? (as ? sim.tokens[as] : undefined)
      if (bearer) headers.set('authorization', `Bearer ${bearer}`)
      if (rest.body && !headers.has('content-type')) headers.set('content-type', 'application/json')
      return await fetch(url + path, { ...rest, headers })
    },
    close: async () => {
      await app.close()
      await services.close()
      if (!opts.existingSim) await sim.close()
      if (!opts.keepDir) rmSync(dir, { recursive: true, force: true })
    }
  }
}
