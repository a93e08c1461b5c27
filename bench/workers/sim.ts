// The simulated API server as a bench process (the upstream of sse-fanout).
// Commands: `drops` writes PacketDrop Events the way kube-iptables-tailer does
// (through the sim's HTTP API), at a fixed rate, each naming a peer
// `bench-<seq>-<wall-clock µs>` so subscribers can measure creation → receipt
// latency and spot gaps and duplicates; `faults` sets sim.faults; `stats`
// reports CPU, RSS and the number of open Events watches (store.watchersOf('events'): the
// gateway's other watches, such as the session ledgers' Leases, are not the fan-out's).
import { startSim } from '../../src/sim/index.ts'
import { processStats, serveCommands } from '../lib/service.ts'

/** Wall clock in µs with sub-ms resolution, comparable across processes on one machine. */
export function wallUs (): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000)
}

const sim = await startSim({
  // Every drop is a distinct event: no client-go aggregation or spam filter in the way.
  drops: { tailerCorrelator: { maxEvents: 1_000_000_000, burst: 1_000_000_000, refillSeconds: 1 } },
  historySize: 200_000,
  watchTimeoutMs: 30 * 60_000
})

let seq = 0
const POD = { namespace: 'demo', pod: 'web' }

async function writeDrops (rate: number, durationMs: number, pad = 0, onWritten?: (n: number) => void): Promise<{ first: number, last: number, written: number, failed: number }> {
  const first = seq
  let written = 0
  let failed = 0
  const intervalMs = 1000 / rate
  const start = performance.now()
  const inflight = new Set<Promise<void>>()
  for (let i = 0; i * intervalMs < durationMs; i++) {
    const due = start + i * intervalMs
    const wait = due - performance.now()
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait))
    const n = seq++
    const p = sim.drops.tailer({ ...POD, direction: 'send', peer: `bench-${n}-${wallUs()}${pad > 0 ? '-' + 'x'.repeat(pad) : ''}`, peerIP: `10.96.${(n >> 8) & 255}.${n & 255}`, port: 8080, protocol: 'TCP' })
      .then(() => { written++; onWritten?.(written) }, () => { failed++ })
    inflight.add(p)
    p.finally(() => inflight.delete(p)).catch(() => {})
  }
  await Promise.all(inflight)
  return { first, last: seq - 1, written, failed }
}

serveCommands({ kubeconfig: sim.kubeconfig, url: sim.url, httpsUrl: sim.httpsUrl, tokens: sim.tokens }, async (cmd, arg) => {
  switch (cmd) {
    case 'drops': {
      // pad: a longer peer name, for bulky drops (the stalled-reader variant fills kernel buffers sooner).
      const a = arg as { rate: number, durationMs: number, pad?: number }
      return await writeDrops(a.rate, a.durationMs, a.pad)
    }
    case 'faults':
      return sim.faults.set(arg as Record<string, unknown>)
    case 'stats':
      return { ...processStats(), watchers: sim.store.watchersOf('events'), seq }
    default:
      throw new Error(`unknown command ${cmd}`)
  }
})
