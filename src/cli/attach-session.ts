// A client of the gateway's kdebug.v1 attach protocol (openapi/attach.md):
// binary frames are raw stdin/stdout, text frames JSON control messages
// (`ready`, `resize`, `close-stdin`, `stderr`, `exit`, `detached`, `error`).
import { WebSocket } from 'ws'
import { sanitize } from './errors.ts'
import type { Terminal } from './terminal.ts'

export type AttachOutcome =
  | { kind: 'exit', code: number }
  | { kind: 'detached' }
  | { kind: 'error', status: number, message: string, closeCode: number, closeReason: string }
  | { kind: 'closed', closeCode: number, closeReason: string }

export interface AttachIo {
  stdin: NodeJS.ReadableStream
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WritableStream
  terminal: Terminal
}

export interface AttachOptions {
  /** Send local stdin (with EOF as close-stdin). */
  stdin: boolean
  /** A TTY session: raw mode and resizes. */
  tty: boolean
}

/** Stop reading stdin while this much is queued on the socket. */
const STDIN_HIGH_WATER = 1 << 20

/** Relays one session on an open WebSocket until it closes. */
export async function relayAttach (ws: WebSocket, io: AttachIo, o: AttachOptions): Promise<AttachOutcome> {
  let exit: number | undefined
  let detached = false
  let error: { status: number, message: string } | undefined
  const restoreMode = o.tty ? io.terminal.raw() : () => {}
  const stopResize = o.tty
    ? io.terminal.onResize(({ cols, rows }) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'resize', cols, rows }))
    })
    : () => {}

  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (isBinary) {
      // Backpressure: a slow terminal stops the socket, and so the container's output.
      if (!io.stdout.write(data)) {
        ws.pause()
        io.stdout.once('drain', () => ws.resume())
      }
      return
    }
    let m: { type?: unknown, code?: unknown, data?: unknown, status?: unknown, message?: unknown }
    try {
      m = JSON.parse(data.toString()) as typeof m
    } catch {
      return
    }
    if (m.type === 'exit' && typeof m.code === 'number') exit = m.code
    else if (m.type === 'detached') detached = true
    else if (m.type === 'stderr' && typeof m.data === 'string') io.stderr.write(m.data)
    else if (m.type === 'error') {
      const status = typeof m.status === 'number' ? m.status : 0
      const message = typeof m.message === 'string' ? sanitize(m.message) : 'error'
      // 400/501 refuse one control message; the session goes on.
      if (status === 400 || status === 501) io.stderr.write(`\r\nkdebug: ${message}\r\n`)
      else error = { status, message }
    }
  })

  const onData = (chunk: Buffer | string): void => {
    if (ws.readyState !== WebSocket.OPEN) return
    ws.send(typeof chunk === 'string' ? Buffer.from(chunk) : chunk, { binary: true }, () => {
      if (ws.bufferedAmount < STDIN_HIGH_WATER) io.stdin.resume()
    })
    if (ws.bufferedAmount >= STDIN_HIGH_WATER) io.stdin.pause()
  }
  // Piped stdin ending is EOF for the container (v5 CLOSE upstream). In raw
  // mode Ctrl-D is a byte like any other: the container's TTY makes it EOF.
  const onEnd = (): void => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'close-stdin' }))
  }
  if (o.stdin) {
    io.stdin.on('data', onData)
    io.stdin.once('end', onEnd)
    io.stdin.resume()
  }

  try {
    const { code, reason } = await new Promise<{ code: number, reason: string }>((resolve) => {
      ws.once('close', (c: number, r: Buffer) => resolve({ code: c, reason: r.toString() }))
      ws.once('error', () => {}) // 'close' follows
    })
    if (exit !== undefined) return { kind: 'exit', code: exit }
    if (detached) return { kind: 'detached' }
    if (error) return { kind: 'error', ...error, closeCode: code, closeReason: sanitize(reason) }
    return { kind: 'closed', closeCode: code, closeReason: sanitize(reason) }
  } finally {
    stopResize()
    restoreMode()
    io.stdin.off('data', onData)
    io.stdin.off('end', onEnd)
    io.stdin.pause()
  }
}
