// kdebug.v1 (openapi/attach.md): binary frames are stdin (to the container)
// and stdout/stderr (to the client) without a channel byte; text frames are
// JSON control messages — resize and close-stdin from the client; ready,
// stderr (optional), exit, detached and error from the gateway.
import { StringDecoder } from 'node:string_decoder'
import { V5_PROTOCOL } from '../protocols.ts'
import { Channel, channelFrame, closeStdinFrame, resizeFrame } from './channel.ts'
import type { ClientAction, ClientCodec, ClientMessage, CodecOptions } from './codec.ts'
import { CloseCode } from './close-codes.ts'

function control (msg: Record<string, unknown>): ClientMessage {
  return { data: JSON.stringify(msg), binary: false }
}

function isSize (n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n > 0 && n <= 65535
}

export class KdebugCodec implements ClientCodec {
  readonly #v5: boolean
  readonly #stderrAsText: boolean
  readonly #stderrDecoder = new StringDecoder('utf8')

  constructor (opts: CodecOptions) {
    this.#v5 = opts.upstreamProtocol === V5_PROTOCOL
    this.#stderrAsText = opts.stderrAsText === true
  }

  ready (): ClientMessage { return control({ type: 'ready' }) }

  fromClient (data: Buffer, isBinary: boolean): ClientAction {
    if (isBinary) return data.length === 0 ? { type: 'ignore' } : { type: 'upstream', frame: channelFrame(Channel.stdin, data), stdin: data }
    let msg: unknown
    try { msg = JSON.parse(data.toString('utf8')) } catch { return { type: 'invalid', reason: 'control messages must be JSON' } }
    const m = (typeof msg === 'object' && msg !== null ? msg : {}) as Record<string, unknown>
    if (m.type === 'resize') {
      const { cols, rows } = m
      if (!isSize(cols) || !isSize(rows)) return { type: 'reply', message: control({ type: 'error', status: 400, message: 'resize needs integer cols and rows in 1..65535' }) }
      return { type: 'upstream', frame: resizeFrame(cols, rows), resize: { cols, rows } }
    }
    if (m.type === 'close-stdin') {
      if (this.#v5) return { type: 'upstream', frame: closeStdinFrame(), activity: false }
      return { type: 'reply', message: control({ type: 'error', status: 501, message: 'stdin cannot be closed: the API server speaks v4.channel.k8s.io, which has no close message' }) }
    }
    // Unknown types are refused but do not end the session (newer clients, older gateway).
    return { type: 'reply', message: control({ type: 'error', status: 400, message: `unknown control message type ${JSON.stringify(m.type ?? null)}` }) }
  }

  output (channel: number, _frame: Buffer, payload: Buffer): ClientMessage {
    if (channel === Channel.stderr && this.#stderrAsText) return control({ type: 'stderr', data: this.#stderrDecoder.write(payload) })
    return { data: payload, binary: true }
  }

  // Read by the session at the end, reported as exit/detached/error.
  status (): undefined { return undefined }
  exited (code: number): ClientMessage { return control({ type: 'exit', code }) }
  detached (): ClientMessage { return control({ type: 'detached' }) }
  failed (error: { status: number, message: string, reason?: string }): ClientMessage { return control({ type: 'error', ...error }) }
  // Shutdown is the close code alone: the client reconnects elsewhere.
  closing (code: number, reason: string): ClientMessage | undefined {
    return code === CloseCode.goingAway ? undefined : control({ type: 'error', status: 408, message: reason })
  }
}
