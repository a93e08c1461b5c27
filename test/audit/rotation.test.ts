// Rotation by size and age, the chain across files, retention that waits for
// forwarders, the disk budget (records refused, never dropped silently), and
// resuming after a crash in the middle of a rotation.
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { createAuditLog } from '../../src/audit/writer.ts'
import { verifyAuditChain } from '../../src/audit/verify.ts'
import { inOrder, listAuditFiles, rotatedName } from '../../src/audit/files.ts'
import { main as verifyCli } from '../../src/audit/verify-cli.ts'
import type { AuditRecord } from '../../src/audit/types.ts'
import { isProblemError } from '../../src/errors.ts'
import { ManualClock } from '../helpers/clock.ts'
import { entry, readLines, tempDir } from '../helpers/audit.ts'

const small = { maxBytes: 4096, maxAgeHours: 0, maxFiles: 1000 }

function allRecords (files: string[]): AuditRecord[] {
  return files.filter((f) => fs.existsSync(f)).flatMap((f) => readLines(f).map((l) => JSON.parse(l) as AuditRecord))
}

async function cli (argv: string[]): Promise<{ code: number, out: string[] }> {
  const out: string[] = []
  const code = await verifyCli(argv, { out: (l) => out.push(l), err: (l) => out.push(l) })
  return { code, out }
}

describe('rotation', () => {
  test('by size: files named by their first seq, seq and chain continue across them, the directory verifies', async (t) => {
    const { dir, file, cleanup } = tempDir()
    t.after(cleanup)
    const log = await createAuditLog({ file, replica: 'gw-0', rotation: small })
    for (let i = 1; i <= 120; i++) await log.append(entry(i))
    await log.close()
    const listed = await listAuditFiles(file)
    assert.ok(listed.rotated.length >= 3, `rotated ${listed.rotated.length} times`)
    const records = allRecords(inOrder(listed))
    assert.deepEqual(records.map((r) => r.seq), Array.from({ length: 120 }, (_, i) => i + 1))
    for (const r of listed.rotated) {
      const first = JSON.parse(readLines(r.file)[0] as string) as AuditRecord
      assert.equal(first.seq, r.firstSeq)
      assert.ok(fs.statSync(r.file).size < small.maxBytes + 1024, 'a file exceeds maxBytes by at most one batch')
    }
    const res = await verifyAuditChain(inOrder(listed))
    assert.ok(res.ok, JSON.stringify(res))
    assert.equal(res.records, 120)
    const viaDir = await cli([dir])
    assert.equal(viaDir.code, 0, viaDir.out.join('\n'))
    assert.match(viaDir.out[0] ?? '', new RegExp(`^OK: 120 records in ${listed.rotated.length + 1} files \\(seq 1–120\\)`))
    assert.equal((await cli([file])).code, 0, 'the active file brings its rotated siblings')
  })

  test('a file edited in the middle of a rotated directory is named', async (t) => {
    const { dir, file, cleanup } = tempDir()
    t.after(cleanup)
    const log = await createAuditLog({ file, replica: 'gw-0', rotation: small })
    for (let i = 1; i <= 80; i++) await log.append(entry(i))
    await log.close()
    const { rotated } = await listAuditFiles(file)
    const victim = (rotated[1] as { file: string }).file
    const ls = readLines(victim)
    ls[2] = (ls[2] as string).replace('"alice"', '"mallory"')
    fs.writeFileSync(victim, ls.join('\n') + '\n')
    const res = await cli([dir])
    assert.equal(res.code, 1)
    assert.equal(res.out[0], `BROKEN at ${victim} line 3: line 3 was modified: its hash does not match the prevHash recorded by line 4`)
    // Dropping a whole rotated file from the middle breaks at the next file's first line.
    fs.rmSync(victim)
    const gap = await cli([dir])
    assert.equal(gap.code, 1)
    assert.match(gap.out[0] ?? '', new RegExp(`BROKEN at ${(rotated[2] as { file: string }).file.replace(/[.]/g, '\\.')} line 1: seq \\d+ where \\d+ was expected`))
  })

  test('by age, with an injected clock: the next write after maxAgeHours starts a new file', async (t) => {
    const { file, cleanup } = tempDir()
    t.after(cleanup)
    const clock = new ManualClock(Date.UTC(2026, 0, 1))
    const log = await createAuditLog({ file, replica: 'gw-0', clock: clock.now, rotation: { maxBytes: 1 << 30, maxAgeHours: 1, maxFiles: 10 } })
    await log.append(entry(1))
    clock.advance(59 * 60_000)
    await log.append(entry(2))
    assert.equal((await listAuditFiles(file)).rotated.length, 0)
    clock.advance(60_000)
    await log.append(entry(3))
    await log.close()
    const { rotated } = await listAuditFiles(file)
    assert.deepEqual(rotated.map((r) => path.basename(r.file)), [path.basename(rotatedName(file, 1))])
    assert.deepEqual(readLines(file).map((l) => (JSON.parse(l) as AuditRecord).seq), [3])
  })

  test('a crash after the rename, before the new file exists: the chain resumes from the rotated file', async (t) => {
    const { file, cleanup } = tempDir()
    t.after(cleanup)
    let log = await createAuditLog({ file, replica: 'gw-0', rotation: small })
    for (let i = 1; i <= 5; i++) await log.append(entry(i))
    await log.close()
    fs.renameSync(file, rotatedName(file, 1)) // what rotate() had done when the process died
    log = await createAuditLog({ file, replica: 'gw-0', rotation: small })
    const r = await log.append(entry(6))
    await log.close()
    assert.equal(r.seq, 6)
    const res = await verifyAuditChain(inOrder(await listAuditFiles(file)))
    assert.ok(res.ok && res.records === 6, JSON.stringify(res))
  })
})

