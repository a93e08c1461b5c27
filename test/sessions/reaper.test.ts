// The reaper's decisions against a scripted API server: retry after an unrelated
// update, respect a TTL extended meanwhile, 404 = someone else won.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Registry } from 'prom-client'
import { Reaper } from '../../src/sessions/reaper.ts'
import { createMemoryAuditLog } from '../../src/audit/writer.ts'
import { Problems } from '../../src/errors.ts'
import type { DebugClient } from '../../src/kube/debug-client.ts'
import { signPod } from '../../src/sessions/attribution.ts'
import type { Pod } from '../../src/kube/types.ts'
import { createSigner } from '../../src/security/signing.ts'

const signer = createSigner({ keys: [Buffer.alloc(32, 1)] })
const verify = signer.verify

const NOW = Date.UTC(2026, 10, 27, 12, 0, 0)

function debugPod (name: string, expiresAt: string, rv = '1'): Pod {
  return signPod(unsignedPod(name, expiresAt, rv), signer.sign)
}

function unsignedPod (name: string, expiresAt: string, rv = '1'): Pod {
  return {
    metadata: {
      name,
      namespace: 'kdebug',
      uid: `uid-${name}`,
      resourceVersion: rv,
      labels: { 'app.kubernetes.io/managed-by': 'kdebug-gateway', 'kdebug.io/session': `s-${name}`, 'kdebug.io/kind': 'node' },
      annotations: { 'kdebug.io/requested-by': 'carol', 'kdebug.io/expires-at': expiresAt }
    } as Pod['metadata'],
    spec: { containers: [{ name: 'debugger' }] }
  }
}

function fakeClient (pods: Pod[], script: { deletes: Array<Error | undefined>, fresh?: Pod }): DebugClient & { deleted: Array<{ name: string, rv?: string }> } {
  const deleted: Array<{ name: string, rv?: string }> = []
  const unused = async (): Promise<never> => { throw new Error('not used') }
  return {
    deleted,
    listPods: async () => ({ items: pods, resourceVersion: '10' }),
    getPod: async () => script.fresh ?? pods[0] as Pod,
    deletePod: async (_ns, name, opts) => {
      const next = script.deletes.shift()
      if (next) throw next
      deleted.push({ name, rv: opts?.preconditions?.resourceVersion })
    },
    getNode: unused,
    addEphemeralContainer: unused,
    createPod: unused,
    watchPod: unused
  }
}

const past = new Date(NOW - 1000).toISOString()
const future = new Date(NOW + 3600_000).toISOString()
const conflict = (): Error => Problems.conflict('Operation cannot be fulfilled on pods "x": the object has been modified', { kubernetesReason: 'Conflict' })

test('only expired pods are deleted, with uid + resourceVersion preconditions; the counter and audit follow', async () => {
  const client = fakeClient([debugPod('old', past, '5'), debugPod('young', future)], { deletes: [] })
  const audit = createMemoryAuditLog()
  const registry = new Registry()
  const reaper = new Reaper({ client, audit, intervalMs: 1000, verify, registry, clock: () => NOW })
  assert.deepEqual(await reaper.runOnce(), [{ namespace: 'kdebug', pod: 'old', result: 'deleted' }])
  assert.deepEqual(client.deleted, [{ name: 'old', rv: '5' }])
  assert.deepEqual(audit.records.map(r => [r.action, r.phase, r.actor.user]), [['reaper.delete', 'request', 'system:kdebug-gateway'], ['reaper.delete', 'outcome', 'system:kdebug-gateway']])
  assert.match(await registry.metrics(), /kdebug_reaper_deletions_total\{result="deleted"\} 1/)
})

test('a 409 from a status update is retried with the new resourceVersion', async () => {
  const client = fakeClient([debugPod('old', past, '5')], { deletes: [conflict()], fresh: debugPod('old', past, '6') })
  const reaper = new Reaper({ client, audit: createMemoryAuditLog(), intervalMs: 1000, verify, clock: () => NOW })
  assert.deepEqual((await reaper.runOnce()).map(r => r.result), ['deleted'])
  assert.deepEqual(client.deleted, [{ name: 'old', rv: '6' }])
})

test('a TTL extended meanwhile is respected; 404 means another replica won', async () => {
  const extended = fakeClient([debugPod('old', past, '5')], { deletes: [conflict()], fresh: debugPod('old', future, '6') })
  const r1 = new Reaper({ client: extended, audit: createMemoryAuditLog(), intervalMs: 1000, verify, clock: () => NOW })
  assert.deepEqual((await r1.runOnce()).map(r => r.result), ['gone'])
  assert.deepEqual(extended.deleted, [])

  const gone = fakeClient([debugPod('old', past)], { deletes: [Problems.notFound('pods "old" not found', { kubernetesReason: 'NotFound' })] })
  const audit = createMemoryAuditLog()
  const r2 = new Reaper({ client: gone, audit, intervalMs: 1000, verify, clock: () => NOW })
  assert.deepEqual((await r2.runOnce()).map(r => r.result), ['gone'])
  assert.equal(audit.records.at(-1)?.outcome?.status, 404)
})

test('no deletion without its audit record', async () => {
  const client = fakeClient([debugPod('old', past)], { deletes: [] })
  const audit = createMemoryAuditLog()
  audit.sink.setFailure(new Error('disk full'))
  const reaper = new Reaper({ client, audit, intervalMs: 1000, verify, clock: () => NOW })
  assert.deepEqual((await reaper.runOnce()).map(r => r.result), ['error'])
  assert.deepEqual(client.deleted, [])
})

test('pods with our labels but no valid signature are never deleted: reported once (audit + gauge)', async () => {
  const planted = [
    unsignedPod('unsigned', past),
    { ...debugPod('forged', past), metadata: { ...debugPod('forged', past).metadata, annotations: { ...debugPod('forged', past).metadata.annotations, 'kdebug.io/requested-by': 'dave' } } },
    signPod(unsignedPod('other-key', past), createSigner({ keys: [Buffer.alloc(32, 2)] }).sign)
  ]
  const client = fakeClient(planted, { deletes: [] })
  const audit = createMemoryAuditLog()
  const registry = new Registry()
  const reaper = new Reaper({ client, audit, intervalMs: 1000, verify, registry, clock: () => NOW })
  assert.deepEqual((await reaper.runOnce()).map(r => r.result), ['unverified', 'unverified', 'unverified'])
  await reaper.runOnce()
  assert.deepEqual(client.deleted, [])
  assert.deepEqual(audit.records.map(r => [r.action, r.target?.pod]), [['reaper.unverified', 'unsigned'], ['reaper.unverified', 'forged'], ['reaper.unverified', 'other-key']])
  assert.match(await registry.metrics(), /kdebug_reaper_unverified_pods 3/)
})

test('a pod whose signature broke after the first read is not deleted on the 409 retry', async () => {
  const fresh = unsignedPod('old', past, '6')
  const client = fakeClient([debugPod('old', past, '5')], { deletes: [conflict()], fresh })
  const reaper = new Reaper({ client, audit: createMemoryAuditLog(), intervalMs: 1000, verify, clock: () => NOW })
  assert.deepEqual((await reaper.runOnce()).map(r => r.result), ['gone'])
  assert.deepEqual(client.deleted, [])
})
