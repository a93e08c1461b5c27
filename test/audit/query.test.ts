import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import { createAuditLog } from '../../src/audit/writer.ts'
import { queryAuditFile } from '../../src/audit/query.ts'
import { entry, tempDir } from '../helpers/audit.ts'

test('queryAuditFile filters and pages', async (t) => {
  const { file, cleanup } = tempDir()
  t.after(cleanup)
  let ms = Date.UTC(2026, 10, 27, 10, 0, 0)
  const log = await createAuditLog({ file, replica: 'gw-0', clock: () => (ms += 1000) })
  for (let i = 1; i <= 10; i++) {
    await log.append(entry(i, i % 2 === 0
      ? { actor: { user: 'bot', groups: [], onBehalfOf: { user: 'bob', groups: [] } }, target: { namespace: 'prod', session: `s-${i}` } }
      : {}))
  }
  await log.close()
  fs.appendFileSync(file, 'garbage\n')

  const newest = await queryAuditFile(file, { limit: 3 })
  assert.deepEqual(newest.records.map((r) => r.seq), [8, 9, 10])
  assert.equal(newest.more, true)
  assert.deepEqual((await queryAuditFile(file, { beforeSeq: 8, limit: 2 })).records.map((r) => r.seq), [6, 7])
  const fwd = await queryAuditFile(file, { afterSeq: 2, limit: 3 })
  assert.deepEqual([fwd.records.map((r) => r.seq), fwd.more], [[3, 4, 5], true])
  assert.deepEqual((await queryAuditFile(file, { user: 'bob' })).records.map((r) => r.seq), [2, 4, 6, 8, 10])
  assert.deepEqual((await queryAuditFile(file, { user: 'alice', namespace: 'demo' })).records.map((r) => r.seq), [1, 3, 5, 7, 9])
  assert.deepEqual((await queryAuditFile(file, { session: 's-4' })).records.map((r) => r.requestId), ['req-4'])
  assert.deepEqual((await queryAuditFile(file, { requestId: 'req-5', action: 'ephemeral.create', phase: 'request' })).records.length, 1)
  const window = await queryAuditFile(file, { since: '2026-11-27T10:00:03.000Z', until: '2026-11-27T10:00:05.000Z' })
  assert.deepEqual([window.records.map((r) => r.seq), window.more], [[3, 4], false])
  assert.deepEqual(await queryAuditFile(file + '.missing'), { records: [], more: false })
})
