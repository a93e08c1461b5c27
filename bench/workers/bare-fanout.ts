// sse-fanout baseline: a bare-Node fan-out — one watch on the sim's
// PacketDrop events, each event serialised once as an SSE frame and written
// N times — with none of the gateway's auth, filters, replay or backpressure.
// Also `naive`: opens N watches of its own straight to the sim (the design
// with one upstream watch per subscriber), to measure the sim's load.
import http from 'node:http'
import { processStats, serveCommands } from '../lib/service.ts'
import { parseDropEvent } from '../../src/drops/parse.ts'
import { formatSseEvent } from '../../src/lib/sse.ts'

const input = JSON.parse(process.argv[2] ?? '{}') as { simUrl: string, token: string }
const EVENTS = '/api/v1/events'
const SELECTOR = 'reason=PacketDrop'
const subscribers = new Set<http.ServerResponse>()
const naive = new Set<http.ClientRequest>()
let watches = 0
let naiveBytes = 0

interface KEvent { metadata: { uid?: string, name: string, namespace?: string, resourceVersion?: string, creationTimestamp?: string }, involvedObject?: { name?: string }, message?: string, count?: number, firstTimestamp?: string, lastTimestamp?: string, source?: { component?: string } }

async function getJson<T> (path: string): Promise<T> {
  const res = await fetch(input.simUrl + path, { headers: { authorization: `Bearer ${input.token}`, accept: 'application/json' } })
  return await res.json() as T
}

function openWatch (rv: string, onLine: (line: string) => void, onEnd: () => void): http.ClientRequest {
  const q = new URLSearchParams({ watch: 'true', fieldSelector: SELECTOR, resourceVersion: rv, allowWatchBookmarks: 'true' })
  const req = http.get(`${input.simUrl}${EVENTS}?${q}`, { headers: { authorization: `Bearer ${input.token}` }, agent: false }, (res) => {
    res.setEncoding('utf8')
    let pending = ''
    res.on('data', (chunk: string) => {
      pending += chunk
      let nl: number
      while ((nl = pending.indexOf('\n')) !== -1) {
        const line = pending.slice(0, nl)
        pending = pending.slice(nl + 1)
        if (line !== '') onLine(line)
      }
    })
    res.once('end', onEnd)
    res.once('error', onEnd)
  })
  req.once('error', onEnd)
  return req
}

async function fanoutWatch (): Promise<void> {
  let rv = (await getJson<{ metadata: { resourceVersion: string } }>(`${EVENTS}?fieldSelector=${SELECTOR}&limit=1`)).metadata.resourceVersion
  const start = (): void => {
    watches++
    openWatch(rv, (line) => {
      const e = JSON.parse(line) as { type?: string, object?: KEvent }
      // A 410 (as an ERROR event or a Status body): start again from a fresh list.
      if (e.object === undefined || e.type === 'ERROR' || e.type === undefined) { rv = ''; return }
      rv = e.object.metadata.resourceVersion ?? rv
      if (e.type !== 'ADDED' && e.type !== 'MODIFIED') return
      // The same Drop JSON as the gateway's (same parser and SSE framing), serialised once, written N times.
      const drop = parseDropEvent(e.object)
      if (drop === undefined) return
      const frame = formatSseEvent({ event: 'drop', id: rv, data: drop })
      for (const res of subscribers) res.write(frame)
    }, () => {
      watches--
      setTimeout(() => { restart().catch(() => { rv = '' }) }, 100)
    })
  }
  const restart = async (): Promise<void> => {
    if (rv === '') rv = (await getJson<{ metadata: { resourceVersion: string } }>(`${EVENTS}?fieldSelector=${SELECTOR}&limit=1`)).metadata.resourceVersion
    start()
  }
  start()
}

await fanoutWatch()

const server = http.createServer((req, res) => {
  if (!req.url?.startsWith('/drops')) { res.writeHead(404).end(); return }
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' })
  res.write('retry: 3000\n\n')
  req.socket.setNoDelay(true)
  subscribers.add(res)
  res.once('close', () => subscribers.delete(res))
})
server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  serveCommands({ port }, async (cmd, arg) => {
    switch (cmd) {
      case 'stats':
        return { ...processStats(), subscribers: subscribers.size, watches, naive: naive.size, naiveBytes }
      case 'gc':
        (globalThis as { gc?: () => void }).gc?.()
        return processStats()
      case 'naive-open': {
        const n = (arg as { n: number }).n
        const rv = (await getJson<{ metadata: { resourceVersion: string } }>(`${EVENTS}?fieldSelector=${SELECTOR}&limit=1`)).metadata.resourceVersion
        for (let i = 0; i < n; i++) {
          const req = openWatch(rv, (line) => { naiveBytes += line.length }, () => naive.delete(req))
          naive.add(req)
          if (i % 100 === 99) await new Promise((resolve) => setTimeout(resolve, 20))
        }
        return { opened: naive.size }
      }
      case 'naive-close':
        for (const r of naive) r.destroy()
        naive.clear()
        return null
      default:
        throw new Error(`unknown command ${cmd}`)
    }
  })
})
