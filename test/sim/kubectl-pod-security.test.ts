// Real kubectl (v1.32) against the sim's Pod Security Admission: the demo world's payments
// namespace enforces baseline, kdebug is privileged with baseline warnings.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startSim } from '../../src/sim/index.ts'
import type { Sim } from '../../src/sim/index.ts'

const KUBECTL = '/usr/bin/kubectl'
const skip = existsSync(KUBECTL) ? false : `kubectl not installed at ${KUBECTL}`

let sim: Sim
let dir: string
let kubeconfig: string

before(async () => {
  if (skip) return
  dir = mkdtempSync(join(tmpdir(), 'sim-kubectl-psa-'))
  kubeconfig = join(dir, 'kubeconfig')
  sim = await startSim({ startDelayMs: 10, kubeconfigPath: kubeconfig })
})
after(async () => {
  if (skip) return
  await sim.close()
  rmSync(dir, { recursive: true, force: true })
})

interface Run { code: number, stdout: string, stderr: string }
function kubectl (args: string[]): Promise<Run> {
  return new Promise(resolve => {
    // HOME keeps kubectl's discovery cache per test run
    const child = execFile(KUBECTL, args, { env: { ...process.env, KUBECONFIG: kubeconfig, HOME: dir }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as any).code === 'number' ? (err as any).code : 1) : 0, stdout, stderr })
    })
    child.stdin?.end('')
  })
}

const ledgerEphemeral = (): string[] => ((sim.store.get('pods', 'payments', 'ledger') as any).spec.ephemeralContainers ?? []).map((c: any) => c.name)

test('debug -n payments ledger --profile=general is refused by PodSecurity; --profile=baseline works', { skip }, async () => {
  const r = await kubectl(['debug', '-n', 'payments', 'ledger', '--image=busybox', '--profile=general', '-c', 'dbg-general', '--context', 'carol'])
  assert.notEqual(r.code, 0)
  assert.match(r.stderr, /Error from server \(Forbidden\): pods "ledger" is forbidden: violates PodSecurity "baseline:latest": non-default capabilities \(container "dbg-general" must not include "SYS_PTRACE" in securityContext\.capabilities\.add\)/)
  assert.deepEqual(ledgerEphemeral(), [])
  const ok = await kubectl(['debug', '-n', 'payments', 'ledger', '--image=busybox', '--profile=baseline', '-c', 'dbg-baseline', '--context', 'carol'])
  assert.equal(ok.code, 0, ok.stderr)
  assert.deepEqual(ledgerEphemeral(), ['dbg-baseline'])
})

test('debug node/node-1 -n kdebug: allowed, with the baseline warning printed by kubectl', { skip }, async () => {
  const r = await kubectl(['debug', 'node/node-1', '--image=busybox', '-n', 'kdebug', '--profile=sysadmin', '--context', 'carol'])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stderr, /Warning: would violate PodSecurity "baseline:latest": host namespaces \(hostNetwork=true, hostPID=true, hostIPC=true\), hostPath volumes \(volume "host-root"\), privileged \(container "debugger" must not set securityContext\.privileged=true\)/)
  assert.match(r.stdout, /Creating debugging pod node-debugger-node-1-\w{5} with container debugger on node node-1\./)
})
