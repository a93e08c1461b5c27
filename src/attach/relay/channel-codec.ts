// Channel clients (v5/v4.channel.k8s.io, e.g. kubectl through the gateway):
// frames pass through unchanged in both directions. Only what the upstream
// cannot take is held back: a v5 CLOSE toward a v4 API server, text frames.
import { V5_PROTOCOL } from '../protocols.ts'
import { Channel, parseResize } from './channel.ts'
import type { ClientAction, ClientCodec, ClientMessage, CodecOptions } from './codec.ts'

export class ChannelCodec implements ClientCodec {
  readonly #v5: boolean
  #warnedClose = false

  constructor (opts: CodecOptions) {
    this.#v5 = opts.upstreamProtocol === V5_PROTOCOL
  }

  ready (): undefined { return undefined }

  fromClient (data: Buffer, isBinary: boolean): ClientAction {
    if (!isBinary) return { type: 'invalid', reason: 'text frames are not part of the channel protocol' }
    if (data.length === 0) return { type: 'ignore' }
    const ch = data[0] as number
    if (ch === Channel.close) {
      if (this.#v5) return { type: 'upstream', frame: data, activity: false }
      if (this.#warnedClose) return { type: 'ignore' }
      this.#warnedClose = true
      return { type: 'ignore', warning: 'client sent a v5 CLOSE but the upstream speaks v4: ignored' }
    }
    if (ch === Channel.stdin) return { type: 'upstream', frame: data, stdin: data.subarray(1) }
    if (ch === Channel.resize) {
      const size = parseResize(data.subarray(1))
      return size ? { type: 'upstream', frame: data, resize: size } : { type: 'upstream', frame: data }
    }
    return { type: 'upstream', frame: data }
  }

  output (_channel: number, frame: Buffer): ClientMessage { return { data: frame, binary: true } }
  // The client reads the Status itself, as kubectl does.
  status (frame: Buffer): ClientMessage { return { data: frame, binary: true } }
  exited (): undefined { return undefined }
  detached (): undefined { return undefined }
  failed (): undefined { return undefined }
  closing (): undefined { return undefined }
}
