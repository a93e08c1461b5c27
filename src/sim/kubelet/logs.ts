// `pods/{name}/log` of the simulated kubelet: the container's output history
// filtered by sinceSeconds then tailLines, optionally each line prefixed with
// its RFC3339Nano write time, and with `follow` the live output until the
// process exits or the client goes away.
import type { ServerResponse } from 'node:http'
import type { ContainerProcess } from './process.ts'
import { formatLogTimestamp, preciseNow, renderRecords, type LogRecord } from './process-log.ts'
import { badRequest } from '../apimachinery/status.ts'

export interface LogOptions {
  follow: boolean
  tailLines?: number
  sinceSeconds?: number
  timestamps?: boolean
  /** Stop after this many bytes (`limitBytes`). */
  limitBytes?: number
  /** For the error when the container has no process yet. */
  pod?: string
  container?: string
  /** Waiting reason for that error; default ContainerCreating. */
  waitingReason?: string
}

/** Writes `pods/log` output to an HTTP response (follow streams until the process exits or the client goes). */
export function serveLogs (res: ServerResponse, proc: ContainerProcess | undefined, opts: LogOptions): void {
  if (!proc) {
    // kubelet validateContainerLogStatus: a waiting container has no logs yet (400 BadRequest).
    const err = badRequest(`container "${opts.container ?? ''}" in pod "${opts.pod ?? ''}" is waiting to start: ${opts.waitingReason ?? 'ContainerCreating'}`)
    res.writeHead(err.code, { 'Content-Type': 'application/json' })
    res.end(JSON.stringify(err.status))
    return
  }
  const timestamps = opts.timestamps === true
  const query = { tailLines: opts.tailLines, sinceSeconds: opts.sinceSeconds }
  let limit = opts.limitBytes !== undefined && opts.limitBytes > 0 ? opts.limitBytes : Infinity
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private' })

  const records: LogRecord[] | undefined = proc.logRecords?.(query)
  const history = records ? renderRecords(records, timestamps) : proc.logSince(query)
  const write = (b: Buffer): boolean => {
    if (limit <= 0) return true
    const part = b.length > limit ? b.subarray(0, limit) : b
    limit -= part.length
    const ok = res.write(part)
    if (limit <= 0) { stop(); res.end() }
    return ok
  }
  let atLineStart = history.length === 0 || history[history.length - 1] === 10
  const unsubscribe: Array<() => void> = []
  let release: (() => void) | undefined
  const stop = (): void => {
    for (const u of unsubscribe.splice(0)) u()
    if (release) { const r = release; release = undefined; r() }
  }

  if (history.length > 0) write(history)
  if (!opts.follow || proc.exited || limit <= 0) {
    if (limit > 0) res.end()
    return
  }

  unsubscribe.push(proc.onOutput((_stream, chunk) => {
    let out = chunk
    if (timestamps) {
      const prefix = formatLogTimestamp(preciseNow()) + ' '
      const parts: Array<Buffer | string> = []
      let start = 0
      while (start < chunk.length) {
        if (atLineStart) parts.push(prefix)
        const nl = chunk.indexOf(10, start)
        const end = nl === -1 ? chunk.length : nl + 1
        parts.push(chunk.subarray(start, end))
        atLineStart = nl !== -1
        start = end
      }
      out = Buffer.concat(parts.map(p => typeof p === 'string' ? Buffer.from(p) : p))
    }
    // A slow reader pauses bulk output instead of growing the response buffer.
    if (!write(out) && !release && proc.hold) {
      release = proc.hold()
      res.once('drain', () => { if (release) { const r = release; release = undefined; r() } })
    }
  }))
  unsubscribe.push(proc.onExit(() => { stop(); if (!res.writableEnded) res.end() }))
  res.on('close', stop)
}
