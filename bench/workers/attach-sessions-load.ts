// Session load generator for attach-sessions (its own process, BENCH rule 2).
// Same code for the baseline (straight to the upstream) and the gateway.
// - churn: keeps `concurrency` sessions in their lifecycle (connect → open →
//   close 1000 → closed) for warmupMs unrecorded, then `total` more: setup
//   latency (connect → open, i.e. the WebSocket handshake, which through the
//   gateway includes authentication, authorization, the attach.start audit
//   record and the upstream handshake) into an HDR histogram; sessions/s over
//   the measured ones, open to closed. Capacity (BENCH rule 4: closed loop).
// - open: a new session every 1/rate s whatever the others do (open loop, for
//   setup latency without queueing: BENCH rule 4), warmupMs unrecorded, then
//   `total` sessions, each connect → open → close.
// - hold: opens `total` sessions (`concurrency` handshakes at a time) and
//   leaves them idle; IPC `{ phase: 'held' }` then waits for the parent's
//   'release'; then checks every session still echoes a keystroke, closes
//   them all and reports.
import { WebSocket } from 'ws'
import { workerInput, workerDone } from '../lib/child.ts'
import { latencyRecorder, type LatencySummary } from '../lib/histogram.ts'

export interface AttachSessionsInput {
  mode: 'churn' | 'hold' | 'open'
  url: string
  headers?: Record<string, string>
  total: number
  concurrency: number
  warmupMs?: number
  /** open: sessions started per second. */
  rate?: number
}

export interface AttachSessionsResult {
  /** Sessions measured (opened, or attempted and failed). */
  sessions: number
  failed: number
  setup: LatencySummary
  /** churn: measured sessions ÷ seconds from the first measured connect to the last close. */
  sessionsPerSec: number
  seconds: number
  /** churn: sessions run during the unrecorded warm-up. */
  warmSessions?: number
  /** hold: sessions that echoed a keystroke after being held. */
  alive?: number
  firstError?: string
}

const PROTOCOLS = ['v5.channel.k8s.io']

interface Outcome { ok: boolean, setupUs: number, ws?: WebSocket, error?: string }

/** Opens one session; resolves at `open` (or on failure). */
async function open (input: AttachSessionsInput): Promise<Outcome> {
  const t0 = process.hrtime.bigint()
  const ws = new WebSocket(input.url, PROTOCOLS, { headers: input.headers, perMessageDeflate: false })
  return await new Promise<Outcome>(resolve => {
    ws.once('open', () => resolve({ ok: true, setupUs: Number(process.hrtime.bigint() - t0) / 1000, ws }))
    ws.once('unexpected-response', (_req, res) => { ws.terminate(); resolve({ ok: false, setupUs: 0, error: `HTTP ${res.statusCode ?? '?'}` }) })
    ws.once('error', (err) => resolve({ ok: false, setupUs: 0, error: err.message }))
  })
}

async function closed (ws: WebSocket): Promise<void> {
  if (ws.readyState === ws.CLOSED) return
  await new Promise<void>(resolve => {
    const t = setTimeout(() => { ws.terminate(); resolve() }, 5000)
    ws.once('close', () => { clearTimeout(t); resolve() })
    if (ws.readyState === ws.OPEN) ws.close(1000)
  })
}

async function churn (input: AttachSessionsInput): Promise<AttachSessionsResult> {
  const rec = latencyRecorder()
  let failed = 0
  let firstError: string | undefined
  const warmUntil = Date.now() + (input.warmupMs ?? 0)
  let measured = 0
  let warmSessions = 0
  let started = 0n
  const lane = async (): Promise<void> => {
    for (;;) {
      const warm = Date.now() < warmUntil
      if (!warm) {
        if (measured >= input.total) return
        measured++
        if (started === 0n) started = process.hrtime.bigint()
      } else warmSessions++
      const o = await open(input)
      if (!warm) {
        if (o.ok) rec.recordUs(o.setupUs)
        else { failed++; firstError ??= o.error }
      }
      if (o.ws) await closed(o.ws)
    }
  }
  await Promise.all(Array.from({ length: input.concurrency }, lane))
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  return { sessions: measured, failed, setup: rec.summary(), sessionsPerSec: (measured - failed) / seconds, seconds, warmSessions, ...(firstError ? { firstError } : {}) }
}

