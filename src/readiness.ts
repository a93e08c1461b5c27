// What /readyz asks of each dependency; features provide checks, the health route runs them.
export interface ReadinessCheck {
  name: string
  /** Resolves ok/detail; must not throw. `critical: false` checks are reported but do not fail readiness. */
  check: () => Promise<{ ok: boolean, detail?: string }>
  critical?: boolean
}
