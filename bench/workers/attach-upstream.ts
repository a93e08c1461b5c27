// A minimal attach upstream for pure relay cost: a WebSocket
// server speaking v5.channel.k8s.io. stdin `flood BYTES CHUNK\n` → BYTES of a
// periodic pattern as stdout frames of CHUNK bytes (pausing while more than
// 1 MiB is queued, like a kubelet), then a Success Status and close;
// `flood 0 CHUNK` floods until the client leaves. Other stdin is echoed back.
// Long-running: sends {port} over IPC, exits when the parent disconnects.
import { WebSocketServer, type WebSocket } from 'ws'
import type { AddressInfo } from 'node:net'

export const PATTERN_PERIOD = 251
const HIGH = 1 << 20

const YIELD_BYTES = 1 << 20

/** Bytes [offset, offset+n) of the flood: byte i is i mod 251. */
export function patternBytes (offset: number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n)
  for (let i = 0; i < n; i++) b[i] = (offset + i) % PATTERN_PERIOD
  return b
}

function serve (ws: WebSocket): void {
  ws.send(Buffer.from([1])) // readiness
  let stopped = false
  ws.on('close', () => { stopped = true })
  ws.on('error', () => {})
  ws.on('message', (raw: Buffer) => {
    if (raw[0] !== 0) return
    const text = raw.subarray(1).toString()
    const m = /^flood (\d+) (\d+)/.exec(text)
    if (!m) { ws.send(Buffer.concat([Buffer.from([1]), raw.subarray(1)])); return }
    const total = Number(m[1])
    const chunk = Number(m[2])
    // One pre-built frame per phase of the pattern, so generating costs nothing per frame.
    const frames = Array.from({ length: PATTERN_PERIOD }, (_, phase) => Buffer.concat([Buffer.from([1]), patternBytes(phase, chunk)]))
    let sent = 0
    const pump = (): void => {
      // A reader that keeps up never fills bufferedAmount: yield every 1 MiB
      // anyway, or handshakes and pings on this process starve.
      let turn = 0
      for (;;) {
        if (stopped || (total !== 0 && sent >= total)) break
        if (turn >= YIELD_BYTES) { setImmediate(pump); return }
        const n = total === 0 ? chunk : Math.min(chunk, total - sent)
        const f = frames[sent % PATTERN_PERIOD] as Buffer
        ws.send(n === chunk ? f : f.subarray(0, n + 1))
        sent += n
        turn += n
        if (ws.bufferedAmount > HIGH) { setTimeout(pump, 1); return }
      }
      if (!stopped && ws.readyState === ws.OPEN) {
        ws.send(Buffer.concat([Buffer.from([3]), Buffer.from('{"metadata":{},"status":"Success"}')]))
        ws.close(1000)
      }
    }
    pump()
  })
}

if (process.send) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, handleProtocols: (p) => p.has('v5.channel.k8s.io') ? 'v5.channel.k8s.io' : false })
  wss.on('connection', serve)
  wss.on('listening', () => process.send?.({ port: (wss.address() as AddressInfo).port }))
  process.on('disconnect', () => process.exit(0))
}
