// Verifies an audit log's hash chain, streaming (constant memory), across the
// files of a rotated log in order (the chain and seq continue from one file to
// the next).
//
// Each line must be a JSON object whose `prevHash` is the SHA-256 of the
// previous line's exact bytes (64 zeros for seq 1) and whose `seq` is the
// previous seq + 1. Lines are split on '\n' at the byte level rather than with
// readline, which would drop a '\r' and replace invalid UTF-8 — changes the
// hash must see.
//
// Where a break is found, the report names the file and line that was
// changed, not just where the chain noticed: an edited line k is caught by
// line k+1's prevHash, and a one-line look-ahead tells "line k was edited"
// from "line k+1's prevHash was edited"; a forged insertion is recognised
// because the record after it chains to the line before it.
//
// A log whose oldest files were deleted by retention starts mid-chain. That
// start is accepted only when an `audit.retention` record later in the chain
// names the deleted file's last seq and hash (the writer notes each deletion
// before it deletes); otherwise line 1 is the break (files removed by hand).
//
// Limits of a chain alone: the LAST record can be edited, and trailing
// records deleted or appended, without breaking anything. Anchor the end
// externally: `expectLastHash`, or `anchor` (a seq and hash published earlier,
// e.g. to the cluster by src/audit/anchor.ts): the chain must reach that seq
// with that hash, so a truncated or rewritten tail is caught.

import { createReadStream } from 'node:fs'
import { GENESIS_HASH, hashLine, isHexHash } from './chain.ts'

export type VerifyResult =
  | { ok: true, records: number, lastHash: string }
  | { ok: false, line: number, reason: string }

export interface VerifyOptions {
  /** The expected hash of the last line (an external anchor). */
  expectLastHash?: string
}

export interface ChainAnchor {
  seq: number
  hash: string
}

export interface VerifyChainOptions extends VerifyOptions {
  /** The chain must contain this record (seq with this line hash). */
  anchor?: ChainAnchor
  /** Accept a first record after seq 1 without an audit.retention record for what precedes it (checking one rotated file alone). */
  allowPartialStart?: boolean
}

export type VerifyChainResult =
  | { ok: true, records: number, files: number, firstSeq: number, lastSeq: number, lastHash: string, notes: string[] }
  | { ok: false, file: string, line: number, reason: string }

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
  /** An audit.retention record: the deleted file's last seq and hash. */
  retired?: { lastSeq: number, lastHash: string }
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
  const parsed: Parsed = { seq: r.seq as number, prevHash: r.prevHash as string, hash: hashLine(line.bytes) }
  if (r.action === 'audit.retention') {
    const o = r.outcome as { lastSeq?: unknown, lastHash?: unknown } | undefined
    if (Number.isSafeInteger(o?.lastSeq) && isHexHash(o?.lastHash)) parsed.retired = { lastSeq: o?.lastSeq as number, lastHash: o?.lastHash as string }
  }
  return parsed
}

/** Verifies one file as a whole log (it must start at seq 1 unless allowPartialStart). */
export async function verifyAuditFile (file: string, opts: VerifyOptions = {}): Promise<VerifyResult> {
  const res = await verifyAuditChain([file], opts)
  if (!res.ok) return { ok: false, line: res.line, reason: res.reason }
  return { ok: true, records: res.records, lastHash: res.lastHash }
}

