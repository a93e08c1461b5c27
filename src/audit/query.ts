// Reads records back for `GET /v1/audit`: streams the files of the log
// forward (rotated ones, then the active one; constant memory apart from the
// result), filters, and keeps the newest `limit` matches (or the oldest after
// `afterSeq`, for paging forward). Rotated files whose seq range (known from
// their names) cannot match afterSeq/beforeSeq are skipped. Lines that do not
// parse are skipped here — verify.ts is the tool that judges the files.

import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'
import type { AuditRecord } from './types.ts'
import { listAuditFiles } from './files.ts'

export interface AuditQuery {
  /** Only records with seq > afterSeq; returns the OLDEST `limit` of them (page forward). */
  afterSeq?: number
  /** Only records with seq < beforeSeq; returns the NEWEST `limit` (page backward). Default: newest overall. */
  beforeSeq?: number
  /** Effective user or delegating actor. */
  user?: string
  action?: string
  phase?: AuditRecord['phase']
  namespace?: string
  requestId?: string
  session?: string
  /** RFC 3339; inclusive lower bound on `time`. */
  since?: string
  /** RFC 3339; exclusive upper bound on `time`. */
  until?: string
  limit?: number
}

export interface AuditQueryResult {
  records: AuditRecord[]
  /** More matches exist beyond this page (in the paging direction). */
  more: boolean
}

function matches (r: AuditRecord, q: AuditQuery): boolean {
  if (q.afterSeq !== undefined && !(r.seq > q.afterSeq)) return false
  if (q.beforeSeq !== undefined && !(r.seq < q.beforeSeq)) return false
  if (q.user !== undefined && r.actor?.user !== q.user && r.actor?.onBehalfOf?.user !== q.user) return false
  if (q.action !== undefined && r.action !== q.action) return false
  if (q.phase !== undefined && r.phase !== q.phase) return false
  if (q.namespace !== undefined && r.target?.namespace !== q.namespace) return false
  if (q.requestId !== undefined && r.requestId !== q.requestId) return false
  if (q.session !== undefined && r.target?.session !== q.session) return false
  // RFC 3339 UTC with milliseconds (what the writer emits) compares correctly as strings.
  if (q.since !== undefined && r.time < q.since) return false
  if (q.until !== undefined && r.time >= q.until) return false
  return true
}

/** Queries one file. */
export async function queryAuditFile (file: string, q: AuditQuery = {}): Promise<AuditQueryResult> {
  return await queryFiles([file], q)
}

/** Queries a rotated log: the rotated files beside `activeFile`, then it. */
export async function queryAuditLog (activeFile: string, q: AuditQuery = {}): Promise<AuditQueryResult> {
  const { rotated, active } = await listAuditFiles(activeFile)
  const files: string[] = []
  rotated.forEach((r, i) => {
    const nextFirst = rotated[i + 1]?.firstSeq ?? Infinity
    if (q.afterSeq !== undefined && nextFirst - 1 <= q.afterSeq) return
    if (q.beforeSeq !== undefined && r.firstSeq >= q.beforeSeq) return
    files.push(r.file)
  })
  files.push(active)
  return await queryFiles(files, q)
}

async function queryFiles (files: string[], q: AuditQuery): Promise<AuditQueryResult> {
  const limit = Math.max(1, Math.min(q.limit ?? 100, 10_000))
  const forward = q.afterSeq !== undefined
  const out: AuditRecord[] = []
  let more = false
  for (const file of files) {
    const rl = createInterface({ input: createReadStream(file), crlfDelay: Infinity })
    try {
      for await (const line of rl) {
        if (line === '') continue
        let r: AuditRecord
        try {
          r = JSON.parse(line) as AuditRecord
        } catch {
          continue
        }
        if (typeof r !== 'object' || r === null || !matches(r, q)) continue
        out.push(r)
        if (out.length > limit) {
          more = true
          if (forward) {
            out.pop()
            return { records: out, more }
          }
          out.shift()
        }
      }
    } catch (err) {
      // A file may be renamed by rotation or deleted by retention while we read the list.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    } finally {
      rl.close()
    }
  }
  return { records: out, more }
}
