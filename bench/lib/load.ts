// Runs one load-generator process (workers/http-load.ts) and reads the
// measured process's stats at the start and end of the measured window, so
// CPU per request covers exactly the requests counted.
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { HttpLoadInput, HttpLoadResult } from '../workers/http-load.ts'

const LOAD = fileURLToPath(new URL('../workers/http-load.ts', import.meta.url))

export interface ProcStats { cpuUs: number, rss: number }

export interface MeasuredLoad<S extends ProcStats> extends HttpLoadResult {
  /** Stats of the measured process(es) at start and end of the window. */
  before: S[]
  after: S[]
  /** CPU µs per request of each measured process over the window. */
  cpuUsPerRequest: number[]
}

export async function runLoad<S extends ProcStats> (input: HttpLoadInput, measured: Array<() => Promise<S>>, timeoutMs = 180_000): Promise<MeasuredLoad<S>> {
  const child = fork(LOAD, [JSON.stringify(input)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const before: S[] = []
  const after: S[] = []
  const result = await new Promise<HttpLoadResult>((resolve, reject) => {
    let out: HttpLoadResult | undefined
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('http-load timed out')) }, timeoutMs)
    child.on('message', (m: { phase?: 'start' | 'end' } & Partial<HttpLoadResult>) => {
      if (m.phase !== undefined) {
        const target = m.phase === 'start' ? before : after
        Promise.all(measured.map(async (f) => await f())).then((stats) => {
          target.push(...stats)
          child.send('go')
        }, reject)
        return
      }
      out = m as HttpLoadResult
    })
    child.once('error', reject)
    child.once('exit', (code) => {
      clearTimeout(timer)
      if (out) resolve(out)
      else reject(new Error(`http-load exited with ${code} without a result`))
    })
  })
  const cpuUsPerRequest = measured.map((_, i) => ((after[i]?.cpuUs ?? 0) - (before[i]?.cpuUs ?? 0)) / Math.max(1, result.requests))
  return { ...result, before, after, cpuUsPerRequest }
}
