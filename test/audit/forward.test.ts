// Forwarding: webhook batches with the records exactly as written, gzip and a
// Standard Webhooks signature; a receiver that is down for a while and comes
// back gets every record; cursors survive a restart; the stdout sink writes
// records alone; retention and the budget wait for the forwarder.
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import { gunzipSync } from 'node:zlib'
import { resolveConfig } from '../../src/config.ts'
import { AuditRuntime } from '../../src/audit/runtime.ts'
import { signature } from '../../src/audit/forward/webhook.ts'
import { cursorFile, inOrder, listAuditFiles } from '../../src/audit/files.ts'
import { verifyAuditChain } from '../../src/audit/verify.ts'
import { entry, readLines, startReceiver, tempDir } from '../helpers/audit.ts'

const KEY = 'forward-test-hmac-key-0123456789abcdef'

function auditConfig (file: string, over: Record<string, unknown> = {}): ReturnType<typeof resolveConfig>['audit'] {
  return resolveConfig({ audit: { file, replica: 'gw-0', anchor: { intervalSeconds: 0 }, ...over } }).audit
}

/** Backoff waits that return at once but still yield to I/O (the receiver must get a chance to answer). */
const instant = async (): Promise<void> => { await new Promise<void>((resolve) => setImmediate(resolve)) }

/** Backoff waits that hold once `after` retries happened, until open() — the receiver's downtime, without a clock. */
function gatedWait (after: number): { wait: () => Promise<void>, reached: Promise<void>, open: () => void } {
  let attempts = 0
  let reachedResolve!: () => void
  let openResolve!: () => void
  const reached = new Promise<void>((resolve) => { reachedResolve = resolve })
  const opened = new Promise<void>((resolve) => { openResolve = resolve })
  return {
    wait: async () => { if (++attempts >= after) { reachedResolve(); await opened } else await instant() },
    reached,
    open: openResolve
  }
}

