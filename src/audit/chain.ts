// Canonical serialisation of audit records and the hash chain over them.
//
// One record is one line of JSON. Each record's `prevHash` is the hex SHA-256
// of the previous line's exact bytes (UTF-8, without its trailing newline), so
// editing, deleting, inserting or reordering a line breaks the chain at the
// next record. Genesis: the first record of a file has `prevHash` = 64 zeros
// and `seq` = 1. The chain never spans files: a new (or rotated-away) file
// starts a new chain at genesis.
//
// Key order is canonical so the same record always yields the same bytes:
// top-level keys in RECORD_KEY_ORDER (unknown keys after them, sorted), and
// every nested object with its keys sorted. `undefined` members are omitted.

import { createHash } from 'node:crypto'
import type { AuditRecord } from './types.ts'

export const GENESIS_HASH = '0'.repeat(64)

export const RECORD_KEY_ORDER = [
  'seq', 'time', 'id', 'replica', 'requestId', 'action', 'phase', 'relatesTo',
  'actor', 'target', 'request', 'decision', 'outcome', 'source', 'prevHash'
] as const

const KNOWN_KEYS = new Set<string>(RECORD_KEY_ORDER)

const HEX_HASH = /^[0-9a-f]{64}$/

export function isHexHash (s: unknown): s is string {
  return typeof s === 'string' && HEX_HASH.test(s)
}

/** Hex SHA-256 of one line's bytes (without the newline). */
export function hashLine (line: string | Uint8Array): string {
  return createHash('sha256').update(line).digest('hex')
}

/** JSON with sorted object keys at every level; `undefined`, functions and symbols are dropped like JSON.stringify does. */
export function canonicalJson (value: unknown): string {
  const out = canonicalValue(value)
  return out === undefined ? 'null' : out
}

function canonicalValue (value: unknown): string | undefined {
  if (value === null) return 'null'
  switch (typeof value) {
    case 'string': return JSON.stringify(value)
    case 'number': return Number.isFinite(value) ? String(value) : 'null'
    case 'boolean': return value ? 'true' : 'false'
    case 'bigint': return JSON.stringify(value.toString())
    case 'object': break
    default: return undefined
  }
  if (Array.isArray(value)) {
    return '[' + value.map((v) => canonicalValue(v) ?? 'null').join(',') + ']'
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return canonicalValue((value as { toJSON: () => unknown }).toJSON())
  }
  const obj = value as Record<string, unknown>
  const parts: string[] = []
  for (const key of Object.keys(obj).sort()) {
    const v = canonicalValue(obj[key])
    if (v !== undefined) parts.push(JSON.stringify(key) + ':' + v)
  }
  return '{' + parts.join(',') + '}'
}

/** The record's line, without the newline. */
export function serializeRecord (record: AuditRecord): string {
  const obj = record as unknown as Record<string, unknown>
  const parts: string[] = []
  const push = (key: string): void => {
    const v = canonicalValue(obj[key])
    if (v !== undefined) parts.push(JSON.stringify(key) + ':' + v)
  }
  for (const key of RECORD_KEY_ORDER) {
    if (key !== 'prevHash') push(key)
  }
  for (const key of Object.keys(obj).sort()) {
    if (!KNOWN_KEYS.has(key)) push(key)
  }
  push('prevHash')
  return '{' + parts.join(',') + '}'
}

/** The chain position a writer resumes from: the last record's seq and line hash. */
export interface ChainHead {
  seq: number
  hash: string
}

export const GENESIS_HEAD: ChainHead = Object.freeze({ seq: 0, hash: GENESIS_HASH })

/** Reads seq from a stored line and checks the fields the chain relies on; throws with a reason otherwise. */
export function headFromLine (line: string): ChainHead {
  let rec: unknown
  try {
    rec = JSON.parse(line)
  } catch {
    throw new Error('last line is not valid JSON')
  }
  if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) throw new Error('last line is not a JSON object')
  const { seq, prevHash } = rec as { seq?: unknown, prevHash?: unknown }
  if (!Number.isSafeInteger(seq) || (seq as number) < 1) throw new Error('last line has no valid seq')
  if (!isHexHash(prevHash)) throw new Error('last line has no valid prevHash')
  return { seq: seq as number, hash: hashLine(line) }
}
