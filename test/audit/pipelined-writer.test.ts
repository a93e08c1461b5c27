import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import { hashLine } from '../../src/audit/chain.ts'
import { createAuditLog } from '../../src/audit/writer.ts'
import type { AuditRecord } from '../../src/audit/types.ts'
import { verifyAuditFile } from '../../src/audit/verify.ts'
import { countingFs, entry, readLines, tempDir } from '../helpers/audit.ts'

function spin (ms: number): void {
  const end = performance.now() + ms
  while (performance.now() < end) { /* a long event-loop turn */ }
}

test('records that queue during an fdatasync are written before the appends it acknowledges resolve, and acknowledged only by their own fdatasync', async (t) => {
  const { file, cleanup } = tempDir()
  t.after(cleanup)
  const cfs = countingFs()
  const sync = cfs.fdatasync
  const gates: Array<() => void> = []
  let durableSize = 0
  cfs.fdatasync = async (fd) => {
    await new Promise<void>((resolve) => gates.push(resolve))
    await sync(fd)
    durableSize = fs.statSync(file).size
  }
  const log = await createAuditLog({ file, replica: 'gw-0', fs: cfs, pipelining: 'always' })
  const first = log.append(entry(0))
  while (gates.length === 0) await new Promise((resolve) => setImmediate(resolve))
  const rest = Array.from({ length: 5 }, (_, i) => log.append(entry(i + 1)).then((r) => ({ r, durableSize })))
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(cfs.calls.write, 1, 'nothing is written while the fdatasync runs')
  const writesWhenDurable: number[] = []
  log.onDurable(() => writesWhenDurable.push(cfs.calls.write))
  gates.shift()?.()
  await first
  assert.deepEqual(writesWhenDurable, [2], 'the queued records were written before the first batch was acknowledged')
  while (gates.length === 0) await new Promise((resolve) => setImmediate(resolve))
  gates.shift()?.()
  const acked = await Promise.all(rest)
  await log.close()
  assert.equal(cfs.calls.fdatasync, 2)
  const size = fs.statSync(file).size
  for (const { r, durableSize: at } of acked) assert.equal(at, size, `record ${r.seq} was acknowledged before its fdatasync`)
  assert.deepEqual(readLines(file).map((l) => (JSON.parse(l) as { seq: number }).seq), [1, 2, 3, 4, 5, 6])
  assert.equal((await verifyAuditFile(file)).ok, true)
})

/** Ten appends in one event-loop turn that blocks 2 ms after the fifth, on a log with that pipelining. */
async function longTurn (t: TestContext, pipelining: 'always' | 'never'): Promise<{ file: string, cfs: ReturnType<typeof countingFs>, log: Awaited<ReturnType<typeof createAuditLog>>, recs: AuditRecord[] }> {
  const { file, cleanup } = tempDir()
  t.after(cleanup)
  const cfs = countingFs()
  const log = await createAuditLog({ file, replica: 'gw-0', fs: cfs, pipelining })
  const appends = []
  for (let i = 0; i < 10; i++) {
    appends.push(log.append(entry(i)))
    if (i === 4) spin(2)
  }
  return { file, cfs, log, recs: await Promise.all(appends) }
}

test('a long turn reaches an idle sink as two batches (one fdatasync runs while the other half continues)', async (t) => {
  const { file, cfs, log, recs } = await longTurn(t, 'always')
  await log.close()
  assert.deepEqual(recs.map((r) => r.seq), Array.from({ length: 10 }, (_, i) => i + 1))
  assert.equal(cfs.calls.fdatasync, 2)
  assert.equal(log.stats().maxBatchRecords, 5)
  assert.equal((await verifyAuditFile(file)).ok, true)
})

test('multi-byte text and records longer than a batch buffer\'s first guess are written and chained byte for byte', async (t) => {
  const { file, cleanup } = tempDir()
  t.after(cleanup)
  const log = await createAuditLog({ file, replica: 'gw-0' })
  const long = 'ü€😀 '.repeat(3000)
  const recs = await Promise.all([
    log.append(entry(1, { request: { reason: long } })),
    log.append(entry(2)),
    log.append(entry(3, { request: { reason: `${long}${long}` } }))
  ])
  await log.close()
  const lines = readLines(file)
  assert.equal(lines.length, 3)
  assert.deepEqual(lines.map((l) => JSON.parse(l) as unknown), recs)
  assert.equal(recs[1]?.prevHash, hashLine(lines[0] as string))
  assert.equal(recs[2]?.prevHash, hashLine(lines[1] as string))
  assert.equal((await verifyAuditFile(file)).ok, true)
})

test('without pipelining a long turn stays one batch, and records queued during an fdatasync wait for the end of the turn', async (t) => {
  const { file, cfs, log } = await longTurn(t, 'never')
  assert.equal(cfs.calls.fdatasync, 1)
  const writesWhenDurable: number[] = []
  log.onDurable(() => writesWhenDurable.push(cfs.calls.write))
  const sync = cfs.fdatasync
  let release: () => void = () => {}
  const gate = new Promise<void>((resolve) => { release = resolve })
  cfs.fdatasync = async (fd) => { await gate; cfs.fdatasync = sync; return sync(fd) }
  const first = log.append(entry(10))
  while (cfs.calls.write < 2) await new Promise((resolve) => setImmediate(resolve))
  const rest = Array.from({ length: 3 }, (_, i) => log.append(entry(11 + i)))
  release()
  await first
  assert.deepEqual(writesWhenDurable, [2], 'lockstep: nothing more was written before the batch was acknowledged')
  await Promise.all(rest)
  await log.close()
  assert.equal((await verifyAuditFile(file)).ok, true)
})