describe('webhook forwarding', () => {
  test('batches {"replica","records"} with the lines as written, gzip, a verifiable signature and a stable webhook-id', async (t) => {
    const { file, cleanup } = tempDir()
    const rx = await startReceiver()
    t.after(async () => { await rx.close(); cleanup() })
    const rt = await AuditRuntime.create({
      config: auditConfig(file, { forward: [{ type: 'webhook', url: rx.url, gzip: true, hmacKeyEnv: 'AUDIT_KEY', batchMaxRecords: 4 }] }),
      replica: 'gw-0',
      env: { AUDIT_KEY: KEY },
      wait: instant
    })
    rt.start()
    for (let i = 1; i <= 10; i++) await rt.log.append(entry(i))
    await rx.waitFor(10)
    await rt.close()
    const lines = readLines(file)
    const sent = rx.batches.flatMap((b) => {
      const json = gunzipSync(b.raw).toString('utf8')
      // The records are spliced in as written: the file's bytes appear verbatim.
      return b.body.records.map((r) => { const line = lines[Number(r.seq) - 1] as string; assert.ok(json.includes(line)); return line })
    })
    assert.deepEqual(sent, lines)
    for (const b of rx.batches) {
      assert.equal(b.headers['content-encoding'], 'gzip')
      assert.equal(b.body.replica, 'gw-0')
      assert.ok(b.body.records.length <= 4)
      const first = b.body.records[0]?.seq
      const last = b.body.records.at(-1)?.seq
      assert.equal(b.headers['webhook-id'], `gw-0:${String(first)}-${String(last)}`)
      assert.equal(b.headers['webhook-signature'], signature(KEY, String(b.headers['webhook-id']), String(b.headers['webhook-timestamp']), b.raw))
      assert.notEqual(b.headers['webhook-signature'], signature('another key of the same length 0123456', String(b.headers['webhook-id']), String(b.headers['webhook-timestamp']), b.raw))
    }
    assert.deepEqual(JSON.parse(fs.readFileSync(cursorFile(file, 'webhook'), 'utf8')).seq, 10)
  })

  test('a receiver down for a while, then back: reported down with its backlog, then every record arrives, and requests never waited', async (t) => {
    const { file, cleanup } = tempDir()
    const rx = await startReceiver()
    t.after(async () => { await rx.close(); cleanup() })
    rx.failing = true
    const gate = gatedWait(3)
    const rt = await AuditRuntime.create({
      config: auditConfig(file, { forward: [{ type: 'webhook', url: rx.url, maxAttempts: 3, batchMaxRecords: 50 }] }),
      replica: 'gw-0',
      wait: gate.wait
    })
    rt.start()
    // Every append is acknowledged while nothing can be delivered: requests never wait for a sink.
    for (let i = 1; i <= 120; i++) await rt.log.append(entry(i))
    await gate.reached
    const [status] = rt.forwarders.map((f) => f.status())
    assert.equal(status?.up, false)
    assert.equal(status?.acknowledgedSeq, 0)
    assert.ok((status?.backlog ?? 0) >= 120)
    assert.match(status?.lastError ?? '', /HTTP 503/)
    const checks = await Promise.all(rt.readinessChecks().map(async (c) => ({ name: c.name, critical: c.critical, ...(await c.check()) })))
    const fwd = checks.find((c) => c.name === 'audit-forward')
    assert.equal(fwd?.ok, false)
    assert.equal(fwd?.critical, false, 'a sink being down does not take the replica out of service')
    assert.match(fwd?.detail ?? '', /webhook: down, backlog 120 records/)
    assert.equal(checks.find((c) => c.name === 'audit-log')?.ok, true)
    rx.failing = false
    gate.open()
    await rx.waitFor(120)
    await rt.forwarders[0]?.caughtUp()
    await rt.close()
    assert.deepEqual([...rx.bySeq.keys()].map((k) => Number(k.split('/')[1])), Array.from({ length: 120 }, (_, i) => i + 1))
    assert.equal(rt.forwarders[0]?.status().up, true)
  })

  test('the cursor survives a restart: only new records are sent afterwards', async (t) => {
    const { file, cleanup } = tempDir()
    const rx = await startReceiver()
    t.after(async () => { await rx.close(); cleanup() })
    const config = auditConfig(file, { forward: [{ type: 'webhook', url: rx.url }] })
    let rt = await AuditRuntime.create({ config, replica: 'gw-0', wait: instant })
    rt.start()
    for (let i = 1; i <= 5; i++) await rt.log.append(entry(i))
    await rx.waitFor(5)
    await rt.close()
    const before = rx.batches.length
    rt = await AuditRuntime.create({ config, replica: 'gw-0', wait: instant })
    rt.start()
    for (let i = 6; i <= 8; i++) await rt.log.append(entry(i))
    await rx.waitFor(8)
    await rt.close()
    const resent = rx.batches.slice(before).flatMap((b) => b.body.records.map((r) => r.seq))
    assert.deepEqual(resent, [6, 7, 8])
  })

  test('across rotations, retention waits for the forwarder; its backlog is bounded by the budget', async (t) => {
    const { file, cleanup } = tempDir()
    const rx = await startReceiver()
    t.after(async () => { await rx.close(); cleanup() })
    rx.failing = true
    const gate = gatedWait(2)
    const rt = await AuditRuntime.create({
      config: auditConfig(file, { rotation: { maxBytes: 4096, maxAgeHours: 0, maxFiles: 2 }, forward: [{ type: 'webhook', url: rx.url, maxAttempts: 2, batchMaxRecords: 7 }] }),
      replica: 'gw-0',
      wait: gate.wait
    })
    rt.start()
    let appended = 0
    for (let i = 1; i <= 1000; i++) {
      const ok = await rt.log.append(entry(i)).then(() => true, () => false)
      if (!ok) break
      appended++
    }
    assert.ok(appended < 1000 && rt.log.budgetReached(), 'the budget stops the backlog from growing')
    assert.equal((await listAuditFiles(file)).rotated.length, 2, 'no unacknowledged file was deleted')
    rx.failing = false
    gate.open()
    await rt.forwarders[0]?.caughtUp()
    assert.equal(rt.log.writable(), true)
    await rt.log.append(entry(2000))
    await rx.waitFor(rt.log.head().seq)
    await rt.close()
    const seqs = [...rx.bySeq.keys()].map((k) => Number(k.split('/')[1])).sort((a, b) => a - b)
    assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => i + 1), 'every seq from 1 arrived, across rotated files')
    assert.ok((await verifyAuditChain(inOrder(await listAuditFiles(file)))).ok)
  })
})

