// Long-lived bench processes (the gateway, a mock upstream, the sim, a bare
// fan-out server): forked once per scenario, answer commands over IPC
// (`{ id, cmd, arg }` → `{ id, reply }`), so a scenario can read the
// gateway's process.cpuUsage() or tell the sim to write drops while each
// side keeps its own event loop (BENCH rule 2).
import { fork, type ChildProcess } from 'node:child_process'

export interface Service<R> {
  /** What the worker sent when it was ready (e.g. its port). */
  ready: R
  call: <T = unknown>(cmd: string, arg?: unknown) => Promise<T>
  pid: number
  stop: () => Promise<void>
}

interface Reply { id?: number, reply?: unknown, error?: string, ready?: unknown }

export async function startService<R> (workerPath: string, input: unknown, opts: { env?: Record<string, string>, execArgv?: string[], timeoutMs?: number } = {}): Promise<Service<R>> {
  const child: ChildProcess = fork(workerPath, [JSON.stringify(input)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...opts.env },
    execArgv: [...process.execArgv, ...(opts.execArgv ?? [])]
  })
  const pending = new Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void }>()
  let nextId = 1
  let exited = false
  const ready = await new Promise<R>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${workerPath} not ready in time`)) }, opts.timeoutMs ?? 30_000)
    child.on('message', (m: Reply) => {
      if (m.ready !== undefined) { clearTimeout(timer); resolve(m.ready as R); return }
      const p = m.id === undefined ? undefined : pending.get(m.id)
      if (!p) return
      pending.delete(m.id as number)
      if (m.error !== undefined) p.reject(new Error(m.error))
      else p.resolve(m.reply)
    })
    child.once('exit', (code, signal) => {
      exited = true
      clearTimeout(timer)
      const err = new Error(`${workerPath} exited with ${code ?? signal}`)
      reject(err)
      for (const p of pending.values()) p.reject(err)
      pending.clear()
    })
  })
  return {
    ready,
    pid: child.pid as number,
    call: async <T>(cmd: string, arg?: unknown) => await new Promise<T>((resolve, reject) => {
      if (exited) { reject(new Error(`${workerPath} has exited`)); return }
      const id = nextId++
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
      child.send({ id, cmd, arg })
    }),
    stop: async () => {
      if (exited) return
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      child.kill('SIGTERM')
      const t = setTimeout(() => child.kill('SIGKILL'), 5000)
      await gone
      clearTimeout(t)
    }
  }
}

/** Inside a service worker: announce readiness and answer commands. */
export function serveCommands (ready: unknown, handler: (cmd: string, arg: unknown) => unknown): void {
  process.on('message', (m: { id: number, cmd: string, arg?: unknown }) => {
    Promise.resolve()
      .then(() => handler(m.cmd, m.arg))
      .then((reply) => process.send?.({ id: m.id, reply: reply ?? null }), (err: Error) => process.send?.({ id: m.id, error: err.message }))
  })
  // The parent going away ends the service.
  process.on('disconnect', () => process.exit(0))
  process.on('SIGTERM', () => process.exit(0))
  process.send?.({ ready })
}

/** Process CPU (user + system) in µs and RSS in bytes: what every service reports. */
export function processStats (): { cpuUs: number, rss: number, heapUsed: number } {
  const c = process.cpuUsage()
  const m = process.memoryUsage()
  return { cpuUs: c.user + c.system, rss: m.rss, heapUsed: m.heapUsed }
}