async function openLoop (input: AttachSessionsInput): Promise<AttachSessionsResult> {
  const rec = latencyRecorder()
  const rate = input.rate ?? 100
  const warm = Math.ceil((input.warmupMs ?? 0) / 1000 * rate)
  const all = warm + input.total
  let failed = 0
  let firstError: string | undefined
  const lives: Array<Promise<void>> = []
  const one = async (measured: boolean): Promise<void> => {
    const o = await open(input)
    if (measured) {
      if (o.ok) rec.recordUs(o.setupUs)
      else { failed++; firstError ??= o.error }
    }
    if (o.ws) await closed(o.ws)
  }
  const t0 = process.hrtime.bigint()
  let started = 0n
  let next = 0
  await new Promise<void>(resolve => {
    const tick = setInterval(() => {
      const elapsed = Number(process.hrtime.bigint() - t0)
      while (next < all && elapsed >= next * 1e9 / rate) {
        if (next === warm) started = process.hrtime.bigint()
        lives.push(one(next >= warm))
        next++
      }
      if (next >= all) { clearInterval(tick); resolve() }
    }, 1)
  })
  await Promise.all(lives)
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  return { sessions: input.total, failed, setup: rec.summary(), sessionsPerSec: (input.total - failed) / seconds, seconds, warmSessions: warm, ...(firstError ? { firstError } : {}) }
}

async function echoes (ws: WebSocket): Promise<boolean> {
  if (ws.readyState !== ws.OPEN) return false
  return await new Promise<boolean>(resolve => {
    const t = setTimeout(() => { ws.off('message', onMessage); resolve(false) }, 10_000)
    const onMessage = (raw: Buffer): void => {
      if (raw.length < 2 || raw[0] !== 1) return // readiness (direct only: the gateway drops empty frames)
      clearTimeout(t)
      ws.off('message', onMessage)
      resolve(raw.subarray(1).toString() === 'ping?')
    }
    ws.on('message', onMessage)
    ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('ping?')]))
  })
}

async function hold (input: AttachSessionsInput): Promise<AttachSessionsResult> {
  const rec = latencyRecorder()
  const socks: WebSocket[] = []
  let failed = 0
  let firstError: string | undefined
  let next = 0
  const t0 = process.hrtime.bigint()
  await Promise.all(Array.from({ length: input.concurrency }, async () => {
    while (next < input.total) {
      next++
      const o = await open(input)
      if (o.ok && o.ws) { rec.recordUs(o.setupUs); socks.push(o.ws) } else { failed++; firstError ??= o.error }
    }
  }))
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  await new Promise<void>(resolve => {
    process.on('message', (m) => { if (m === 'release') resolve() })
    process.send?.({ phase: 'held', opened: socks.length, failed })
  })
  let alive = 0
  for (let i = 0; i < socks.length; i += 200) {
    const ok = await Promise.all(socks.slice(i, i + 200).map(echoes))
    alive += ok.filter(Boolean).length
  }
  for (let i = 0; i < socks.length; i += 500) await Promise.all(socks.slice(i, i + 500).map(closed))
  return { sessions: input.total, failed, setup: rec.summary(), sessionsPerSec: socks.length / seconds, seconds, alive, ...(firstError ? { firstError } : {}) }
}

const input = workerInput<AttachSessionsInput>()
workerDone(input.mode === 'churn' ? await churn(input) : input.mode === 'open' ? await openLoop(input) : await hold(input))
