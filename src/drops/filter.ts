// Subscriber filters for drops (query string of GET /v1/drops and
// /v1/namespaces/{ns}/drops). Every given field must match (AND).
//  - pod: exact name, or a glob when it contains * or ? (e.g. web-*)
//  - peer: case-insensitive substring of the peer as written or of its IP,
//    so `payments` finds `payments`, `payments/ledger` and `payments-db`
//  - port: exact; protocol: case-insensitive after normalising (ICMP matches
//    ICMPv4 and ICMPv6; 6 matches TCP); direction, source, namespace: exact
import { Type, type Static } from '@sinclair/typebox'
import { DropDirectionSchema, DropSourceSchema, type Drop } from './types.ts'
import { normalizeProtocol } from './parse.ts'
import { Names } from '../schemas/names.ts'

// Open (no additionalProperties: false) so routes can compose it with their
// own query fields, e.g. Type.Composite([DropFilterSchema, Type.Object({ limit })]).
export const DropFilterSchema = Type.Object({
  pod: Type.Optional(Type.String({ minLength: 1, maxLength: 253, description: 'Pod name; * and ? are wildcards.' })),
  direction: Type.Optional(DropDirectionSchema),
  peer: Type.Optional(Type.String({ minLength: 1, maxLength: 253, description: 'Case-insensitive substring of the peer name or IP.' })),
  port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
  protocol: Type.Optional(Type.String({ minLength: 1, maxLength: 16, description: 'TCP, UDP, SCTP, ICMP (both versions), ICMPv4, ICMPv6, ...; case-insensitive.' })),
  source: Type.Optional(DropSourceSchema),
  namespace: Type.Optional(Names.namespace('Only drops in this namespace.'))
})
export type DropFilter = Static<typeof DropFilterSchema>

export type DropPredicate = (drop: Drop) => boolean

function globToRegExp (glob: string): RegExp {
  let re = ''
  for (const ch of glob) {
    if (ch === '*') re += '.*'
    else if (ch === '?') re += '.'
    else re += ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&')
  }
  return new RegExp(`^${re}$`, 's')
}

function protocolMatcher (wanted: string): (p: string | null) => boolean {
  const w = wanted.trim().toUpperCase()
  if (w === 'ICMP') return p => p === 'ICMPv4' || p === 'ICMPv6'
  const canonical = normalizeProtocol(wanted)
  return p => p !== null && canonical !== null && p.toUpperCase() === canonical.toUpperCase()
}

/** Compiles a filter once so fan-out to many subscribers does not redo the work per drop. */
export function compileDropFilter (filter: DropFilter): DropPredicate {
  const checks: DropPredicate[] = []
  if (filter.namespace !== undefined) {
    const ns = filter.namespace
    checks.push(d => d.namespace === ns)
  }
  if (filter.pod !== undefined) {
    const pod = filter.pod
    if (/[*?]/.test(pod)) {
      const re = globToRegExp(pod)
      checks.push(d => d.pod !== null && re.test(d.pod))
    } else {
      checks.push(d => d.pod === pod)
    }
  }
  if (filter.direction !== undefined) {
    const dir = filter.direction
    checks.push(d => d.direction === dir)
  }
  if (filter.peer !== undefined) {
    const needle = filter.peer.toLowerCase()
    checks.push(d => (d.peer !== null && d.peer.toLowerCase().includes(needle)) ||
      (d.peerIP !== null && d.peerIP.toLowerCase().includes(needle)))
  }
  if (filter.port !== undefined) {
    const port = filter.port
    checks.push(d => d.port === port)
  }
  if (filter.protocol !== undefined) {
    const match = protocolMatcher(filter.protocol)
    checks.push(d => match(d.protocol))
  }
  if (filter.source !== undefined) {
    const source = filter.source
    checks.push(d => d.source === source)
  }
  return d => checks.every(check => check(d))
}

export function matchesFilter (drop: Drop, filter: DropFilter): boolean {
  return compileDropFilter(filter)(drop)
}
