// Hand-built WebSocket frames (RFC 6455 §5.2) for tests that play a server byte by byte:
// server frames (unmasked, or masked on purpose to be malformed) and a reader of the
// client's masked frames.
import { createHash } from 'node:crypto'

export const Op = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const

export interface FrameOptions { fin?: boolean, rsv?: number, mask?: boolean }

/** One frame; 7-, 16- or 64-bit length as the payload needs. */
export function wsFrame (opcode: number, payload: Buffer, o: FrameOptions = {}): Buffer {
  const n = payload.length
  const ext = n < 126 ? 0 : n < 65536 ? 2 : 8
  const mask = o.mask === true ? Buffer.from([1, 2, 3, 4]) : undefined
  const head = Buffer.alloc(2 + ext + (mask ? 4 : 0))
  head[0] = ((o.fin ?? true) ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | opcode
  head[1] = (mask ? 0x80 : 0) | (ext === 0 ? n : ext === 2 ? 126 : 127)
  if (ext === 2) head.writeUInt16BE(n, 2)
  if (ext === 8) head.writeBigUInt64BE(BigInt(n), 2)
  if (!mask) return Buffer.concat([head, payload])
  mask.copy(head, 2 + ext)
  return Buffer.concat([head, Buffer.from(payload.map((b, i) => b ^ (mask[i % 4] as number)))])
}

/** A channel frame (binary): the channel byte, then the payload. */
export const channelWsFrame = (channel: number, payload: Buffer | string, o?: FrameOptions): Buffer =>
  wsFrame(Op.binary, Buffer.concat([Buffer.from([channel]), Buffer.from(payload)]), o)

/** The 101 answer to a client's handshake (RFC 6455 §4.2.2). */
export function upgradeResponse (key: string, protocol: string): string {
  const accept = createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64')
  return `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`
}

/** Reads the client's (masked) frames from a byte stream, unmasked. */
export class ClientFrameReader {
  #buf = Buffer.alloc(0)
  readonly frames: Array<{ opcode: number, payload: Buffer }> = []

  push (chunk: Buffer): void {
    this.#buf = Buffer.concat([this.#buf, chunk])
    for (;;) {
      const b = this.#buf
      if (b.length < 2) return
      let n = (b[1] as number) & 0x7f
      let off = 2
      if (n === 126) { if (b.length < 4) return; n = b.readUInt16BE(2); off = 4 } else if (n === 127) { if (b.length < 10) return; n = Number(b.readBigUInt64BE(2)); off = 10 }
      const masked = ((b[1] as number) & 0x80) !== 0
      const end = off + (masked ? 4 : 0) + n
      if (b.length < end) return
      const mask = masked ? b.subarray(off, off + 4) : undefined
      const payload = Buffer.from(b.subarray(end - n, end))
      if (mask) for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] as number) ^ (mask[i % 4] as number)
      this.frames.push({ opcode: (b[0] as number) & 0x0f, payload })
      this.#buf = b.subarray(end)
    }
  }
}
