// Keystroke load generator for attach-latency (its own process, BENCH rule 2).
// One v5.channel.k8s.io session; open loop: a keystroke frame (stdin, 8–64 B,
// a sequence number first) every 1/rate s whether or not earlier echoes came
// back; the upstream echoes stdin as stdout, so each echo closes one round
// trip, timed with process.hrtime.bigint() into an HDR histogram. The first
// warmupMs are not recorded. The same code talks to the upstream directly
// (baseline) or to the gateway. IPC: `{ phase: 'start' | 'end' }` around the
// measured window (for the gateway's CPU per keystroke), then the result.
// With `floodChunk` the process is instead the flooding session's reader: it
// asks attach-api-upstream for an endless stdout flood (`flood CHUNK`) and
// reads it as fast as it can for warmupMs + durationMs.
import { WebSocket } from 'ws'
import { workerInput, workerDone } from '../lib/child.ts'
import { latencyRecorder, type LatencySummary } from '../lib/histogram.ts'

export interface AttachKeysInput {
  url: string
  headers?: Record<string, string>
  /** Keystrokes per second. */
  rate: number
  warmupMs: number
  durationMs: number
  minBytes?: number
  maxBytes?: number
  /** Be the flood reader instead: frames of this many bytes. */
  floodChunk?: number
}

export interface AttachFloodResult { bytes: number, seconds: number, bytesPerSec: number }

export interface AttachKeysResult {
  /** Keystrokes sent / echoed in the measured window. */
  sent: number
  echoed: number
  /** Echoes that never came back, or came back altered or out of order (whole run). */
  lost: number
  corrupt: number
  latency: LatencySummary
  /** How late the sender was against its schedule (timer granularity, a busy loop), p99 µs. */
  scheduleLagP99Us: number
  seconds: number
}

const SEQ_BYTES = 4
const STDIN = 0
const STDOUT = 1

/** Keystroke `seq`: [0, seq (u32 BE), filler …] with a payload of `size` bytes (≥ 5). */
function keystroke (seq: number, size: number): Buffer {
  const b = Buffer.alloc(1 + size, 0x61 + (seq % 26))
  b[0] = STDIN
  b.writeUInt32BE(seq, 1)
  return b
}

async function run (input: AttachKeysInput): Promise<AttachKeysResult> {
  const min = Math.max(SEQ_BYTES + 1, input.minBytes ?? 8)
  const max = Math.max(min, input.maxBytes ?? 64)
  const ws = new WebSocket(input.url, ['v5.channel.k8s.io'], { headers: input.headers, perMessageDeflate: false })
  await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject) })
  const periodNs = 1e9 / input.rate
  const total = Math.ceil((input.warmupMs + input.durationMs) / 1000 * input.rate)
  const warmupCount = Math.ceil(input.warmupMs / 1000 * input.rate)
  const sentAt = new Array<bigint>(total)
  const sizes = new Uint8Array(total)
  const rec = latencyRecorder()
  const lag = latencyRecorder()
  let next = 0
  let expected = 0
  let echoed = 0
  let corrupt = 0
  let measuredStart = 0n
  let measuredEnd = 0n

  const allBack = new Promise<void>(resolve => {
    ws.on('message', (raw: Buffer) => {
      if (raw[0] !== STDOUT || raw.length < 1 + SEQ_BYTES) return // readiness frame
      const now = process.hrtime.bigint()
      const seq = raw.readUInt32BE(1)
      // Echoes of one session arrive in order: anything else is loss or reordering.
      if (seq !== expected || raw.length !== 1 + (sizes[seq] ?? 0)) corrupt++
      expected = seq + 1
      const at = sentAt[seq]
      if (at !== undefined && seq >= warmupCount) {
        rec.recordUs(Number(now - at) / 1000)
        echoed++
      }
      if (expected >= total) resolve()
    })
    ws.on('close', () => resolve())
  })

  const t0 = process.hrtime.bigint()
  await new Promise<void>(resolve => {
    // Open loop: every tick sends what is due by the schedule, however many echoes are outstanding.
    const tick = setInterval(() => {
      const now = process.hrtime.bigint()
      while (next < total && Number(now - t0) >= next * periodNs) {
        const size = min + Math.floor(Math.random() * (max - min + 1))
        sizes[next] = size
        const frame = keystroke(next, size)
        const at = process.hrtime.bigint()
        if (next === warmupCount) { measuredStart = at; process.send?.({ phase: 'start' }) }
        if (next >= warmupCount) lag.recordUs(Number(at - t0) / 1000 - next * periodNs / 1000)
        sentAt[next] = at
        ws.send(frame)
        next++
      }
      if (next >= total) { clearInterval(tick); resolve() }
    }, 1)
  })
  measuredEnd = process.hrtime.bigint()
  process.send?.({ phase: 'end' })
  // Stragglers get a second to come back; then they count as lost.
  await Promise.race([allBack, new Promise(resolve => setTimeout(resolve, 1000))])
  ws.terminate()
  return {
    sent: total - warmupCount,
    echoed,
    lost: total - expected,
    corrupt,
    latency: rec.summary(),
    scheduleLagP99Us: lag.summary().p99Us,
    seconds: Number(measuredEnd - measuredStart) / 1e9
  }
}

async function floodReader (input: AttachKeysInput): Promise<AttachFloodResult> {
  const ws = new WebSocket(input.url, ['v5.channel.k8s.io'], { headers: input.headers, perMessageDeflate: false })
  await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject) })
  let bytes = 0
  ws.on('message', (raw: Buffer) => { bytes += raw.length - 1 })
  const t0 = process.hrtime.bigint()
  ws.send(Buffer.from(`\u0000flood ${input.floodChunk ?? 65536}\n`, 'latin1'))
  await new Promise(resolve => setTimeout(resolve, input.warmupMs + input.durationMs))
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  ws.terminate()
  return { bytes, seconds, bytesPerSec: bytes / seconds }
}

const input = workerInput<AttachKeysInput>()
workerDone(input.floodChunk !== undefined ? await floodReader(input) : await run(input))
