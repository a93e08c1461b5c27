// Verifies an audit file's hash chain, streaming (constant memory).
//
// Each line must be a JSON object whose `prevHash` is the SHA-256 of the
// previous line's exact bytes (64 zeros for line 1) and whose `seq` is the
// previous seq + 1 (1 for line 1). Lines are split on '\n' at the byte level
// rather than with readline, which would drop a '\r' and replace invalid
// UTF-8 — changes the hash must see.
//
// Where a break is found, the report names the line that was changed, not
// just where the chain noticed: an edited line k is caught by line k+1's
// prevHash, and a one-line look-ahead tells "line k was edited" from "line
// k+1's prevHash was edited"; a forged insertion is recognised because the
// record after it chains to the line before it.
//
// Limits of a chain alone: the LAST record can be edited, and trailing
// records deleted or appended, without breaking anything. Anchor the end
// externally (publish the last hash somewhere else, e.g. periodically) and
// pass it as `expectLastHash` to catch that.

import { createReadStream } from 'node:fs'
import { GENESIS_HASH, hashLine, isHexHash } from './chain.ts'

export type VerifyResult =
  | { ok: true, records: number, lastHash: string }
  | { ok: false, line: number, reason: string }

export interface VerifyOptions {
  /** The expected hash of the last line (an external anchor). */
  expectLastHash?: string
}

interface Line {
  bytes: Buffer
  terminated: boolean
}

async function * splitLines (file: string): AsyncGenerator<Line> {
  let rest: Buffer | null = null
  for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>) {
    let buf: Buffer = rest ? Buffer.concat([rest, chunk]) : chunk
    let nl: number
    while ((nl = buf.indexOf(0x0a)) >= 0) {
      yield { bytes: buf.subarray(0, nl), terminated: true }
      buf = buf.subarray(nl + 1)
    }
    rest = buf.byteLength > 0 ? Buffer.from(buf) : null
  }
  if (rest) yield { bytes: rest, terminated: false }
}

interface Parsed {
  seq: number
  prevHash: string
  hash: string
}

function parse (line: Line): Parsed | string {
  if (!line.terminated) return 'torn last line (no trailing newline): a write was interrupted; the writer truncates it on its next start'
  if (line.bytes.byteLength === 0) return 'empty line'
  let rec: unknown
  try {
    rec = JSON.parse(line.bytes.toString('utf8'))
  } catch {
    return 'not valid JSON'
  }
  if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) return 'not a JSON object'
  const r = rec as Record<string, unknown>
  if (!Number.isSafeInteger(r.seq) || (r.seq as number) < 1) return 'missing or invalid seq'
  if (!isHexHash(r.prevHash)) return 'missing or invalid prevHash'
  for (const key of ['time', 'id', 'action', 'phase'] as const) {
    if (typeof r[key] !== 'string') return `missing or invalid ${key}`
  }
  return { seq: r.seq as number, prevHash: r.prevHash as string, hash: hashLine(line.bytes) }
}

export async function verifyAuditFile (file: string, opts: VerifyOptions = {}): Promise<VerifyResult> {
  if (opts.expectLastHash !== undefined && !isHexHash(opts.expectLastHash)) {
    throw new Error('expectLastHash must be 64 lowercase hex characters')
  }
  const lines = splitLines(file)
  let n = 0
  let prev: Parsed | null = null
  let prevPrevHash: string | null = null
  let pending: IteratorResult<Line> | null = null
  const next = async (): Promise<IteratorResult<Line>> => {
    if (pending) { const p = pending; pending = null; return p }
    return lines.next()
  }
  try {
    for (let it = await next(); !it.done; it = await next()) {
      n++
      const cur = parse(it.value)
      if (typeof cur === 'string') return { ok: false, line: n, reason: cur }
      const expectSeq = prev ? prev.seq + 1 : 1
      const expectPrev = prev ? prev.hash : GENESIS_HASH
      if (cur.seq !== expectSeq || cur.prevHash !== expectPrev) {
        // A forged record inserted before this one: this one still chains to the line before it.
        if (prev && prevPrevHash !== null && cur.prevHash === prevPrevHash && cur.seq === prev.seq) {
          return { ok: false, line: n - 1, reason: `line ${n - 1} was inserted: line ${n} chains to line ${n - 2}` }
        }
        if (cur.seq !== expectSeq) {
          const what = cur.seq > expectSeq ? 'records missing or out of order' : 'out of order or duplicated'
          return { ok: false, line: n, reason: `seq ${cur.seq} where ${expectSeq} was expected (${what})` }
        }
        if (!prev) return { ok: false, line: n, reason: 'first record must have the genesis prevHash (64 zeros)' }
        // seq is right but the hash is not: either line n-1 was edited, or this line's prevHash was.
        // If the line after this one chains to this one, this one is intact.
        pending = await lines.next()
        const after = pending.done ? null : parse(pending.value)
        if (after !== null && typeof after !== 'string' && after.prevHash !== cur.hash) {
          return { ok: false, line: n, reason: `prevHash does not match line ${n - 1}, and line ${n + 1} does not chain to this line (this line was modified)` }
        }
        return { ok: false, line: n - 1, reason: `line ${n - 1} was modified: its hash does not match the prevHash recorded by line ${n}` }
      }
      prevPrevHash = prev ? prev.hash : GENESIS_HASH
      prev = cur
    }
  } finally {
    await lines.return(undefined)
  }
  const lastHash = prev ? prev.hash : GENESIS_HASH
  if (opts.expectLastHash !== undefined && opts.expectLastHash !== lastHash) {
    return { ok: false, line: Math.max(n, 1), reason: `last record's hash ${lastHash} does not match the expected ${opts.expectLastHash} (the last record was modified, or records were removed or added at the end)` }
  }
  return { ok: true, records: n, lastHash }
}
