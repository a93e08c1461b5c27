import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { GENESIS_HASH, hashLine } from '../../src/audit/chain.ts'
import { createAuditLog, createMemoryAuditLog } from '../../src/audit/writer.ts'
import { verifyAuditFile } from '../../src/audit/verify.ts'
import { isProblemError } from '../../src/errors.ts'
import type { AuditRecord } from '../../src/audit/types.ts'
import { countingFs, entry, errno, readLines, tempDir } from '../helpers/audit.ts'

function assert503 (err: unknown): true {
  assert.ok(isProblemError(err), `expected a ProblemError, got ${String(err)}`)
  assert.equal(err.status, 503)
  assert.equal(err.code, 'GW_AUDIT_UNAVAILABLE')
  return true
}

describe('audit writer (file sink)', () => {
  test('records get seq, RFC 3339 time, UUIDv7 id, replica and a prevHash chain', async (t) => {
    const { file, cleanup } = tempDir()
    t.after(cleanup)
    const log = await createAuditLog({ file, replica: 'gw-0', clock: () => Date.UTC(2026, 10, 27, 10, 0, 0, 5) })
    const a = await log.append(entry(1))
    const b = await log.append(entry(2))
    await log.close()
    assert.equal(a.seq, 1)
    assert.equal(b.seq, 2)
    assert.equal(a.time, '2026-11-27T10:00:00.005Z')
    assert.match(a.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    assert.equal(a.replica, 'gw-0')
    const lines = readLines(file)
    assert.equal(lines.length, 2)
    assert.equal(a.prevHash, GENESIS_HASH)
    assert.equal(b.prevHash, hashLine(lines[0] as string))
    assert.deepEqual(JSON.parse(lines[1] as string), b)
    assert.deepEqual(await verifyAuditFile(file), { ok: true, records: 2, lastHash: hashLine(lines[1] as string) })
    assert.equal((fs.statSync(file).mode & 0o777), 0o600)
  })

  test('the chain continues across a restart', async (t) => {
    const { file, cleanup } = tempDir()
    t.after(cleanup)
    let log = await createAuditLog({ file, replica: 'gw-0' })
    for (let i = 0; i < 3; i++) await log.append(entry(i))
    await log.close()
    log = await createAuditLog({ file, replica: 'gw-1' })
    assert.equal(log.head().seq, 3)
    const r = await log.append(entry(4))
    await log.close()
    const lines = readLines(file)
    assert.equal(r.seq, 4)
    assert.equal(r.prevHash, hashLine(lines[2] as string))
    assert.equal((await verifyAuditFile(file)).ok, true)
  })

  test('resuming reads only the tail of a large file', async (t) => {
    const { file, cleanup } = tempDir()
    t.after(cleanup)
    let log = await createAuditLog({ file, replica: 'gw-0' })
    await Promise.all(Array.from({ length: 3000 }, (_, i) => log.append(entry(i))))
    await log.close()
    const size = fs.statSync(file).size
    const cfs = countingFs()
    let bytesRead = 0
    const read = cfs.read
    cfs.read = async (fd, buf, pos) => { const n = await read(fd, buf, pos); bytesRead += n; return n }
    log = await createAuditLog({ file, replica: 'gw-0', fs: cfs })
    assert.equal(log.head().seq, 3000)
    await log.close()
    assert.ok(size > 500_000, `file is ${size} bytes`)
    assert.ok(bytesRead <= 64 * 1024, `read ${bytesRead} bytes of ${size}`)
  })

  test('1000 concurrent appends share a few fdatasyncs and each resolves only after its fdatasync', async (t) => {
    const { file, cleanup } = tempDir()
    t.after(cleanup)
    const cfs = countingFs()
    let durableSize = 0
    const sync = cfs.fdatasync
    cfs.fdatasync = async (fd) => { await sync(fd); durableSize = fs.statSync(file).size }
    const log = await createAuditLog({ file, replica: 'gw-0', fs: cfs })
    const sizeAtAck = new Map<number, number>()
    const recs = await Promise.all(Array.from({ length: 1000 }, (_, i) =>
      log.append(entry(i)).then((r) => { sizeAtAck.set(r.seq, durableSize); return r })))
    await log.close()
    assert.deepEqual(recs.map((r) => r.seq), Array.from({ length: 1000 }, (_, i) => i + 1))
    // 1000 records at most 256 per batch: 4 batches, one write and one fdatasync each.
    assert.equal(cfs.calls.fdatasync, 4)
    assert.equal(cfs.calls.write, 4)
    let end = 0
    for (const [i, line] of readLines(file).entries()) {
      end += Buffer.byteLength(line) + 1
      assert.ok((sizeAtAck.get(i + 1) ?? 0) >= end, `record ${i + 1} acknowledged before it was durable`)
    }
    assert.equal((await verifyAuditFile(file)).ok, true)
    assert.equal(log.stats().maxBatchRecords, 256)
  })

  test('appends arriving while a batch is syncing go out together in the next batch', async (t) => {
    const { file, cleanup } = tempDir()
    t.after(cleanup)
    const cfs = countingFs()
    const sync = cfs.fdatasync
    let syncing: () => void = () => {}
    const firstSyncStarted = new Promise<void>((resolve) => { syncing = resolve })
    cfs.fdatasync = async (fd) => { syncing(); await sleep(20); return sync(fd) }
    const log = await createAuditLog({ file, replica: 'gw-0', fs: cfs })
    const first = log.append(entry(0))
    await firstSyncStarted
    const rest = Array.from({ length: 50 }, (_, i) => log.append(entry(i + 1)))
    await Promise.all([first, ...rest])
    await log.close()
    assert.equal(cfs.calls.fdatasync, 2)
    assert.deepEqual([log.stats().batches, log.stats().maxBatchRecords], [2, 50])
  })

  test('batchMaxMs lingers to gather records; batchMaxRecords caps a batch', async (t) => {
    const { file, cleanup } = tempDir()
    t.after(cleanup)
    const cfs = countingFs()
    const log = await createAuditLog({ file, replica: 'gw-0', fs: cfs, batchMaxMs: 250, batchMaxRecords: 3 })
    const a = log.append(entry(1))
    await sleep(10)
    const b = log.append(entry(2))
    await Promise.all([a, b])
    assert.equal(cfs.calls.fdatasync, 1, 'two appends 10 ms apart share a 250 ms batch')
    await Promise.all(Array.from({ length: 7 }, (_, i) => log.append(entry(i))))
    await log.close()
    assert.equal(cfs.calls.fdatasync, 1 + 3)
  })

  test('a failing fdatasync rejects pending appends with 503, flips writable(), and recovers on a later append', async (t) => {
    const { file, cleanup } = tempDir()
    t.after(cleanup)
    const cfs = countingFs()
    const errors: string[] = []
    const log = await createAuditLog({ file, replica: 'gw-0', fs: cfs, recoveryIntervalMs: 0, onError: (e, ctx) => errors.push(`${ctx}:${(e as NodeJS.ErrnoException).code}`) })
    await log.append(entry(1))
    cfs.failWith.fdatasync = errno('EIO')
    const results = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => log.append(entry(i + 2))))
    assert.ok(results.every((r) => r.status === 'rejected' && assert503(r.reason)))
    assert.equal(log.writable(), false)
    assert.deepEqual(errors, ['write:EIO'])
    // Still failing: the recovery reopen works but the next write fails again.
    await assert.rejects(log.append(entry(7)), assert503)
    cfs.failWith.fdatasync = null
    const r = await log.append(entry(8))
    assert.equal(log.writable(), true)
    await log.close()
    const recs = readLines(file).map((l) => JSON.parse(l) as AuditRecord)
    assert.equal(recs.at(-1)?.requestId, 'req-8')
    assert.ok(recs.some((x) => x.action === 'audit.recovered' && x.phase === 'event'))
    assert.equal(r.seq, recs.length)
    // Records written before the failed fdatasync may stay (over-recording is safe); the chain must verify.
    assert.equal((await verifyAuditFile(file)).ok, true)
  })

  test('a partial write leaves a torn tail that recovery truncates and notes', async (t) => {
    const { file, cleanup } = tempDir()
    t.after(cleanup)
    const cfs = countingFs()
    const log = await createAuditLog({ file, replica: 'gw-0', fs: cfs, recoveryIntervalMs: 0 })
    await log.append(entry(1))
    cfs.partialThenFail = 40
    await assert.rejects(log.append(entry(2)), assert503)
    assert.equal(fs.readFileSync(file, 'utf8').endsWith('\n'), false, 'the file has a torn tail now')
    assert.equal((await verifyAuditFile(file)).ok, false)
    cfs.failWith.write = null
    const r = await log.append(entry(3))
    await log.close()
    const recs = readLines(file).map((l) => JSON.parse(l) as AuditRecord)
    assert.deepEqual(recs.map((x) => x.action), ['ephemeral.create', 'audit.torn-tail-truncated', 'audit.recovered', 'ephemeral.create'])
    assert.equal(recs[1]?.outcome?.bytes, 40)
    assert.equal(r.seq, 4)
    assert.equal((await verifyAuditFile(file)).ok, true)
  })

  test('an unopenable file fails at start; a sink whose reopen fails stays unwritable', async (t) => {
    const { dir, file, cleanup } = tempDir()
    t.after(cleanup)
    await assert.rejects(createAuditLog({ file: path.join(dir, 'missing', 'audit.jsonl'), replica: 'gw-0' }), /ENOENT/)
    await assert.rejects(createAuditLog({ file: dir, replica: 'gw-0' }), /EISDIR/)
    const cfs = countingFs()
    const log = await createAuditLog({ file, replica: 'gw-0', fs: cfs, recoveryIntervalMs: 0 })
    cfs.failWith.write = errno('EROFS')
    cfs.failWith.open = errno('EROFS')
    await assert.rejects(log.append(entry(1)), assert503)
    await assert.rejects(log.append(entry(2)), assert503)
    assert.equal(log.writable(), false)
    cfs.failWith.write = null
    cfs.failWith.open = null
    await log.append(entry(3))
    assert.equal(log.writable(), true)
    await log.close()
  })

  test('recovery is rate-limited and also happens in the background', async (t) => {
    const { file, cleanup } = tempDir()
    t.after(cleanup)
    const cfs = countingFs()
    const log = await createAuditLog({ file, replica: 'gw-0', fs: cfs, recoveryIntervalMs: 30 })
    cfs.failWith.fdatasync = errno('EIO')
    await assert.rejects(log.append(entry(1)), assert503)
    const opens = cfs.calls.open
    cfs.failWith.fdatasync = null
    await assert.rejects(log.append(entry(2)), assert503) // within 30 ms: no reopen attempt yet
    assert.equal(cfs.calls.open, opens)
    for (let i = 0; i < 200 && !log.writable(); i++) await sleep(10)
    assert.equal(log.writable(), true, 'the background timer recovered without traffic')
    assert.ok(cfs.calls.open > opens)
    await log.close()
  })

  test('a torn tail at start is truncated and noted; the chain continues', async (t) => {
    const { file, cleanup } = tempDir()
    t.after(cleanup)
    let log = await createAuditLog({ file, replica: 'gw-0' })
    await log.append(entry(1))
    await log.append(entry(2))
    await log.close()
    const good = fs.readFileSync(file)
    fs.appendFileSync(file, '{"seq":3,"time":"2026-11-27T1')
    log = await createAuditLog({ file, replica: 'gw-0' })
    await log.append(entry(3))
    await log.close()
    const after = fs.readFileSync(file)
    assert.ok(after.subarray(0, good.byteLength).equals(good))
    const recs = readLines(file).map((l) => JSON.parse(l) as AuditRecord)
    assert.deepEqual(recs.map((r) => [r.seq, r.action]), [[1, 'ephemeral.create'], [2, 'ephemeral.create'], [3, 'audit.torn-tail-truncated'], [4, 'ephemeral.create']])
    assert.equal(recs[2]?.outcome?.bytes, 29)
    assert.equal((await verifyAuditFile(file)).ok, true)
  })

  test('a file that is only a torn line restarts at genesis', async (t) => {
    const { file, cleanup } = tempDir()
    t.after(cleanup)
    fs.writeFileSync(file, '{"seq":1,"ti')
    const log = await createAuditLog({ file, replica: 'gw-0' })
    const r = await log.append(entry(1))
    await log.close()
    assert.equal(r.seq, 2)
    const recs = readLines(file).map((l) => JSON.parse(l) as AuditRecord)
    assert.equal(recs[0]?.prevHash, GENESIS_HASH)
    assert.equal((await verifyAuditFile(file)).ok, true)
  })

  test('a corrupt complete last line refuses to start', async (t) => {
    const { file, cleanup } = tempDir()
    t.after(cleanup)
    const log = await createAuditLog({ file, replica: 'gw-0' })
    await log.append(entry(1))
    await log.close()
    fs.appendFileSync(file, '\0\0\0\0\n')
    await assert.rejects(createAuditLog({ file, replica: 'gw-0' }), /not valid JSON; refusing to start/)
  })

  test('secrets never reach the file', async (t) => {
    const { file, cleanup } = tempDir()
    t.after(cleanup)
    const log = await createAuditLog({ file, replica: 'gw-0' })
    const r = await log.append(entry(1, {
      request: { image: 'busybox', token: 'tok-SECRET', env: [{ name: 'DB_PASSWORD', value: 'pw-SECRET' }], headers: { authorization: 'Bearer tok-SECRET', password: 'pw-SECRET' } }
    }))
    await log.close()
    const text = fs.readFileSync(file, 'utf8')
    assert.ok(!text.includes('SECRET'), text)
    assert.ok(text.includes('"env":[{"name":"DB_PASSWORD"}]'))
    assert.deepEqual(r.request, { image: 'busybox', env: [{ name: 'DB_PASSWORD' }], headers: {} })
  })

  test('the entry is copied at append: later mutation does not change the record', async (t) => {
    const { file, cleanup } = tempDir()
    t.after(cleanup)
    const log = await createAuditLog({ file, replica: 'gw-0' })
    const e = entry(1)
    const p = log.append(e)
    e.action = 'changed'
    assert.equal((await p).action, 'ephemeral.create')
    await log.close()
  })

  test('close() flushes queued appends; append after close rejects', async (t) => {
    const { file, cleanup } = tempDir()
    t.after(cleanup)
    const log = await createAuditLog({ file, replica: 'gw-0', batchMaxMs: 1000 })
    const p = Promise.all([log.append(entry(1)), log.append(entry(2))])
    await log.close()
    assert.equal((await p).length, 2)
    assert.equal(readLines(file).length, 2)
    assert.equal(log.writable(), false)
    await assert.rejects(log.append(entry(3)), assert503)
  })

  test('stdout mirror gets the same lines; stdout alone works too', async (t) => {
    const { file, cleanup } = tempDir()
    t.after(cleanup)
    const chunks: Buffer[] = []
    const stream = { write: (c: Uint8Array, cb: (e?: Error | null) => void) => { chunks.push(Buffer.from(c)); cb(); return true } }
    const log = await createAuditLog({ file, stdout: true, stdoutStream: stream, replica: 'gw-0' })
    await log.append(entry(1))
    await log.append(entry(2))
    await log.close()
    assert.equal(Buffer.concat(chunks).toString(), fs.readFileSync(file, 'utf8'))

    const only: Buffer[] = []
    const log2 = await createAuditLog({ stdout: true, stdoutStream: { write: (c, cb) => { only.push(Buffer.from(c)); cb(); return true } }, replica: 'gw-0' })
    const r = await log2.append(entry(1))
    await log2.close()
    assert.equal(r.seq, 1)
    assert.deepEqual(JSON.parse(Buffer.concat(only).toString()), r)
    await assert.rejects(createAuditLog({ replica: 'x' }), /file, stdout, or both/)
  })

  test('a failing stdout mirror does not fail the file sink; a failing stdout-only sink does', async (t) => {
    const { file, cleanup } = tempDir()
    t.after(cleanup)
    const broken = { write: (_c: Uint8Array, cb: (e?: Error | null) => void) => { cb(errno('EPIPE')); return false } }
    const mirrored: string[] = []
    const log = await createAuditLog({ file, stdout: true, stdoutStream: broken, replica: 'gw-0', onError: (_e, ctx) => mirrored.push(ctx) })
    await log.append(entry(1))
    assert.deepEqual(mirrored, ['mirror'])
    await log.close()
    const log2 = await createAuditLog({ stdout: true, stdoutStream: broken, replica: 'gw-0' })
    await assert.rejects(log2.append(entry(1)), assert503)
    assert.equal(log2.writable(), false)
    await log2.close()
  })
})

describe('memory audit log', () => {
  test('chains records and can be made unwritable', async () => {
    const log = createMemoryAuditLog()
    await log.append(entry(1))
    log.sink.setFailure(new Error('disk full'))
    await assert.rejects(log.append(entry(2)), assert503)
    assert.equal(log.writable(), false)
    log.sink.setFailure(null)
    await log.append(entry(3))
    assert.equal(log.writable(), true)
    assert.deepEqual(log.records.map((r) => [r.seq, r.action]), [[1, 'ephemeral.create'], [2, 'audit.recovered'], [3, 'ephemeral.create']])
    assert.equal(log.records[1]?.prevHash, hashLine(log.sink.lines[0] as string))
    await log.close()
  })
})
