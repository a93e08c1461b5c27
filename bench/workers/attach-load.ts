// Attach load generator (its own process, BENCH rule 2). Modes:
// - flood: `sessions` sessions at once each ask for `bytes` in `chunk`-byte
//   frames and read everything; reports bytes/s and whether every byte
//   arrived in order (the periodic pattern of lib/pattern.ts).
// - slow: one session floods forever; the client reads at `readRate` B/s for
//   `durationMs` while pinging every 100 ms; reports pong round trips.
// The same code talks to the upstream directly (baseline) or to the gateway.
import { WebSocket } from 'ws'
import { workerInput, workerDone } from '../lib/child.ts'
import { latencyRecorder } from '../lib/histogram.ts'
import { PATTERN_PERIOD } from '../lib/pattern.ts'

export interface AttachLoadInput {
  mode: 'flood' | 'slow'
  url: string
  headers?: Record<string, string>
  sessions?: number
  bytes?: number
  chunk: number
  readRate?: number
  durationMs?: number
}

export interface AttachLoadResult {
  bytes: number
  seconds: number
  bytesPerSec: number
  intact: boolean
  pongP99Us?: number
  pongMaxUs?: number
}

async function open (input: AttachLoadInput): Promise<WebSocket> {
  const ws = new WebSocket(input.url, ['v5.channel.k8s.io'], { headers: input.headers, perMessageDeflate: false })
  await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject) })
  return ws
}

async function flood (input: AttachLoadInput): Promise<AttachLoadResult> {
  const total = input.bytes ?? 0
  const socks = await Promise.all(Array.from({ length: input.sessions ?? 1 }, async () => await open(input)))
  let intact = true
  let received = 0
  const t0 = process.hrtime.bigint()
  await Promise.all(socks.map(async ws => await new Promise<void>(resolve => {
    let offset = 0
    ws.on('message', (raw: Buffer) => {
      if (raw[0] !== 1) return
      // Spot-check every frame's first and last byte against the pattern (full checks would load the client).
      const n = raw.length - 1
      if (n > 0 && (raw[1] !== offset % PATTERN_PERIOD || raw[n] !== (offset + n - 1) % PATTERN_PERIOD)) intact = false
      offset += n
      received += n
    })
    ws.on('close', () => { if (offset !== total) intact = false; resolve() })
    ws.send(Buffer.concat([Buffer.from([0]), Buffer.from(`flood ${total} ${input.chunk}\n`)]))
  })))
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  return { bytes: received, seconds, bytesPerSec: received / seconds, intact }
}

async function slow (input: AttachLoadInput): Promise<AttachLoadResult> {
  const ws = await open(input)
  const rate = input.readRate ?? 1_000_000
  const pongs = latencyRecorder()
  let received = 0
  let allowance = 0
  const tick = setInterval(() => {
    allowance += rate / 20
    if (received < allowance && ws.isPaused) ws.resume()
  }, 50)
  ws.on('message', (raw: Buffer) => {
    received += raw.length - 1
    if (received >= allowance) ws.pause()
  })
  let pingAt = 0n
  ws.on('pong', () => { if (pingAt !== 0n) pongs.since(pingAt); pingAt = 0n })
  const pinger = setInterval(() => { if (pingAt === 0n) { pingAt = process.hrtime.bigint(); ws.ping() } }, 100)
  const t0 = process.hrtime.bigint()
  ws.send(Buffer.concat([Buffer.from([0]), Buffer.from(`flood 0 ${input.chunk}\n`)]))
  await new Promise(resolve => setTimeout(resolve, input.durationMs ?? 5000))
  clearInterval(tick)
  clearInterval(pinger)
  // A ping still unanswered counts with its age so far (a pong may never come back in time).
  if (pingAt !== 0n) pongs.since(pingAt)
  ws.terminate()
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  const s = pongs.summary()
  return { bytes: received, seconds, bytesPerSec: received / seconds, intact: true, pongP99Us: s.p99Us, pongMaxUs: s.maxUs }
}

const input = workerInput<AttachLoadInput>()
workerDone(input.mode === 'flood' ? await flood(input) : await slow(input))