describe('retention and the disk budget', () => {
  test('keeps maxFiles rotated files, notes each deletion in the chain first, and the rest still verifies', async (t) => {
    const { dir, file, cleanup } = tempDir()
    t.after(cleanup)
    const log = await createAuditLog({ file, replica: 'gw-0', rotation: { ...small, maxFiles: 2 } })
    for (let i = 1; i <= 150; i++) await log.append(entry(i))
    await log.close()
    const listed = await listAuditFiles(file)
    assert.equal(listed.rotated.length, 2)
    const records = allRecords(inOrder(listed))
    const notes = records.filter((r) => r.action === 'audit.retention')
    assert.ok(notes.length >= 1)
    const firstKept = records[0] as AuditRecord
    assert.ok(notes.some((n) => n.outcome?.lastSeq === firstKept.seq - 1 && n.outcome?.lastHash === firstKept.prevHash))
    const res = await cli([dir])
    assert.equal(res.code, 0, res.out.join('\n'))
    assert.match(res.out.join('\n'), /deleted by retention/)
    // The oldest kept file removed by hand: no retention record accounts for it.
    fs.rmSync((listed.rotated[0] as { file: string }).file)
    const bad = await cli([dir])
    assert.equal(bad.code, 1)
    assert.match(bad.out[0] ?? '', /line 1: the chain starts at seq \d+ \(not 1\) and no audit\.retention record accounts/)
  })

  test('never deletes what a forwarder has not acknowledged: the budget is reached, records are refused with a reason, and it recovers', async (t) => {
    const { file, cleanup } = tempDir()
    t.after(cleanup)
    let acked = 0
    const errors: string[] = []
    const log = await createAuditLog({ file, replica: 'gw-0', rotation: { ...small, maxFiles: 1 }, acknowledgedSeq: () => acked, onError: (e, c) => errors.push(`${c}: ${e.message}`) })
    let refused: unknown
    const acknowledged: AuditRecord[] = []
    for (let i = 1; i <= 500 && refused === undefined; i++) {
      await log.append(entry(i)).then((rec) => { acknowledged.push(rec) }, (err: unknown) => { refused = err })
    }
    assert.ok(isProblemError(refused), String(refused))
    assert.equal(refused.status, 503)
    assert.equal(refused.extras.reason, 'audit-disk-budget')
    assert.match(refused.detail, /disk budget is reached .*acknowledged only up to seq 0/)
    assert.equal(log.writable(), false)
    assert.equal(log.budgetReached(), true)
    assert.match(log.unavailableReason() ?? '', /disk budget/)
    assert.ok(errors.some((e) => e.startsWith('budget: ')))
    const { rotated } = await listAuditFiles(file)
    assert.equal(rotated.length, 1, 'the unacknowledged file is still there')
    await assert.rejects(log.append(entry(999)), (err: unknown) => isProblemError(err) && err.status === 503)
    // The forwarder catches up: the oldest file may go, writing resumes and says how many were refused.
    acked = log.head().seq
    assert.equal(log.writable(), true)
    const r = await log.append(entry(1000))
    await log.close()
    const records = allRecords(inOrder(await listAuditFiles(file)))
    const reached = records.find((x) => x.action === 'audit.budget-reached')
    const recovered = records.find((x) => x.action === 'audit.budget-recovered')
    assert.ok(reached !== undefined && recovered !== undefined)
    assert.equal(recovered.outcome?.refused, 2)
    assert.ok(records.some((x) => x.seq === r.seq && x.requestId === 'req-1000'))
    // Retention deleted the (now acknowledged) oldest file during that write; it says so, and the rest is all there.
    const firstKept = (records[0] as AuditRecord).seq
    assert.ok(records.some((x) => x.action === 'audit.retention' && x.outcome?.lastSeq === firstKept - 1))
    const bySeq = new Map(records.map((x) => [x.seq, x.requestId]))
    for (const a of acknowledged.filter((x) => x.seq >= firstKept)) assert.equal(bySeq.get(a.seq), a.requestId)
    const ids = new Set(bySeq.values())
    assert.ok(!ids.has(`req-${acknowledged.length + 1}`) && !ids.has('req-999'), 'the refused ones are not there')
    assert.ok((await verifyAuditChain(inOrder(await listAuditFiles(file)))).ok)
  })
})
