// The channel.k8s.io framing (kubernetes/apimachinery pkg/util/remotecommand
// constants.go, client-go tools/remotecommand websocket.go): every binary
// message is one channel byte followed by its payload. Pure functions.
import type { KubeStatus } from '../../kube/errors.ts'

export const Channel = {
  stdin: 0,
  stdout: 1,
  stderr: 2,
  /** A metav1.Status when the stream ends (v4+). */
  error: 3,
  /** {"Width":…,"Height":…} (client-go TerminalSize). */
  resize: 4,
  /** v5 only: the payload names the channel the sender will not write to again. */
  close: 255
} as const

/** One frame: the channel byte, then the payload. */
export function channelFrame (channel: number, payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(payload.length + 1)
  frame[0] = channel
  payload.copy(frame, 1)
  return frame
}

export function resizeFrame (cols: number, rows: number): Buffer {
  return channelFrame(Channel.resize, Buffer.from(JSON.stringify({ Width: cols, Height: rows })))
}

/** The v5 CLOSE of stdin (client-go tools/remotecommand websocket.go streamCreator close). */
export function closeStdinFrame (): Buffer {
  return Buffer.from([Channel.close, Channel.stdin])
}

/** The size in a resize payload; undefined when it is not one (the API server judges it). */
export function parseResize (payload: Buffer): { cols: number, rows: number } | undefined {
  try {
    const v = JSON.parse(payload.toString('utf8')) as Record<string, unknown>
    const w = v.Width ?? v.width
    const h = v.Height ?? v.height
    return typeof w === 'number' && typeof h === 'number' ? { cols: w, rows: h } : undefined
  } catch {
    return undefined
  }
}

/** The exit code of a NonZeroExitCode status, as client-go reads it (tools/remotecommand errorstream). */
export function exitCodeOf (status: KubeStatus): number | undefined {
  if (status.reason !== 'NonZeroExitCode') return undefined
  const cause = status.details?.causes?.find(c => c.reason === 'ExitCode')
  const n = Number.parseInt(cause?.message ?? '', 10)
  return Number.isInteger(n) && n >= 0 && n <= 255 ? n : undefined
}
