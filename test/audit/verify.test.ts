import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { hashLine, serializeRecord } from '../../src/audit/chain.ts'
import { createAuditLog } from '../../src/audit/writer.ts'
import { verifyAuditFile } from '../../src/audit/verify.ts'
import type { AuditRecord } from '../../src/audit/types.ts'
import { entry, tempDir } from '../helpers/audit.ts'

const N = 6
let dir: string
let cleanup: () => void
let lines: string[] = []
let n = 0

function writeVariant (ls: string[]): string {
  const f = path.join(dir, `v${++n}.jsonl`)
  fs.writeFileSync(f, ls.map((l) => l + '\n').join(''))
  return f
}

async function brokenAt (ls: string[]): Promise<number> {
  const res = await verifyAuditFile(writeVariant(ls))
  assert.equal(res.ok, false, 'tampering went unnoticed')
  return res.ok ? -1 : res.line
}

function edit (line: string, change: (r: AuditRecord) => void): string {
  const r = JSON.parse(line) as AuditRecord
  change(r)
  return serializeRecord(r)
}

describe('verifyAuditFile', () => {
  before(async () => {
    const t = tempDir()
    dir = t.dir
    cleanup = t.cleanup
    const log = await createAuditLog({ file: t.file, replica: 'gw-0' })
    for (let i = 1; i <= N; i++) await log.append(entry(i))
    await log.close()
    lines = fs.readFileSync(t.file, 'utf8').split('\n').filter(Boolean)
    assert.equal(lines.length, N)
  })
  after(() => cleanup())

  test('an intact file verifies', async () => {
    assert.deepEqual(await verifyAuditFile(writeVariant(lines)), { ok: true, records: N, lastHash: hashLine(lines[N - 1] as string) })
  })

  test('an empty file verifies with zero records', async () => {
    const res = await verifyAuditFile(writeVariant([]))
    assert.equal(res.ok && res.records, 0)
  })

  for (const k of [1, 3, N - 1]) {
    test(`editing the content of line ${k} fails at line ${k}`, async () => {
      const ls = [...lines]
      ls[k - 1] = edit(ls[k - 1] as string, (r) => { r.actor.user = 'mallory' })
      assert.equal(await brokenAt(ls), k)
    })

    test(`editing only whitespace of line ${k} fails at line ${k}`, async () => {
      const ls = [...lines]
      ls[k - 1] = (ls[k - 1] as string).replace('{', '{ ')
      assert.equal(await brokenAt(ls), k)
    })

    test(`adding a carriage return to line ${k} fails at line ${k}`, async () => {
      const ls = [...lines]
      ls[k - 1] = (ls[k - 1] as string) + '\r'
      assert.equal(await brokenAt(ls), k)
    })
  }

  test('editing the prevHash of a middle line fails at that line', async () => {
    const ls = [...lines]
    ls[2] = edit(ls[2] as string, (r) => { r.prevHash = hashLine('forged') })
    assert.equal(await brokenAt(ls), 3)
  })

  test('editing the seq of a line fails at that line', async () => {
    const ls = [...lines]
    ls[3] = edit(ls[3] as string, (r) => { r.seq = 40 })
    assert.equal(await brokenAt(ls), 4)
  })

  test('editing the last line is invisible to the chain but caught by an anchor', async () => {
    const ls = [...lines]
    ls[N - 1] = edit(ls[N - 1] as string, (r) => { r.actor.user = 'mallory' })
    const f = writeVariant(ls)
    assert.equal((await verifyAuditFile(f)).ok, true)
    const res = await verifyAuditFile(f, { expectLastHash: hashLine(lines[N - 1] as string) })
    assert.deepEqual(res.ok ? null : res.line, N)
  })

  for (const k of [1, 3]) {
    test(`deleting line ${k} fails at line ${k}`, async () => {
      const ls = lines.filter((_, i) => i !== k - 1)
      assert.equal(await brokenAt(ls), k)
    })
  }

  test('deleting the last line is caught only by an anchor', async () => {
    const f = writeVariant(lines.slice(0, -1))
    assert.equal((await verifyAuditFile(f)).ok, true)
    const res = await verifyAuditFile(f, { expectLastHash: hashLine(lines[N - 1] as string) })
    assert.equal(res.ok, false)
  })

  for (const k of [1, 3, N + 1]) {
    test(`inserting a copied line at position ${k} fails at line ${k}`, async () => {
      const ls = [...lines]
      // (A copy placed right after its original is indistinguishable from the original: both answers would be right.)
      ls.splice(k - 1, 0, lines[4] as string)
      assert.equal(await brokenAt(ls), k)
    })
  }

  test('inserting a well-forged record (right prevHash and seq) in the middle fails at that line', async () => {
    const prev = lines[1] as string
    const forged = edit(lines[2] as string, (r) => { r.actor.user = 'ghost'; r.id = 'forged'; r.prevHash = hashLine(prev) })
    const ls = [...lines]
    ls.splice(2, 0, forged)
    assert.equal(await brokenAt(ls), 3)
  })

  test('inserting a well-forged record at the start fails at line 1', async () => {
    const forged = edit(lines[0] as string, (r) => { r.actor.user = 'ghost' })
    assert.equal(await brokenAt([forged, ...lines]), 1)
  })

  for (const k of [1, 3, N - 1]) {
    test(`swapping lines ${k} and ${k + 1} fails at line ${k}`, async () => {
      const ls = [...lines]
      ;[ls[k - 1], ls[k]] = [ls[k] as string, ls[k - 1] as string]
      assert.equal(await brokenAt(ls), k)
    })
  }

  test('moving the last line to the front fails at line 1', async () => {
    assert.equal(await brokenAt([lines[N - 1] as string, ...lines.slice(0, -1)]), 1)
  })

  test('garbage, blank lines and a torn tail are named', async () => {
    let res = await verifyAuditFile(writeVariant([...lines.slice(0, 2), 'not json', ...lines.slice(2)]))
    assert.deepEqual(res, { ok: false, line: 3, reason: 'not valid JSON' })
    res = await verifyAuditFile(writeVariant([...lines.slice(0, 2), '', ...lines.slice(2)]))
    assert.deepEqual(res, { ok: false, line: 3, reason: 'empty line' })
    const f = writeVariant(lines)
    fs.appendFileSync(f, '{"seq":7')
    res = await verifyAuditFile(f)
    assert.equal(res.ok ? 0 : res.line, N + 1)
    assert.match(res.ok ? '' : res.reason, /torn last line/)
  })

  test('a long file streams through chunk boundaries', async () => {
    const t = tempDir()
    try {
      const log = await createAuditLog({ file: t.file, replica: 'gw-0' })
      await Promise.all(Array.from({ length: 4000 }, (_, i) => log.append(entry(i))))
      await log.close()
      const res = await verifyAuditFile(t.file)
      assert.equal(res.ok && res.records, 4000)
      // Flip one byte deep inside: caught at that record.
      const buf = fs.readFileSync(t.file)
      const ls = buf.toString().split('\n')
      const off = ls.slice(0, 2999).reduce((a, l) => a + Buffer.byteLength(l) + 1, 0) + 40
      buf[off] = (buf[off] as number) ^ 1
      fs.writeFileSync(t.file, buf)
      const bad = await verifyAuditFile(t.file)
      assert.equal(bad.ok ? 0 : bad.line, 3000)
    } finally {
      t.cleanup()
    }
  })

  test('a malformed anchor is a usage error', async () => {
    await assert.rejects(verifyAuditFile(writeVariant(lines), { expectLastHash: 'abc' }), /64 lowercase hex/)
  })
})
