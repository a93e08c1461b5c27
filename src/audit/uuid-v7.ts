// UUID version 7 (RFC 9562 §5.7): 48-bit Unix milliseconds, then random bits,
// so record ids sort by creation time. Built on crypto.randomUUID (pooled
// randomness, fast): its v4 layout already has the right variant bits, so we
// overwrite the timestamp and the version nibble.

import { randomUUID } from 'node:crypto'

// Under load many ids share a millisecond: their timestamp prefix is built once.
let prefixMs = -1
let prefix = ''

export function uuidV7 (nowMs: number = Date.now()): string {
  const ms = Math.max(0, Math.floor(nowMs))
  if (ms !== prefixMs) {
    const ts = ms.toString(16).padStart(12, '0').slice(-12)
    prefix = `${ts.slice(0, 8)}-${ts.slice(8, 12)}-7`
    prefixMs = ms
  }
  return prefix + randomUUID().slice(15)
}
