// Runs a bench worker in its own process (BENCH rule 2) and returns the one
// JSON message it sends back over IPC. Workers are .ts files run by the same
// Node (24, type stripping) that runs the harness.
import { fork } from 'node:child_process'

export async function runWorker<I, O> (workerPath: string, input: I, opts: { timeoutMs?: number } = {}): Promise<O> {
  const child = fork(workerPath, [JSON.stringify(input)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  return await new Promise<O>((resolve, reject) => {
    let result: O | undefined
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${workerPath} timed out`)) }, opts.timeoutMs ?? 120_000)
    child.on('message', (m) => { result = m as O })
    child.once('error', (err) => { clearTimeout(timer); reject(err) })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      if (result !== undefined) resolve(result)
      else reject(new Error(`${workerPath} exited with ${code ?? signal} without a result`))
    })
  })
}

/** Parses the worker's input (argv[2]) — the counterpart of runWorker. */
export function workerInput<I> (): I {
  return JSON.parse(process.argv[2] ?? '{}') as I
}

/** Sends the result and lets the worker exit. */
export function workerDone (result: unknown): void {
  process.send?.(result, () => process.disconnect())
}
