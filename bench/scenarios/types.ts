import type { EnvRecord } from '../lib/env.ts'
import type { Metric } from '../lib/results.ts'

export interface ScenarioContext {
  quick: boolean
  env: EnvRecord
  /** Progress lines (stderr), so stdout stays the table. */
  log: (msg: string) => void
  /** A scratch directory removed after the run. */
  tmpDir: string
}

export interface Scenario {
  id: string
  description: string
  run (ctx: ScenarioContext): Promise<Metric[]>
}
