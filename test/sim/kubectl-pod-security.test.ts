// Real kubectl (v1.32) against the sim's Pod Security Admission: the demo world's payments
// namespace enforces baseline, kdebug is privileged with baseline warnings.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { useKubectlSim } from '../helpers/kubectl.ts'

const { skip, kubectl, sim: currentSim } = useKubectlSim()

const ledgerEphemeral = (): string[] => ((currentSim().store.get('pods', 'payments', 'ledger') as any).spec.ephemeralContainers ?? []).map((c: any) => c.name)

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
