// Attaching to a container through the gateway: a stream ticket for the
// attach URL, the kdebug.v1 WebSocket, then the session's end as an exit code.
import { relayAttach, type AttachOutcome } from './attach-session.ts'
import { println, type CommandContext } from './command.ts'
import { EXIT } from './exit-codes.ts'
import { openWebSocket } from './websocket.ts'

export interface AttachRequest {
  /** The attach path (with `?container=`) or the absolute `attach.url` a debug session returned. */
  url: string
  stdin: boolean
  tty: boolean
  /** Seconds the gateway may wait for a starting container (≤ 60). */
  wait?: number
  /** How to resume, for the message after a detach. */
  resumeHint: string
}

export async function attach (ctx: CommandContext, r: AttachRequest): Promise<number> {
  const client = await ctx.client()
  // The ticket keeps the bearer token out of the upgrade request; it is bound to this URL and identity, single use, 30 s.
  const ticket = await client.ticket(r.url)
  const size = r.tty ? ctx.io.terminal.size() : undefined
  const url = client.wsUrl(r.url, {
    ticket,
    stdin: r.stdin,
    tty: r.tty,
    // Without a TTY stderr stays apart from stdout.
    stderrText: r.tty ? undefined : true,
    wait: r.wait,
    cols: size?.cols,
    rows: size?.rows
  })
  const ws = await openWebSocket(url)
  if (r.tty && r.stdin) println(ctx.io.stderr, 'If you don\'t see a command prompt, try pressing enter.')
  const outcome = await relayAttach(ws, ctx.io, { stdin: r.stdin, tty: r.tty })
  return exitCodeOf(ctx, outcome, r)
}

function exitCodeOf (ctx: CommandContext, o: AttachOutcome, r: AttachRequest): number {
  const err = ctx.io.stderr
  // After raw mode the cursor may sit mid-line.
  const nl = r.tty ? '\r\n' : ''
  switch (o.kind) {
    case 'exit':
      return o.code
    case 'detached':
      err.write(`${nl}Session ended, the container is still running; resume with: ${r.resumeHint}\n`)
      return EXIT.ok
    case 'error':
      err.write(`${nl}error: ${o.message} (${o.status}${o.closeReason ? `, ${o.closeReason}` : ''})\n`)
      return o.status >= 500 && o.status !== 501 ? EXIT.unavailable : EXIT.failed
    case 'closed':
      if (o.closeCode === 1000) return EXIT.ok
      err.write(`${nl}error: the session was closed: ${o.closeReason || 'no reason given'} (${o.closeCode})\n`)
      return o.closeCode === 1001 ? EXIT.unavailable : EXIT.failed
  }
}
