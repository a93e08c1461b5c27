// A command under a real pseudo-terminal (script(1)), for interactive kubectl tests: what it
// printed so far, a wait for the screen to show something, and Enter pressed until a prompt.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'

export interface PtySession {
  child: ChildProcessWithoutNullStreams
  output (): string
  write (text: string): void
  /** Resolves once `pred` holds for the output; throws with the output after `timeoutMs`. */
  until (pred: (out: string) => boolean): Promise<void>
  /** Presses Enter every second until `pred` holds (kubectl may attach late on a loaded machine). */
  enterUntil (pred: (out: string) => boolean): Promise<void>
  closed: Promise<number | null>
  /** SIGKILL if still running (call in finally). */
  kill (): void
}

export function ptySession (command: string, opts: { env: NodeJS.ProcessEnv, timeoutMs: number }): PtySession {
  const child = spawn('script', ['-qefc', command, '/dev/null'], { env: opts.env, stdio: 'pipe' })
  let out = ''
  const waiters: Array<() => void> = []
  const onData = (b: Buffer): void => { out += b.toString(); for (const w of waiters.splice(0)) w() }
  child.stdout.on('data', onData)
  child.stderr.on('data', onData)
  const until = async (pred: (out: string) => boolean): Promise<void> => {
    const deadline = Date.now() + opts.timeoutMs
    while (!pred(out)) {
      if (Date.now() > deadline) throw new Error(`timeout; output ${JSON.stringify(out)}`)
      await new Promise<void>(resolve => { waiters.push(resolve); setTimeout(resolve, 50) })
    }
  }
  return {
    child,
    output: () => out,
    write: (text) => { child.stdin.write(text) },
    until,
    enterUntil: async (pred) => {
      const enter = setInterval(() => child.stdin.write('\r'), 1000)
      child.stdin.write('\r')
      try { await until(pred) } finally { clearInterval(enter) }
    },
    closed: new Promise<number | null>(resolve => child.on('close', resolve)),
    kill: () => { if (child.exitCode === null) child.kill('SIGKILL') }
  }
}
