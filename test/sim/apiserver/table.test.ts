// Table output as kubectl asks for it (meta.k8s.io Table, printers of pkg/printers/internalversion).
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { humanDuration, toTable } from '../../../src/sim/apiserver/table.ts'

describe('table', () => {
  test('humanDuration like apimachinery', () => {
    assert.equal(humanDuration(5_000), '5s')
    assert.equal(humanDuration(119_000), '119s')
    assert.equal(humanDuration(150_000), '2m30s')
    assert.equal(humanDuration(15 * 60_000), '15m')
    assert.equal(humanDuration(5 * 3600_000 + 60_000), '5h1m')
    assert.equal(humanDuration(30 * 3600_000), '30h')
    assert.equal(humanDuration(3 * 86400_000), '3d')
  })
  test('pod rows show READY, STATUS reasons, RESTARTS', () => {
    const now = new Date('2026-01-01T00:10:00Z')
    const p = {
      metadata: { name: 'w', namespace: 'ns', creationTimestamp: '2026-01-01T00:00:00Z' },
      spec: { containers: [{ name: 'a' }, { name: 'b' }] },
      status: { phase: 'Pending', containerStatuses: [{ name: 'a', ready: true, restartCount: 0, state: { running: {} } }, { name: 'b', ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff' } } }] }
    } as any
    const t = toTable('pods', [p], { now }) as any
    assert.deepEqual(t.rows[0].cells.slice(0, 5), ['w', '1/2', 'ImagePullBackOff', '0', '10m'])
    assert.equal(t.rows[0].object.kind, 'PartialObjectMetadata')
    assert.deepEqual(t.columnDefinitions.slice(0, 5).map((c: any) => c.name), ['Name', 'Ready', 'Status', 'Restarts', 'Age'])
    const del = toTable('pods', [{ ...p, metadata: { ...p.metadata, deletionTimestamp: '2026-01-01T00:10:00Z' } }], { now, includeObject: 'None' }) as any
    assert.equal(del.rows[0].cells[2], 'Terminating')
    assert.equal(del.rows[0].object, undefined)
  })
})
