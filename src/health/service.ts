// Readiness as a value: runs every check (a throwing check counts as failed),
// and says whether this replica should get traffic. Critical checks decide;
// `critical: false` ones are only reported.
import type { ReadinessCheck } from '../readiness.ts'

export interface CheckResult {
  name: string
  ok: boolean
  critical: boolean
  detail?: string
}

export type ReadinessStatus = 'ready' | 'not-ready' | 'shutting-down'

export interface Readiness {
  status: ReadinessStatus
  checks: CheckResult[]
}

export interface HealthServiceOptions {
  checks: ReadinessCheck[]
  isShuttingDown: () => boolean
}

export class HealthService {
  readonly #o: HealthServiceOptions

  constructor (opts: HealthServiceOptions) {
    this.#o = opts
  }

  async readiness (): Promise<Readiness> {
    // Shutting down: load balancers must stop sending whatever the dependencies say.
    if (this.#o.isShuttingDown()) return { status: 'shutting-down', checks: [] }
    const checks = await Promise.all(this.#o.checks.map(async (c): Promise<CheckResult> => {
      const r = await c.check().catch((err: Error) => ({ ok: false, detail: err.message }))
      return { name: c.name, ok: r.ok, critical: c.critical !== false, ...(r.detail ? { detail: r.detail } : {}) }
    }))
    const ready = checks.every(c => c.ok || !c.critical)
    return { status: ready ? 'ready' : 'not-ready', checks }
  }
}
