// Runs the kdebug CLI as users do: a child process (Node 24 running
// src/cli/main.ts), optionally inside a real pseudo-terminal made by tmux.
import { execFile, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const CLI_MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))

export interface CliResult { code: number, stdout: string, stderr: string }

/** Environment for the CLI: nothing of the test runner's KDEBUG_* or kubeconfig leaks in. */
export function cliEnv (env: Record<string, string | undefined>): Record<string, string> {
  const base: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', KUBECONFIG: '/nonexistent/kubeconfig' }
  for (const [k, v] of Object.entries(env)) if (v !== undefined) base[k] = v
  return base
}

export async function runCli (args: string[], env: Record<string, string | undefined>, o: { input?: string, command?: string[] } = {}): Promise<CliResult> {
  const [file, ...pre] = o.command ?? [process.execPath, CLI_MAIN]
  return await new Promise((resolve, reject) => {
    const child = execFile(file as string, [...pre, ...args], { env: cliEnv(env), maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0
      if (err && typeof err.code !== 'number') reject(err)
      else resolve({ code, stdout, stderr })
    })
    child.stdin?.end(o.input ?? '')
  })
}

/** A long-running CLI (drops -w, logs -f): its output so far, a way to wait for some, and to stop it. */
export function startCli (args: string[], env: Record<string, string | undefined>): { output: () => string, waitFor: (re: RegExp, timeoutMs?: number) => Promise<void>, stop: () => Promise<number | null> } {
  const child = spawn(process.execPath, [CLI_MAIN, ...args], { env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  const listeners = new Set<() => void>()
  const onData = (c: Buffer): void => { out += c.toString(); for (const l of listeners) l() }
  child.stdout.on('data', onData)
  child.stderr.on('data', onData)
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
  return {
    output: () => out,
    waitFor: async (re, timeoutMs = 60000) => {
      if (re.test(out)) return
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => { listeners.delete(check); reject(new Error(`timed out waiting for ${String(re)}; output: ${out}`)) }, timeoutMs)
        const check = (): void => { if (re.test(out)) { clearTimeout(timer); listeners.delete(check); resolve() } }
        listeners.add(check)
      })
    },
    stop: async () => { child.kill('SIGTERM'); return await exited }
  }
}

export function hasTmux (): boolean {
  return spawnSync('tmux', ['-V']).status === 0
}

/** One tmux server (own socket) with one window running `command` in a real pty of cols×rows. */
export class TmuxSession {
  readonly #dir: string
  readonly #socket: string

  private constructor () {
    this.#dir = mkdtempSync(join(tmpdir(), 'kdebug-tmux-'))
    this.#socket = join(this.#dir, 'sock')
  }

  static start (command: string, cols: number, rows: number): TmuxSession {
    const t = new TmuxSession()
    // The pane stays open after the command so its last output can be read.
    t.#tmux('new-session', '-d', '-x', String(cols), '-y', String(rows), `${command}; echo "EXIT=$?"; exec sleep 600`)
    return t
  }

  #tmux (...args: string[]): string {
    const r = spawnSync('tmux', ['-S', this.#socket, ...args], { encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`tmux ${args[0] ?? ''}: ${r.stderr}`)
    return r.stdout
  }

  /** The visible screen, trailing blank lines dropped. */
  screen (): string { return this.#tmux('capture-pane', '-p', '-J', '-S', '-200').replace(/\s+$/, '') }

  /** Types text (literally) or presses keys (`Enter`, `C-d`). */
  type (text: string): void { this.#tmux('send-keys', '-l', text) }
  keys (...keys: string[]): void { this.#tmux('send-keys', ...keys) }
  resize (cols: number, rows: number): void { this.#tmux('resize-window', '-x', String(cols), '-y', String(rows)) }

  /** Polls the screen until it matches (a pty has no end-of-output event). */
  async waitFor (re: RegExp, timeoutMs = 60000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const m = this.screen().match(re)
      if (m) return m
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${String(re)}; screen:\n${this.screen()}`)
      await new Promise(resolve => setTimeout(resolve, 50))
    }
  }

  close (): void {
    spawnSync('tmux', ['-S', this.#socket, 'kill-server'])
    rmSync(this.#dir, { recursive: true, force: true })
  }
}
