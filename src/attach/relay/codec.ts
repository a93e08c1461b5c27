// How a client subprotocol maps onto the channel protocol spoken upstream.
// A codec is per session and pure: it turns client messages into actions and
// upstream output into client messages; the session (session.ts) does the
// I/O, backpressure, timers and closing.
import type { ChannelProtocol } from '../protocols.ts'

/** A WebSocket message for the client. */
export interface ClientMessage { data: Buffer | string, binary: boolean }

/** What the session does with a client message. */
export type ClientAction =
  /**
   * Send `frame` upstream; `stdin` is the input it carries (counted, recorded), `resize` a size it
   * sets (recorded); `activity: false` for a signal that does not keep an idle session alive (CLOSE).
   */
  | { type: 'upstream', frame: Buffer, stdin?: Buffer, resize?: { cols: number, rows: number }, activity?: false }
  /** Answer the client only (a refused control message); the session goes on. */
  | { type: 'reply', message: ClientMessage }
  /** Nothing to do; `warning` once per session for something the client should know is ignored. */
  | { type: 'ignore', warning?: string }
  /** Not valid for the protocol: the session ends with 4002. */
  | { type: 'invalid', reason: string }

export interface ClientCodec {
  /** Sent when the relay starts. */
  ready (): ClientMessage | undefined
  fromClient (data: Buffer, isBinary: boolean): ClientAction
  /** Output from the container: `frame` the whole channel frame, `payload` without its channel byte. */
  output (channel: number, frame: Buffer, payload: Buffer): ClientMessage
  /** An error-channel frame (the final Status). */
  status (frame: Buffer): ClientMessage | undefined
  /** The process exited with this code. */
  exited (code: number): ClientMessage | undefined
  /** The streams ended while the container runs on. */
  detached (): ClientMessage | undefined
  /** The session failed (upstream Status or transport failure). */
  failed (error: { status: number, message: string, reason?: string }): ClientMessage | undefined
  /** The gateway ends the session (limits, shutdown) with this close code. */
  closing (code: number, reason: string): ClientMessage | undefined
}

export interface CodecOptions {
  upstreamProtocol: ChannelProtocol
  /** kdebug.v1: stderr as `{"type":"stderr"}` text frames instead of binary. */
  stderrAsText?: boolean
}
