// The stdout sink: the record lines exactly as written, alone on the
// process's stdout (the application log goes to stderr whenever this sink is
// on — see src/main.ts), so a collector reading the container's stdout stream
// (the CRI log's `stream` field) gets audit records and nothing else. A batch
// counts as delivered once the write callback fired (the bytes are in the
// pipe to the container runtime).
import type { Delivery } from './forwarder.ts'

export interface LineWriter {
  write (chunk: Uint8Array, cb: (err?: Error | null) => void): boolean
}

export function streamDelivery (stream: LineWriter): Delivery {
  return async (lines) => {
    const data = Buffer.from(lines.join('\n') + '\n', 'utf8')
    await new Promise<void>((resolve, reject) => {
      try {
        stream.write(data, (err) => { if (err) reject(err); else resolve() })
      } catch (err) {
        reject(err)
      }
    })
  }
}
