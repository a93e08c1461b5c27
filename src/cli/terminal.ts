// The local terminal: raw mode while a TTY session runs (every key, Ctrl-C
// and Ctrl-D included, goes to the container's TTY, as with `kubectl attach
// -it`), its size, and SIGWINCH (Node emits 'resize' on a TTY stdout).
import type { ReadStream, WriteStream } from 'node:tty'

export interface TerminalSize { cols: number, rows: number }

export interface Terminal {
  /** stdin and stdout are both terminals. */
  readonly interactive: boolean
  size: () => TerminalSize | undefined
  /** Raw mode on; the function restores the previous mode. */
  raw: () => () => void
  /** Calls back on every resize; the function unsubscribes. */
  onResize: (cb: (size: TerminalSize) => void) => () => void
}

export function processTerminal (stdin: NodeJS.ReadStream = process.stdin, stdout: NodeJS.WriteStream = process.stdout): Terminal {
  const inTty = stdin.isTTY === true
  const outTty = stdout.isTTY === true
  const size = (): TerminalSize | undefined => {
    const cols = (stdout as WriteStream).columns
    const rows = (stdout as WriteStream).rows
    // A pty nobody sized reports 0x0: no size is better than a zero one.
    return outTty && cols > 0 && rows > 0 ? { cols, rows } : undefined
  }
  return {
    interactive: inTty && outTty,
    size,
    raw: () => {
      if (!inTty) return () => {}
      const tty = stdin as unknown as ReadStream
      const was = tty.isRaw
      tty.setRawMode(true)
      let restored = false
      const restore = (): void => {
        if (restored) return
        restored = true
        tty.setRawMode(was)
        process.off('exit', restore)
      }
      // An unexpected exit must not leave the user's shell in raw mode.
      process.on('exit', restore)
      return restore
    },
    onResize: (cb) => {
      if (!outTty) return () => {}
      const listener = (): void => { const s = size(); if (s) cb(s) }
      stdout.on('resize', listener)
      return () => { stdout.off('resize', listener) }
    }
  }
}
