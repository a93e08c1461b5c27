// Anchoring against the simulated cluster: the replica publishes its chain
// head to a Lease labelled kdebug.io/audit-anchor=<replica> (with the
// gateway's own RBAC, deploy/lease-role.yaml), and `kdebug-audit-verify
// --anchor-from-cluster` catches a truncated tail and a rewritten one that a
// chain alone cannot see. Publishing is triggered directly (no timers).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { startStack, type Stack } from '../helpers/stack.ts'
import { main as verifyCli } from '../../src/audit/verify-cli.ts'
import { ANCHOR_LABEL, anchorLeaseName } from '../../src/audit/anchor.ts'
import { AuditRuntime } from '../../src/audit/runtime.ts'
import { hashLine, serializeRecord } from '../../src/audit/chain.ts'
import { kubeLeaseClient } from '../../src/kube/lease-client.ts'
import { loadKubeConfig } from '../../src/kube/cluster.ts'
import type { AuditRecord } from '../../src/audit/types.ts'
import { readLines } from '../helpers/audit.ts'

let stack: Stack
let kubeconfig: string

before(async () => {
  stack = await startStack({ config: { audit: { anchor: { intervalSeconds: 10 } } }, keepDir: true })
  kubeconfig = path.join(stack.dir, 'kubeconfig')
  fs.writeFileSync(kubeconfig, stack.sim.kubeconfig)
})
after(async () => {
  const dir = stack.dir
  await stack.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

async function cli (argv: string[]): Promise<{ code: number, out: string[] }> {
  const out: string[] = []
  const code = await verifyCli(argv, { out: (l) => out.push(l), err: (l) => out.push(l), env: {} })
  return { code, out }
}

test('the head is anchored to a labelled Lease; verify --anchor-from-cluster detects a truncated and a rewritten tail', async () => {
  for (let i = 0; i < 6; i++) assert.equal((await stack.request('/v1/whoami', { as: 'alice' })).status, 200)
  const rt = stack.services.auditRuntime as AuditRuntime
  await rt.anchor?.publish()
  const head = rt.log.head()
  const lease = stack.sim.store.get('leases', 'kdebug', anchorLeaseName('test-1')) as { metadata: { labels: Record<string, string>, annotations: Record<string, string> }, spec: { holderIdentity: string } }
  assert.equal(lease.metadata.labels[ANCHOR_LABEL], 'test-1')
  assert.equal(lease.metadata.annotations['kdebug.io/audit-seq'], String(head.seq))
  assert.equal(lease.metadata.annotations['kdebug.io/audit-hash'], head.hash)
  assert.equal(lease.spec.holderIdentity, 'test-1')
  const ready = await (await stack.request('/readyz')).json() as { checks: Array<{ name: string, ok: boolean, detail?: string }> }
  assert.match(ready.checks.find((c) => c.name === 'audit-anchor')?.detail ?? '', new RegExp(`last anchored seq ${head.seq}`))

  const args = [stack.auditFile, '--anchor-from-cluster', '--kubeconfig', kubeconfig, '--namespace', 'kdebug']
  const ok = await cli(args)
  assert.equal(ok.code, 0, ok.out.join('\n'))
  assert.match(ok.out.join('\n'), new RegExp(`anchor seq ${head.seq} matches`))

  // Copies of the log, tampered with; the chain alone still verifies each of them.
  const lines = readLines(stack.auditFile).slice(0, head.seq)
  const truncated = path.join(stack.dir, 'truncated.log')
  fs.writeFileSync(truncated, lines.slice(0, -2).join('\n') + '\n')
  assert.equal((await cli([truncated])).code, 0, 'the chain alone cannot see a cut tail')
  const cut = await cli([truncated, '--anchor-from-cluster', '--kubeconfig', kubeconfig, '--replica', 'test-1'])
  assert.equal(cut.code, 1)
  assert.match(cut.out.at(-1) ?? '', new RegExp(`the log ends at seq ${head.seq - 2}, but the anchor says seq ${head.seq} was written .*the tail was truncated`))

  // A rewrite that re-chains every line after the edit: invisible to the chain, not to the anchor.
  const rewritten = path.join(stack.dir, 'rewritten.log')
  const out: string[] = lines.slice(0, -3)
  for (const l of lines.slice(-3)) {
    const r = JSON.parse(l) as AuditRecord
    r.actor = { user: 'mallory', groups: [] }
    r.prevHash = hashLine(out.at(-1) as string)
    out.push(serializeRecord(r))
  }
  fs.writeFileSync(rewritten, out.join('\n') + '\n')
  assert.equal((await cli([rewritten])).code, 0)
  const bad = await cli([rewritten, '--anchor-from-cluster', '--kubeconfig', kubeconfig, '--replica', 'test-1'])
  assert.equal(bad.code, 1)
  assert.match(bad.out.at(-1) ?? '', new RegExp(`record seq ${head.seq} has hash [0-9a-f]{64}, but the anchor says ${head.hash}: the log was rewritten`))
})

test('a replica whose log lost anchored records leaves the Lease alone and reports it', async () => {
  const rt = stack.services.auditRuntime as AuditRuntime
  await rt.anchor?.publish()
  const anchored = rt.log.head()
  const dir = path.join(stack.dir, 'restarted')
  fs.mkdirSync(dir)
  const file = path.join(dir, 'audit.log')
  fs.writeFileSync(file, readLines(stack.auditFile).slice(0, anchored.seq - 1).join('\n') + '\n')
  const leases = kubeLeaseClient(loadKubeConfig({ kubeconfigText: stack.sim.kubeconfig }))
  const errors: string[] = []
  const other = await AuditRuntime.create({ config: { ...stack.config.audit, file }, replica: 'test-1', leases, onError: (e) => errors.push(e.message) })
  await other.anchor?.publish()
  assert.match(other.anchor?.status().mismatch ?? '', new RegExp(`holds seq ${anchored.seq} .* local chain ends at seq ${anchored.seq - 1}`))
  assert.equal((await leases.get('kdebug', anchorLeaseName('test-1'))).metadata.annotations?.['kdebug.io/audit-seq'], String(anchored.seq), 'the evidence stays')
  assert.ok(errors.some((e) => /anchored records were lost or changed/.test(e)))
  await other.close()
  assert.ok(readLines(file).some((l) => (JSON.parse(l) as AuditRecord).action === 'audit.anchor-mismatch'))
})