/** Verifies files in order as one chain (a rotated log: oldest first, active last). */
export async function verifyAuditChain (files: string[], opts: VerifyChainOptions = {}): Promise<VerifyChainResult> {
  if (opts.expectLastHash !== undefined && !isHexHash(opts.expectLastHash)) {
    throw new Error('expectLastHash must be 64 lowercase hex characters')
  }
  if (opts.anchor !== undefined && (!isHexHash(opts.anchor.hash) || !Number.isSafeInteger(opts.anchor.seq) || opts.anchor.seq < 1)) {
    throw new Error('anchor must have a positive seq and a 64 lowercase hex hash')
  }
  let records = 0
  let prev: Parsed | null = null
  let prevPrevHash: string | null = null
  let first: Parsed | null = null
  let firstFile = files[0] ?? ''
  let startJustified = false
  let anchorHash: string | null = null
  const notes: string[] = []
  const unexplainedStart = (why: string): VerifyChainResult => ({
    ok: false,
    file: firstFile,
    line: 1,
    reason: `the chain starts at seq ${first?.seq} (not 1) and no audit.retention record accounts for the records before it (files removed or truncated by hand?)${why}`
  })
  for (const file of files) {
    const lines = splitLines(file)
    let n = 0
    let pending: IteratorResult<Line> | null = null
    const next = async (): Promise<IteratorResult<Line>> => {
      if (pending) { const p = pending; pending = null; return p }
      return lines.next()
    }
    const broken = (line: number, reason: string): VerifyChainResult => {
      if (first !== null && first.seq > 1 && !startJustified && !opts.allowPartialStart) return unexplainedStart(`; later: ${file} line ${line}: ${reason}`)
      return { ok: false, file, line, reason }
    }
    try {
      for (let it = await next(); !it.done; it = await next()) {
        n++
        const cur = parse(it.value)
        if (typeof cur === 'string') return broken(n, cur)
        if (first === null) {
          first = cur
          firstFile = file
          if (cur.seq === 1 && cur.prevHash !== GENESIS_HASH) return { ok: false, file, line: n, reason: 'first record must have the genesis prevHash (64 zeros)' }
        } else {
          const expectSeq = (prev as Parsed).seq + 1
          const expectPrev = (prev as Parsed).hash
          if (cur.seq !== expectSeq || cur.prevHash !== expectPrev) {
            const where = n === 1 ? 'the last line of the previous file' : `line ${n - 1}`
            // A forged record inserted before this one: this one still chains to the line before it.
            if (prev && prevPrevHash !== null && cur.prevHash === prevPrevHash && cur.seq === prev.seq) {
              return broken(n - 1, `line ${n - 1} was inserted: line ${n} chains to the line before it`)
            }
            if (cur.seq !== expectSeq) {
              const what = cur.seq > expectSeq ? 'records missing or out of order' : 'out of order or duplicated'
              return broken(n, `seq ${cur.seq} where ${expectSeq} was expected (${what})`)
            }
            // seq is right but the hash is not: either the previous line was edited, or this line's prevHash was.
            // If the line after this one chains to this one, this one is intact.
            pending = await lines.next()
            const after = pending.done ? null : parse(pending.value)
            if (after !== null && typeof after !== 'string' && after.prevHash !== cur.hash) {
              return broken(n, `prevHash does not match ${where}, and line ${n + 1} does not chain to this line (this line was modified)`)
            }
            if (n === 1) return broken(n, 'prevHash does not match the last line of the previous file (that line was modified, or files are missing or out of order)')
            return broken(n - 1, `line ${n - 1} was modified: its hash does not match the prevHash recorded by line ${n}`)
          }
        }
        if (cur.retired && first.seq > 1 && cur.retired.lastSeq === first.seq - 1 && cur.retired.lastHash === first.prevHash) startJustified = true
        if (opts.anchor?.seq === cur.seq) anchorHash = cur.hash
        prevPrevHash = prev ? prev.hash : cur.prevHash
        prev = cur
        records++
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && file === files.at(-1) && files.length > 1) continue // no active file yet (just rotated)
      throw err
    } finally {
      await lines.return(undefined)
    }
  }
  const lastFile = files.at(-1) ?? ''
  if (first !== null && first.seq > 1) {
    if (opts.allowPartialStart) notes.push(`starts at seq ${first.seq} (earlier records not checked)`)
    else if (!startJustified) return unexplainedStart('')
    else notes.push(`starts at seq ${first.seq}: seq 1–${first.seq - 1} were deleted by retention (audit.retention records)`)
  }
  const lastHash = prev ? prev.hash : GENESIS_HASH
  const lastSeq = prev ? prev.seq : 0
  if (opts.expectLastHash !== undefined && opts.expectLastHash !== lastHash) {
    return { ok: false, file: lastFile, line: Math.max(records, 1), reason: `last record's hash ${lastHash} does not match the expected ${opts.expectLastHash} (the last record was modified, or records were removed or added at the end)` }
  }
  const anchor = opts.anchor
  if (anchor !== undefined) {
    if (lastSeq < anchor.seq) {
      return { ok: false, file: lastFile, line: Math.max(records, 1), reason: `the log ends at seq ${lastSeq}, but the anchor says seq ${anchor.seq} was written (hash ${anchor.hash}): the tail was truncated` }
    }
    if (anchorHash === null) {
      notes.push(`anchor seq ${anchor.seq} is older than the oldest record kept (seq ${first?.seq ?? 0}); not checked`)
    } else if (anchorHash !== anchor.hash) {
      return { ok: false, file: lastFile, line: Math.max(records, 1), reason: `record seq ${anchor.seq} has hash ${anchorHash}, but the anchor says ${anchor.hash}: the log was rewritten from there on` }
    } else {
      notes.push(`anchor seq ${anchor.seq} matches`)
    }
  }
  return { ok: true, records, files: files.length, firstSeq: first?.seq ?? 0, lastSeq, lastHash, notes }
}
