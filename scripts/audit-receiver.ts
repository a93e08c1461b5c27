// A minimal audit webhook receiver (the demo starts it with DEMO_AUDIT_FORWARD=1;
// also an example of what a receiver must do): checks the Standard Webhooks
// signature over the body as sent (before decompressing), decompresses gzip,
// drops records it already has (replica + seq: delivery is at least once) and
// appends the rest, as received, to one JSON-lines file per replica — so each
// file can be checked with `npm run audit:verify -- FILE --allow-partial-start`.
//
// Standalone: node scripts/audit-receiver.ts [--port 9099] [--dir ./data/received]
// (key from AUDIT_WEBHOOK_KEY; without it signatures are not checked).
import { appendFileSync, mkdirSync, realpathSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gunzipSync } from 'node:zlib'
import { timingSafeEqual } from 'node:crypto'
import { signature } from '../src/audit/forward/webhook.ts'

export interface AuditReceiver {
  url: string
  server: Server
  received: () => number
  close: () => Promise<void>
}

export async function startAuditReceiver (opts: { port?: number, dir: string, key?: string, log?: (msg: string) => void }): Promise<AuditReceiver> {
  mkdirSync(opts.dir, { recursive: true })
  const seen = new Map<string, number>() // replica → highest seq stored
  let received = 0
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      try {
        const raw = Buffer.concat(chunks)
        if (opts.key !== undefined) {
          const expected = Buffer.from(signature(opts.key, String(req.headers['webhook-id']), String(req.headers['webhook-timestamp']), raw))
          const got = Buffer.from(String(req.headers['webhook-signature'] ?? ''))
          if (got.length !== expected.length || !timingSafeEqual(got, expected)) { res.writeHead(401).end(); return }
        }
        const json = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw).toString('utf8') : raw.toString('utf8')
        const body = JSON.parse(json) as { replica: string, records: Array<{ seq: number }> }
        if (!/^[A-Za-z0-9._-]{1,253}$/.test(body.replica)) { res.writeHead(400).end(); return }
        const fresh = body.records.filter((r) => r.seq > (seen.get(body.replica) ?? 0))
        if (fresh.length > 0) {
          appendFileSync(join(opts.dir, `${body.replica}.jsonl`), fresh.map((r) => recordLine(json, r.seq)).join('\n') + '\n')
          seen.set(body.replica, (fresh.at(-1) as { seq: number }).seq)
          received += fresh.length
          opts.log?.(`audit receiver: ${fresh.length} record(s) from ${body.replica}, up to seq ${seen.get(body.replica)}`)
        }
        res.writeHead(204).end()
      } catch {
        res.writeHead(400).end()
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return {
    url: `http://127.0.0.1:${port}/audit`,
    server,
    received: () => received,
    close: async () => { await new Promise<void>((resolve) => server.close(() => resolve())) }
  }
}

/** The record's line exactly as the gateway wrote it: the batch splices the lines in unchanged, each starting with {"seq":N,. */
function recordLine (json: string, seq: number): string {
  const start = json.indexOf(`{"seq":${seq},`)
  let depth = 0
  let inString = false
  for (let i = start; i < json.length; i++) {
    const ch = json[i]
    if (inString) {
      if (ch === '\\') i++
      else if (ch === '"') inString = false
    } else if (ch === '"') inString = true
    else if (ch === '{') depth++
    else if (ch === '}' && --depth === 0) return json.slice(start, i + 1)
  }
  throw new Error(`record ${seq} not found in the batch`)
}

function isEntry (): boolean {
  try { return realpathSync(process.argv[1] ?? '') === realpathSync(fileURLToPath(import.meta.url)) } catch { return false }
}

if (isEntry()) {
  const arg = (name: string): string | undefined => { const i = process.argv.indexOf(name); return i >= 0 ? process.argv[i + 1] : undefined }
  const r = await startAuditReceiver({ port: Number(arg('--port') ?? 9099), dir: resolve(arg('--dir') ?? 'data/received'), key: process.env.AUDIT_WEBHOOK_KEY, log: (m) => process.stdout.write(m + '\n') })
  process.stdout.write(`audit receiver on ${r.url}\n`)
}
