// Ceiling check worker: floods 64 KiB chunks over a loopback TCP socket to a
// server in a separate process (fork of itself) for N seconds; reports MB/s.
import { fork } from 'node:child_process'
import net from 'node:net'
import { fileURLToPath } from 'node:url'

const role = process.argv[3] ?? 'client'

if (role === 'sink') {
  const server = net.createServer((sock) => {
    let bytes = 0
    sock.on('data', (d: Buffer) => { bytes += d.byteLength })
    sock.on('end', () => { process.send?.({ bytes }); sock.end() })
  })
  server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as net.AddressInfo).port }))
  process.on('disconnect', () => process.exit(0))
} else {
  const seconds = Number(process.argv[2] ?? '1')
  const sink = fork(fileURLToPath(import.meta.url), [String(seconds), 'sink'])
  const port = await new Promise<number>((resolve) => sink.once('message', (m) => resolve((m as { port: number }).port)))
  const sock = net.connect(port, '127.0.0.1')
  await new Promise((resolve) => sock.once('connect', resolve))
  const chunk = Buffer.alloc(64 * 1024, 1)
  const start = process.hrtime.bigint()
  const endAt = start + BigInt(Math.round(seconds * 1e9))
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      while (process.hrtime.bigint() < endAt) {
        if (!sock.write(chunk)) { sock.once('drain', pump); return }
      }
      sock.end()
      resolve()
    }
    pump()
  })
  const bytes = await new Promise<number>((resolve) => sink.once('message', (m) => resolve((m as { bytes: number }).bytes)))
  const secs = Number(process.hrtime.bigint() - start) / 1e9
  process.send?.({ MBps: bytes / secs / 1e6 })
  sink.disconnect()
  sock.destroy()
  process.disconnect()
}
