// Canonical serialisation of audit records and the hash chain over them.
//
// One record is one line of JSON. Each record's `prevHash` is the hex SHA-256
// of the previous line's exact bytes (UTF-8, without its trailing newline), so
// editing, deleting, inserting or reordering a line breaks the chain at the
// next record. Genesis: the first record of a log has `prevHash` = 64 zeros
// and `seq` = 1. The chain spans rotated files: a new file's first record
// chains to the previous file's last line and continues its seq (see
// rotating-sink.ts), so the files of a log verify as one chain.
//
// Key order is canonical so the same record always yields the same bytes:
// top-level keys in RECORD_KEY_ORDER (unknown keys after them, sorted), and
// every nested object with its keys inserted in sorted order, then
// JSON.stringify (which puts integer-like keys first, ascending — part of the
// definition). `undefined` members are omitted.

import { hash } from 'node:crypto'
import type { AuditRecord } from './types.ts'

export const GENESIS_HASH = '0'.repeat(64)

export const RECORD_KEY_ORDER = [
  'seq', 'time', 'id', 'replica', 'requestId', 'action', 'phase', 'relatesTo',
  'actor', 'target', 'request', 'decision', 'outcome', 'source', 'prevHash'
] as const

const KNOWN_KEYS = new Set<string>(RECORD_KEY_ORDER)

/** The keys the writer assigns; an entry's members of these names are overwritten. */
const WRITER_KEYS = new Set<string>(['seq', 'time', 'id', 'replica', 'prevHash'])

/** The entry's known keys, in canonical order. */
const ENTRY_KEY_ORDER = RECORD_KEY_ORDER.filter((k) => !WRITER_KEYS.has(k))

const HEX_HASH = /^[0-9a-f]{64}$/

export function isHexHash (s: unknown): s is string {
  return typeof s === 'string' && HEX_HASH.test(s)
}

/** Hex SHA-256 of one line's bytes (without the newline). */
export function hashLine (line: string | Uint8Array): string {
  return hash('sha256', line, 'hex') // one-shot: about half the cost of createHash for a line
}

/**
 * A deep copy with every plain object's keys inserted in sorted order, so
 * JSON.stringify of it is canonical. Drops `undefined` members (as JSON does),
 * applies toJSON (Dates become ISO strings), turns bigints into strings.
 */
export function sortKeysDeep (value: unknown): unknown {
  if (value === null || typeof value !== 'object') return typeof value === 'bigint' ? value.toString() : value
  if (Array.isArray(value)) return value.map(sortKeysDeep)
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return sortKeysDeep((value as { toJSON: () => unknown }).toJSON())
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[key]
    if (v !== undefined) out[key] = sortKeysDeep(v)
  }
  return out
}

export function canonicalJson (value: unknown): string {
  return JSON.stringify(sortKeysDeep(value)) ?? 'null'
}

/** The record's top-level keys in RECORD_KEY_ORDER, unknown keys (sorted) before prevHash. Values are not copied. */
export function orderRecord (record: AuditRecord): Record<string, unknown> {
  const src = record as unknown as Record<string, unknown>
  const out: Record<string, unknown> = {}
  for (const key of RECORD_KEY_ORDER) {
    if (key !== 'prevHash' && src[key] !== undefined) out[key] = src[key]
  }
  for (const key of Object.keys(src).sort()) {
    if (!KNOWN_KEYS.has(key) && src[key] !== undefined) out[key] = src[key]
  }
  out.prevHash = src.prevHash
  return out
}

/** The record's line, without the newline: canonical JSON (see the header). */
export function serializeRecord (record: AuditRecord): string {
  return JSON.stringify(orderRecord(sortKeysDeep(record) as AuditRecord))
}

/**
 * An entry's members in canonical record order (known keys in
 * RECORD_KEY_ORDER, unknown keys sorted after them), each passed through
 * `member` (which may drop it by returning undefined); the writer's keys
 * (seq, time, id, replica, prevHash) are left out. Spread between the
 * writer's keys by `canonicalRecord`, JSON.stringify of the result is
 * serializeRecord's line without a second ordering pass.
 */
export function canonicalBody (entry: object, member: (key: string, value: unknown) => unknown): Record<string, unknown> {
  const src = entry as Record<string, unknown>
  const body: Record<string, unknown> = {}
  for (const key of ENTRY_KEY_ORDER) {
    const v = member(key, src[key])
    if (v !== undefined) body[key] = v
  }
  let unknown: string[] | undefined
  for (const key in src) {
    if (Object.hasOwn(src, key) && !KNOWN_KEYS.has(key)) (unknown ??= []).push(key)
  }
  if (unknown !== undefined) {
    for (const key of unknown.sort()) {
      const v = member(key, src[key])
      if (v !== undefined) body[key] = v
    }
  }
  return body
}

/** A record with its keys in canonical order: JSON.stringify of it is the record's line. `body` comes from canonicalBody. */
export function canonicalRecord (seq: number, time: string, id: string, replica: string, body: Record<string, unknown>, prevHash: string): AuditRecord {
  return { seq, time, id, replica, ...body, prevHash } as unknown as AuditRecord
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
