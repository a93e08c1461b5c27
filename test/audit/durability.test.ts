import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createAuditLog } from '../../src/audit/writer.ts'
import { verifyAuditChain, verifyAuditFile } from '../../src/audit/verify.ts'
import { inOrder, listAuditFiles } from '../../src/audit/files.ts'
import type { AuditRecord } from '../../src/audit/types.ts'
import { readLines, tempDir } from '../helpers/audit.ts'

const child = fileURLToPath(new URL('./fixtures/append-loop.ts', import.meta.url))

function runAndKill (file: string, run: number, rotateBytes = 0): Promise<Array<[number, string]>> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child, file, String(run), String(rotateBytes)], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    let killTimer: NodeJS.Timeout | undefined
    p.stdout.setEncoding('utf8')
    p.stdout.on('data', (d: string) => {
      out += d
      // Start the random delay once something was acknowledged, so a slow start cannot make a run vacuous.
      if (killTimer === undefined && /^ready\n\d+ /.test(out)) {
        killTimer = setTimeout(() => p.kill('SIGKILL'), 100 + Math.floor(Math.random() * 400))
      }
    })
    p.on('error', reject)
    p.on('close', (code, signal) => {
      clearTimeout(killTimer)
      if (signal !== 'SIGKILL') return reject(new Error(`child exited with ${code}/${signal}`))
      const acks = out.split('\n').slice(1).filter((l) => /^\d+ \S+$/.test(l))
        .map((l) => { const [s, id] = l.split(' '); return [Number(s), id as string] as [number, string] })
      resolve(acks)
    })
  })
}

test('SIGKILL at random moments loses no acknowledged record and the chain verifies', { timeout: 30_000 }, async (t) => {
  const { file, cleanup } = tempDir()
  t.after(cleanup)
  const acked: Array<[number, string]> = []
  for (let run = 0; run < 3; run++) {
    const acks = await runAndKill(file, run)
    assert.ok(acks.length > 0, `run ${run} acknowledged nothing`)
    acked.push(...acks)
  }
  // A restart repairs a torn tail (if the kill hit mid-write) before verifying.
  const log = await createAuditLog({ file, replica: 'verifier' })
  await log.close()
  const res = await verifyAuditFile(file)
  assert.ok(res.ok, JSON.stringify(res))
  const bySeq = new Map(readLines(file).map((l) => { const r = JSON.parse(l) as AuditRecord; return [r.seq, r.requestId] }))
  for (const [seq, requestId] of acked) {
    assert.equal(bySeq.get(seq), requestId, `acknowledged record ${seq} (${requestId}) is missing`)
  }
})

test('SIGKILL while the log rotates every few KiB: nothing acknowledged is missing and the files verify as one chain', { timeout: 30_000 }, async (t) => {
  const { file, cleanup } = tempDir()
  t.after(cleanup)
  const rotation = { maxBytes: 8192, maxAgeHours: 0, maxFiles: 1000 }
  const acked: Array<[number, string]> = []
  for (let run = 0; run < 3; run++) {
    const acks = await runAndKill(file, run, rotation.maxBytes)
    assert.ok(acks.length > 0, `run ${run} acknowledged nothing`)
    acked.push(...acks)
  }
  const log = await createAuditLog({ file, replica: 'verifier', rotation })
  await log.close()
  const listed = await listAuditFiles(file)
  assert.ok(listed.rotated.length >= 3, `only ${listed.rotated.length} rotations happened`)
  const res = await verifyAuditChain(inOrder(listed))
  assert.ok(res.ok, JSON.stringify(res))
  const bySeq = new Map<number, string>()
  for (const f of inOrder(listed)) {
    for (const l of readLines(f)) { const r = JSON.parse(l) as AuditRecord; bySeq.set(r.seq, r.requestId) }
  }
  for (const [seq, requestId] of acked) {
    assert.equal(bySeq.get(seq), requestId, `acknowledged record ${seq} (${requestId}) is missing`)
  }
})
