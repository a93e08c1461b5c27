// SSE subscribers in their own process (sse-fanout): raw http.get streams,
// each parsing its events to record creation → receipt latency (the peer
// name carries the sim's wall-clock µs), gaps and duplicates (the peer name
// carries a sequence number), and its last event id for Last-Event-ID
// reconnects. Some subscribers can be stalled (they stop reading at once).
import http from 'node:http'
import { latencyRecorder } from '../lib/histogram.ts'
import { processStats, serveCommands } from '../lib/service.ts'

interface Target { url: string, path: string, token?: string }

interface Sub {
  target: Target
  req?: http.ClientRequest
  lastId?: string
  carry: string
  stalled: boolean
  /** Ended by the server (or failed), not by us. */
  cut: boolean
  ours: boolean
  seen: Uint8Array
  received: number
  dupes: number
  reconnects: number
  /** Which connection of this subscriber is current (a reconnect's old stream closing is not a cut). */
  gen: number
}

const MARK = 'bench-'
const subs: Sub[] = []
const lat = latencyRecorder()
let range = { first: 0, last: -1 }
let measuring = false

function wallUs (): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000)
}

function onEvent (s: Sub, block: string): void {
  if (!block.startsWith('event: drop\n')) return
  const idAt = block.indexOf('\nid: ')
  if (idAt !== -1) s.lastId = block.slice(idAt + 5, block.indexOf('\n', idAt + 5))
  const m = block.indexOf(MARK)
  if (m === -1) return
  const dash = block.indexOf('-', m + MARK.length)
  const seq = Number(block.slice(m + MARK.length, dash))
  let end = dash + 1
  while (end < block.length && block.charCodeAt(end) >= 48 && block.charCodeAt(end) <= 57) end++
  const sentUs = Number(block.slice(dash + 1, end))
  if (!measuring || seq < range.first || seq > range.last) return
  const i = seq - range.first
  if (s.seen[i] === 1) { s.dupes++; return }
  s.seen[i] = 1
  s.received++
  lat.recordUs(wallUs() - sentUs)
}

function onData (s: Sub, chunk: Buffer): void {
  let str = s.carry + chunk.toString('latin1')
  let pos = 0
  let end: number
  while ((end = str.indexOf('\n\n', pos)) !== -1) {
    onEvent(s, str.slice(pos, end))
    pos = end + 2
  }
  s.carry = pos === 0 ? str : str.slice(pos)
  str = ''
}

async function open (s: Sub): Promise<number> {
  return await new Promise((resolve) => {
    const headers: Record<string, string> = { accept: 'text/event-stream' }
    if (s.target.token) headers.authorization = `Bearer ${s.target.token}`
    if (s.lastId !== undefined) headers['last-event-id'] = s.lastId
    s.ours = false
    s.carry = ''
    const gen = ++s.gen
    const req = http.get(s.target.url + s.target.path, { headers, agent: false }, (res) => {
      if (res.statusCode !== 200) { res.resume(); s.cut = true; resolve(res.statusCode ?? 0); return }
      if (s.stalled) {
        res.pause()
        res.socket.pause()
      } else {
        res.on('data', (chunk: Buffer) => onData(s, chunk))
      }
      const ended = (): void => { if (!s.ours && s.gen === gen) s.cut = true }
      res.once('end', ended)
      res.once('close', ended)
      resolve(200)
    })
    req.once('error', () => { if (!s.ours && s.gen === gen) s.cut = true; resolve(-1) })
    s.req = req
  })
}

function closeSub (s: Sub): void {
  s.ours = true
  s.req?.destroy()
}

serveCommands({ pid: process.pid }, async (cmd, arg) => {
  switch (cmd) {
    case 'connect': {
      const a = arg as Target & { n: number, stalled: number }
      const statuses: Record<string, number> = {}
      const fresh: Sub[] = []
      for (let i = 0; i < a.n; i++) fresh.push({ target: { url: a.url, path: a.path, token: a.token }, carry: '', stalled: i < a.stalled, cut: false, ours: false, seen: new Uint8Array(0), received: 0, dupes: 0, reconnects: 0, gen: 0 })
      // Batches, so the listen backlog never overflows into SYN retries.
      for (let i = 0; i < fresh.length; i += 100) {
        const codes = await Promise.all(fresh.slice(i, i + 100).map(open))
        for (const c of codes) statuses[c] = (statuses[c] ?? 0) + 1
      }
      subs.push(...fresh)
      return { connected: statuses['200'] ?? 0, statuses }
    }
    case 'reset': {
      range = arg as { first: number, last: number }
      const size = Math.max(0, range.last - range.first + 1)
      for (const s of subs) { s.seen = new Uint8Array(size); s.received = 0; s.dupes = 0 }
      lat.reset()
      measuring = true
      return null
    }
    case 'reconnect': {
      // Every healthy subscriber drops its stream once at a random moment in spreadMs and resumes with Last-Event-ID.
      const { spreadMs } = arg as { spreadMs: number }
      await Promise.all(subs.filter((s) => !s.stalled && !s.cut).map(async (s) => {
        await new Promise((resolve) => setTimeout(resolve, Math.random() * spreadMs))
        closeSub(s)
        s.reconnects++
        await open(s)
      }))
      return { reconnected: subs.reduce((a, s) => a + s.reconnects, 0) }
    }
    case 'settle': {
      // Waits until every healthy, connected subscriber has every drop of the range (or the deadline).
      const { timeoutMs } = arg as { timeoutMs: number }
      const expected = Math.max(0, range.last - range.first + 1)
      const deadline = Date.now() + timeoutMs
      const done = (): boolean => subs.every((s) => s.stalled || s.cut || s.received >= expected)
      while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
      return done()
    }
    case 'report': {
      measuring = false
      const healthy = subs.filter((s) => !s.stalled)
      const expected = Math.max(0, range.last - range.first + 1)
      return {
        ...processStats(),
        subscribers: subs.length,
        healthy: healthy.length,
        healthyCut: healthy.filter((s) => s.cut).length,
        stalled: subs.length - healthy.length,
        stalledCut: subs.filter((s) => s.stalled && s.cut).length,
        expectedPerSub: expected,
        received: healthy.reduce((a, s) => a + s.received, 0),
        missing: healthy.reduce((a, s) => a + (expected - s.received), 0),
        dupes: healthy.reduce((a, s) => a + s.dupes, 0),
        latency: lat.summary()
      }
    }
    case 'close':
      for (const s of subs) closeSub(s)
      subs.length = 0
      measuring = false
      return null
    default:
      throw new Error(`unknown command ${cmd}`)
  }
})
