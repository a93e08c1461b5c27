// Shared helpers for the audit tests.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { nodeFileSystem } from '../../src/audit/file-sink.ts'
import type { AuditFileSystem } from '../../src/audit/file-sink.ts'
import type { AuditEntry } from '../../src/audit/types.ts'

export function tempDir (): { dir: string, file: string, cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdebug-audit-'))
  return { dir, file: path.join(dir, 'audit.jsonl'), cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) }
}

export function entry (i: number, extra: Partial<AuditEntry> = {}): AuditEntry {
  return {
    requestId: `req-${i}`,
    action: 'ephemeral.create',
    phase: 'request',
    actor: { user: 'alice', groups: ['dev'] },
    target: { namespace: 'demo', pod: `web-${i}` },
    request: { image: 'busybox:1.36', reason: `case ${i}` },
    ...extra
  }
}

export interface CountingFs extends AuditFileSystem {
  calls: { write: number, fdatasync: number, open: number }
  /** When set, write/fdatasync/open throw this error. */
  failWith: { write?: Error | null, fdatasync?: Error | null, open?: Error | null }
  /** Bytes to accept from the next write before failing (simulates a partial write then error). */
  partialThenFail?: number | null
}

export function countingFs (): CountingFs {
  const c: CountingFs = {
    ...nodeFileSystem,
    calls: { write: 0, fdatasync: 0, open: 0 },
    failWith: {},
    partialThenFail: null,
    async open (file, flags, mode) {
      if (c.failWith.open) throw c.failWith.open
      if (flags !== 'r') c.calls.open++
      return nodeFileSystem.open(file, flags, mode)
    },
    async write (fd, buf) {
      c.calls.write++
      if (c.partialThenFail != null) {
        const n = c.partialThenFail
        c.partialThenFail = null
        await nodeFileSystem.write(fd, buf.subarray(0, n))
        c.failWith.write = errno('ENOSPC')
        throw c.failWith.write
      }
      if (c.failWith.write) throw c.failWith.write
      return nodeFileSystem.write(fd, buf)
    },
    async fdatasync (fd) {
      c.calls.fdatasync++
      if (c.failWith.fdatasync) throw c.failWith.fdatasync
      return nodeFileSystem.fdatasync(fd)
    }
  }
  return c
}

export function errno (code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: simulated`), { code })
}

export function readLines (file: string): string[] {
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '')
}

export interface ReceivedBatch {
  headers: Record<string, string | string[] | undefined>
  raw: Buffer
  body: { replica: string, records: Array<Record<string, unknown>> }
}

export interface Receiver {
  url: string
  batches: ReceivedBatch[]
  /** Every record by `${replica}/${seq}` → its JSON (dedupe as a receiver would). */
  bySeq: Map<string, string>
  /** Answer 503 to everything while true. */
  failing: boolean
  /** Records that arrived again with other content than before (must stay empty). */
  conflicts: string[]
  /** Records that arrived more than once (same content): at-least-once. */
  duplicates: number
  /** Resolves once `n` distinct records arrived. */
  waitFor: (n: number) => Promise<void>
  close: () => Promise<void>
}

/** A webhook receiver on loopback: decodes gzip, keeps every batch, dedupes records by replica + seq. */
export async function startReceiver (port = 0): Promise<Receiver> {
  const { createServer } = await import('node:http')
  const { gunzipSync } = await import('node:zlib')
  const waiters: Array<{ n: number, resolve: () => void }> = []
  const r: Receiver = {
    url: '',
    batches: [],
    bySeq: new Map(),
    failing: false,
    conflicts: [],
    duplicates: 0,
    waitFor: async (n) => {
      if (r.bySeq.size >= n) return
      await new Promise<void>((resolve) => waiters.push({ n, resolve }))
    },
    close: async () => {}
  }
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      if (r.failing) { res.writeHead(503).end(); return }
      const raw = Buffer.concat(chunks)
      const json = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw
      const body = JSON.parse(json.toString('utf8')) as ReceivedBatch['body']
      r.batches.push({ headers: req.headers, raw, body })
      for (const rec of body.records) {
        const key = `${body.replica}/${String(rec.seq)}`
        const text = JSON.stringify(rec)
        const seen = r.bySeq.get(key)
        if (seen !== undefined && seen !== text) r.conflicts.push(key)
        else if (seen !== undefined) r.duplicates++
        else r.bySeq.set(key, text)
      }
      for (const w of [...waiters]) if (r.bySeq.size >= w.n) { waiters.splice(waiters.indexOf(w), 1); w.resolve() }
      res.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  const address = server.address()
  r.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/audit`
  r.close = async () => { server.closeAllConnections(); await new Promise<void>((resolve) => server.close(() => resolve())) }
  return r
}