describe('stdout forwarding', () => {
  test('records alone on their stream, exactly as written, with a cursor like any sink', async (t) => {
    const { file, cleanup } = tempDir()
    t.after(cleanup)
    const chunks: Buffer[] = []
    const stdout = { write: (c: Uint8Array, cb: (err?: Error | null) => void): boolean => { chunks.push(Buffer.from(c)); cb(); return true } }
    const rt = await AuditRuntime.create({ config: auditConfig(file, { stdout: true }), replica: 'gw-0', stdout, wait: instant })
    rt.start()
    for (let i = 1; i <= 6; i++) await rt.log.append(entry(i))
    await rt.forwarders[0]?.caughtUp()
    await rt.close()
    assert.equal(Buffer.concat(chunks).toString('utf8'), fs.readFileSync(file, 'utf8'))
    assert.equal(rt.forwarders[0]?.name, 'stdout')
    assert.equal(JSON.parse(fs.readFileSync(cursorFile(file, 'stdout'), 'utf8')).seq, 6)
  })
})

describe('SIGKILL during forwarding', () => {
  const child = new URL('./fixtures/forward-loop.ts', import.meta.url).pathname

  async function runAndKill (file: string, url: string, run: number, delivered: () => number): Promise<Array<[number, string]>> {
    const { spawn } = await import('node:child_process')
    return await new Promise((resolve, reject) => {
      const p = spawn(process.execPath, [child, file, url, String(run)], { stdio: ['ignore', 'pipe', 'inherit'] })
      let out = ''
      let killTimer: NodeJS.Timeout | undefined
      const startDelivered = delivered()
      p.stdout.setEncoding('utf8')
      p.stdout.on('data', (d: string) => {
        out += d
        // Kill once this run has delivered something, at a random moment after.
        if (killTimer === undefined && delivered() > startDelivered) {
          killTimer = setTimeout(() => p.kill('SIGKILL'), 50 + Math.floor(Math.random() * 300))
        }
      })
      p.on('error', reject)
      p.on('close', (code, signal) => {
        clearTimeout(killTimer)
        if (signal !== 'SIGKILL') return reject(new Error(`child exited with ${code}/${signal}`))
        resolve(out.split('\n').slice(1).filter((l) => /^\d+ \S+$/.test(l)).map((l) => { const [s, id] = l.split(' '); return [Number(s), id as string] }))
      })
    })
  }

  test('nothing acknowledged goes missing at the receiver, and what arrives twice is the same record (same seq)', { timeout: 120_000 }, async (t) => {
    const { file, cleanup } = tempDir()
    const rx = await startReceiver()
    t.after(async () => { await rx.close(); cleanup() })
    const acked: Array<[number, string]> = []
    for (let run = 0; run < 3; run++) acked.push(...await runAndKill(file, rx.url, run, () => rx.bySeq.size + rx.duplicates))
    // A last start drains what the killed runs left behind.
    const rt = await AuditRuntime.create({ config: auditConfig(file, { rotation: { maxBytes: 16384, maxAgeHours: 0, maxFiles: 1000 }, forward: [{ type: 'webhook', url: rx.url }] }), replica: 'gw-0', wait: instant })
    rt.start()
    await rt.forwarders[0]?.caughtUp()
    const head = rt.log.head().seq
    await rt.close()
    assert.ok(acked.length > 0)
    assert.deepEqual(rx.conflicts, [], 'a seq never arrives with two different records')
    for (const [seq, requestId] of acked) {
      const got = rx.bySeq.get(`gw-0/${seq}`)
      assert.ok(got !== undefined, `acknowledged record ${seq} never arrived`)
      assert.equal(JSON.parse(got).requestId, requestId)
    }
    assert.equal(rx.bySeq.size, head, 'every record on disk arrived')
    assert.ok((await verifyAuditChain(inOrder(await listAuditFiles(file)))).ok)
  })
})
