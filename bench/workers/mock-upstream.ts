// A minimal Kubernetes API server for pure relay cost (BENCH rule 2: "a
// minimal mock upstream"): the REST answers of kube-mock.ts (TokenReview,
// SAR, pods, leases, /version) with a configurable service delay.
// IPC (lib/service.ts): ready {port}; 'set' {delayMs?, reviewDelayMs?};
// 'reset' the counters; 'stats' → process stats and the counters.
import http from 'node:http'
import { processStats, serveCommands } from '../lib/service.ts'
import { kubeHandler, kubeMockState, kubeStats, resetKubeStats } from './kube-mock.ts'

const delays = { delayMs: 0, reviewDelayMs: 0 }
const state = kubeMockState()
const server = http.createServer(kubeHandler(state, { delayMs: () => delays.delayMs, reviewDelayMs: () => delays.reviewDelayMs }))
server.keepAliveTimeout = 120_000
server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  serveCommands({ port }, (cmd, arg) => {
    switch (cmd) {
      case 'set': {
        const a = arg as { delayMs?: number, reviewDelayMs?: number }
        if (a.delayMs !== undefined) delays.delayMs = a.delayMs
        if (a.reviewDelayMs !== undefined) delays.reviewDelayMs = a.reviewDelayMs
        return null
      }
      case 'reset':
        resetKubeStats(state)
        return null
      case 'stats':
        return { ...processStats(), ...kubeStats(state) }
      default:
        throw new Error(`unknown command ${cmd}`)
    }
  })
})
