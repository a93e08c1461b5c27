// The real kubectl (v1.32) against a fresh sim: one sim per test file, its
// kubeconfig in a temp dir that is also kubectl's HOME (discovery cache).
import { before, after } from 'node:test'
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startSim, type Sim } from '../../src/sim/index.ts'

export const KUBECTL = '/usr/bin/kubectl'

export interface KubectlRun { code: number, stdout: string, stderr: string }

export interface KubectlHarness {
  /** false, or why the tests are skipped (for `test(name, { skip }, …)`). */
  skip: false | string
  sim: () => Sim
  kubectl: (args: string[], input?: string) => Promise<KubectlRun>
}

/** Registers before/after hooks in the calling test file. */
export function useKubectlSim (): KubectlHarness {
  const skip = existsSync(KUBECTL) ? false : `kubectl not installed at ${KUBECTL}`
  let sim: Sim | undefined
  let dir = ''
  before(async () => {
    if (skip) return
    dir = mkdtempSync(join(tmpdir(), 'sim-kubectl-'))
    sim = await startSim({ startDelayMs: 10, kubeconfigPath: join(dir, 'kubeconfig') })
  })
  after(async () => {
    if (skip) return
    await sim?.close()
    rmSync(dir, { recursive: true, force: true })
  })
  return {
    skip,
    sim: () => {
      if (!sim) throw new Error('the sim is not running')
      return sim
    },
    kubectl: async (args, input) => await new Promise(resolve => {
      const child = execFile(KUBECTL, args, { env: { ...process.env, KUBECONFIG: join(dir, 'kubeconfig'), HOME: dir }, timeout: 30_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0
        resolve({ code, stdout, stderr })
      })
      child.stdin?.end(input ?? '')
    })
  }
}
