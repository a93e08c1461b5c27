// Shared helpers of the sim core tests (HTTP calls as a given user, polling).
import type { Sim } from '../../src/sim/index.ts'

export interface ApiAnswer {
  status: number
  headers: Headers
  text: string
  json: any
}

export async function api (sim: Sim, token: string | undefined, method: string, path: string, opts: { body?: unknown, contentType?: string, headers?: Record<string, string> } = {}): Promise<ApiAnswer> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) }
  if (token) headers.Authorization = `Bearer ${token}`
  let body: string | Buffer | undefined
  if (opts.body !== undefined) {
    body = typeof opts.body === 'string' || Buffer.isBuffer(opts.body) ? opts.body : JSON.stringify(opts.body)
    headers['Content-Type'] = opts.contentType ?? 'application/json'
  }
  const res = await fetch(sim.url + path, { method, headers, body })
  const text = await res.text()
  let json: any
  try { json = JSON.parse(text) } catch { json = undefined }
  return { status: res.status, headers: res.headers, text, json }
}

/** Polls `fn` until it returns a value (not undefined/false); the deadline only bounds a failing test. */
export async function waitFor<T> (fn: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await fn()
    if (v !== undefined && v !== false) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

/** Reads newline-separated JSON watch events from a streaming response until `until` says stop. */
export async function readWatch (res: Response, until: (events: any[]) => boolean, timeoutMs = 3000): Promise<any[]> {
  const events: any[] = []
  const reader = res.body!.getReader()
  const dec = new TextDecoder()
  let buf = ''
  const timer = setTimeout(() => { reader.cancel().catch(() => {}) }, timeoutMs)
  try {
    for (;;) {
      if (until(events)) break
      const { value, done } = await reader.read()
      if (done) break
      buf += dec.decode(value, { stream: true })
      let i: number
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i)
        buf = buf.slice(i + 1)
        if (line.trim()) events.push(JSON.parse(line))
      }
    }
  } finally {
    clearTimeout(timer)
    reader.cancel().catch(() => {})
  }
  return events
}

export const ADMIN = 'admin-token'
