// The attach flood's payload: byte i of the stream is i mod 251, so a reader
// can check every frame's first and last byte against its offset and notice
// a lost, duplicated or reordered byte without a checksum pass.
export const PATTERN_PERIOD = 251

/** Bytes [offset, offset+n) of the flood. */
export function patternBytes (offset: number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n)
  for (let i = 0; i < n; i++) b[i] = (offset + i) % PATTERN_PERIOD
  return b
}
