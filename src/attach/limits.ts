// How long an attach session may last. Pure.
import type { StreamAccess } from '../policy/stream-access.ts'
import { CloseCode } from './relay/close-codes.ts'

/** The longest a session may last: the configured maximum capped by the policy rule's TTL (0 = no limit). */
export function sessionLimitMs (configSeconds: number, ruleMaxTtlSeconds: number | undefined): number {
  const caps = [configSeconds, ruleMaxTtlSeconds ?? 0].filter(s => s > 0)
  return caps.length === 0 ? 0 : Math.min(...caps) * 1000
}

/** The session limit further capped by the debug session's remaining TTL, closing with 4004 when that is what ends it. */
export function attachLimit (limitMs: number, access: Pick<StreamAccess, 'expiresAtMs'>, nowMs: number): { maxDurationMs: number, close?: { code: number, reason: string } } {
  if (access.expiresAtMs === undefined) return { maxDurationMs: limitMs }
  const remaining = Math.max(1, access.expiresAtMs - nowMs)
  if (limitMs > 0 && limitMs <= remaining) return { maxDurationMs: limitMs }
  return { maxDurationMs: remaining, close: { code: CloseCode.sessionExpired, reason: 'debug session expired' } }
}
