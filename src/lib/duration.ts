// Durations as people write them on the command line: `30s`, `10m`, `1h30m`
// (the `h`/`m`/`s` subset of Go's time.ParseDuration, as `kubectl logs
// --since` takes them). Pure.
import { Type } from '@sinclair/typebox'

const DURATION = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/

/** A JSON Schema for such a duration (validated before parseDurationMs sees it). */
export const DurationSchema = (description: string) => Type.String({ minLength: 2, maxLength: 16, pattern: '^([0-9]+h)?([0-9]+m)?([0-9]+s)?$', description, examples: ['10m', '1h30m', '45s'] })

/** Milliseconds, or undefined when the text is not such a duration. */
export function parseDurationMs (text: string): number | undefined {
  const m = DURATION.exec(text)
  if (m === null || text === '') return undefined
  const [h, min, s] = [m[1], m[2], m[3]].map(v => (v === undefined ? 0 : Number(v))) as [number, number, number]
  const ms = ((h * 60 + min) * 60 + s) * 1000
  return Number.isSafeInteger(ms) ? ms : undefined
}
