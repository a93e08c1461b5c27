// Pure text for the panels: countdowns and drop summaries.
import type { Drop } from './api.ts'

/** `1h 02m`, `14m 03s`, `9s`, or `expired`; empty without an expiry. */
export function countdown (expiresAt: string | undefined, nowMs: number): string {
  if (!expiresAt) return ''
  const left = Math.floor((Date.parse(expiresAt) - nowMs) / 1000)
  if (!Number.isFinite(left)) return ''
  if (left <= 0) return 'expired'
  const h = Math.floor(left / 3600)
  const m = Math.floor((left % 3600) / 60)
  const s = left % 60
  const pad = (n: number): string => String(n).padStart(2, '0')
  if (h > 0) return `${h}h ${pad(m)}m`
  if (m > 0) return `${m}m ${pad(s)}s`
  return `${s}s`
}

/** `web → payments 10.244.2.7 TCP/5432` (egress) or `web ← payments …` (ingress). */
export function dropSummary (d: Drop): string {
  const arrow = d.direction === 'ingress' ? '←' : d.direction === 'egress' ? '→' : '↔'
  const peer = [d.peer, d.peerIP && d.peerIP !== d.peer ? d.peerIP : null].filter(Boolean).join(' ')
  const port = d.protocol || d.port !== null ? `${d.protocol ?? ''}${d.port !== null ? `/${d.port}` : ''}` : ''
  return [d.pod ?? '?', arrow, peer || '?', port].filter(s => s !== '').join(' ')
}

/** `14:03:22` in the browser's time zone; empty for null. */
export function clock (iso: string | null | undefined): string {
  if (!iso) return ''
  const t = new Date(iso)
  return Number.isNaN(t.getTime()) ? '' : t.toLocaleTimeString([], { hour12: false })
}
