// One measurement of the `audit` scenario in its own process: simulated
// requests, each doing the per-request CPU budget of rest-warm (35 µs) and
// two audit appends (request record, then outcome record after a simulated
// upstream call), in a closed loop (fixed concurrency) or an open loop
// (fixed arrival rate; latency from the scheduled start, so queueing shows).
import fs from 'node:fs'
import path from 'node:path'
import { createAuditLog, createNoopAuditLog } from '../../src/audit/writer.ts'
import type { AuditEntry, AuditLog } from '../../src/audit/types.ts'
import { workerDone, workerInput } from '../lib/child.ts'
import { latencyRecorder } from '../lib/histogram.ts'
import type { LatencySummary } from '../lib/histogram.ts'

export interface AuditLoadInput {
  variant: 'noop' | 'file'
  batchMaxMs: number
  mode: 'closed' | 'open'
  concurrency: number
  /** Requests per second (open loop). */
  rate: number
  warmupMs: number
  durationMs: number
  cpuWorkUs: number
  dir: string
}

export interface AuditLoadResult {
  requests: number
  seconds: number
  rps: number
  latency: LatencySummary
  cpuUsPerRequest: number
  batches: number
  records: number
  recordsPerBatch: number
}

function busy (us: number): void {
  const end = process.hrtime.bigint() + BigInt(Math.round(us * 1000))
  while (process.hrtime.bigint() < end) { /* spin: simulated handler work */ }
}

const input = workerInput<AuditLoadInput>()
const file = path.join(input.dir, `audit-${process.pid}.jsonl`)
const log: AuditLog & { stats?: () => { batches: number, records: number } } = input.variant === 'noop'
  ? createNoopAuditLog('bench')
  : await createAuditLog({ file, replica: 'bench', batchMaxMs: input.batchMaxMs })

let n = 0
function requestEntry (): AuditEntry {
  const i = n++
  return {
    requestId: `req-${i}`,
    action: 'ephemeral.create',
    phase: 'request',
    actor: { user: 'alice', groups: ['dev', 'system:authenticated'] },
    target: { namespace: 'demo', pod: 'web-7d9f8c6b5-x2k4q', container: 'debugger-abcde' },
    request: { image: 'busybox:1.36', profile: 'general', capabilities: { add: ['NET_ADMIN'] }, reason: 'investigating packet loss', ttlSeconds: 1800 },
    decision: { allowed: true, rule: 'developers' },
    source: { ip: '10.0.0.12', userAgent: 'curl/8.5.0' }
  }
}

async function oneRequest (): Promise<void> {
  busy(input.cpuWorkUs / 2)
  const rec = await log.append(requestEntry())
  await new Promise<void>((resolve) => setImmediate(resolve)) // the upstream call
  busy(input.cpuWorkUs / 2)
  await log.append({ requestId: rec.requestId, action: rec.action, phase: 'outcome', actor: rec.actor, relatesTo: rec.id, outcome: { status: 201 } })
}

const lat = latencyRecorder()
let measuring = false
let completed = 0

async function closedLoop (until: bigint): Promise<void> {
  const worker = async (): Promise<void> => {
    while (process.hrtime.bigint() < until) {
      const t0 = process.hrtime.bigint()
      await oneRequest()
      if (measuring) { lat.since(t0); completed++ }
    }
  }
  await Promise.all(Array.from({ length: input.concurrency }, worker))
}

async function openLoop (until: bigint): Promise<void> {
  const intervalNs = 1e9 / input.rate
  let next = Number(process.hrtime.bigint())
  const inflight = new Set<Promise<void>>()
  while (BigInt(Math.round(next)) < until) {
    const now = Number(process.hrtime.bigint())
    while (next <= now) {
      const scheduled = BigInt(Math.round(next))
      const counted = measuring
      const p = oneRequest().then(() => { if (counted) { lat.since(scheduled); completed++ } })
      inflight.add(p)
      p.finally(() => inflight.delete(p)).catch(() => {})
      next += intervalNs
    }
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
  await Promise.all(inflight)
}

const run = input.mode === 'closed' ? closedLoop : openLoop
await run(process.hrtime.bigint() + BigInt(input.warmupMs) * 1_000_000n)
const statsBefore = log.stats?.() ?? { batches: 0, records: 0 }
lat.reset()
measuring = true
const cpu0 = process.cpuUsage()
const t0 = process.hrtime.bigint()
await run(t0 + BigInt(input.durationMs) * 1_000_000n)
const seconds = Number(process.hrtime.bigint() - t0) / 1e9
const cpu = process.cpuUsage(cpu0)
const statsAfter = log.stats?.() ?? { batches: 0, records: 0 }
await log.close()
fs.rmSync(file, { force: true })
const batches = statsAfter.batches - statsBefore.batches
const records = statsAfter.records - statsBefore.records
const result: AuditLoadResult = {
  requests: completed,
  seconds,
  rps: completed / seconds,
  latency: lat.summary(),
  cpuUsPerRequest: (cpu.user + cpu.system) / Math.max(1, completed),
  batches,
  records,
  recordsPerBatch: batches > 0 ? records / batches : 0
}
workerDone(result)
