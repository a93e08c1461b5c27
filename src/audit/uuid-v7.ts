// UUID version 7 (RFC 9562 §5.7): 48-bit Unix milliseconds, then random bits,
// so record ids sort by creation time. Built on crypto.randomUUID (pooled
// randomness, fast): its v4 layout already has the right variant bits, so we
// overwrite the timestamp and the version nibble.

import { randomUUID } from 'node:crypto'

export function uuidV7 (nowMs: number = Date.now()): string {
  const ts = Math.max(0, Math.floor(nowMs)).toString(16).padStart(12, '0').slice(-12)
  const r = randomUUID()
  return `${ts.slice(0, 8)}-${ts.slice(8, 12)}-7${r.slice(15)}`
}
