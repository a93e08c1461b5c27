// Asks the other replicas for their audit records: the addresses of a
// headless Service (one A/AAAA record per ready pod, kubernetes/kubernetes
// pkg/controller/endpointslice: a Service with clusterIP: None publishes its
// endpoints in DNS) are queried with the caller's own Authorization and
// Impersonate-* headers, so every peer authenticates and authorizes the
// caller itself (SubjectAccessReview for `list auditlogs.kdebug.io`). The
// peer query asks for `replicas=self`, so it never fans out again.
import { lookup } from 'node:dns/promises'
import type { IncomingHttpHeaders } from 'node:http'
import type { Static } from '@sinclair/typebox'
import type { AuditPeersConfigSchema } from './config-schema.ts'

export type AuditPeersConfig = Static<typeof AuditPeersConfigSchema>

export interface PeerAnswer {
  replica?: string
  address?: string
  ok: boolean
  records?: number
  more?: boolean
  error?: string
}

export interface PeerPage {
  replica: string
  records: Array<Record<string, unknown>>
  more: boolean
}

export interface PeerResult extends PeerAnswer {
  page?: PeerPage
}

export interface PeerDeps {
  /** Addresses of the Service (default: DNS). */
  resolve?: (service: string) => Promise<string[]>
  fetch?: typeof fetch
}

const FORWARDED = /^(authorization|impersonate-.+)$/

async function resolveAll (service: string): Promise<string[]> {
  return (await lookup(service, { all: true })).map((a) => a.address)
}

export async function askPeers (cfg: AuditPeersConfig, self: string, requestUrl: string, headers: IncomingHttpHeaders, deps: PeerDeps = {}): Promise<PeerResult[]> {
  if (cfg.service === null) return []
  let addresses: string[]
  try {
    addresses = await (deps.resolve ?? resolveAll)(cfg.service)
  } catch (err) {
    return [{ address: cfg.service, ok: false, error: `cannot resolve ${cfg.service}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }]
  }
  const url = new URL(requestUrl, 'http://peer')
  url.searchParams.set('replicas', 'self')
  const forward: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (FORWARDED.test(name) && value !== undefined) forward[name] = Array.isArray(value) ? value.join(', ') : value
  }
  const doFetch = deps.fetch ?? fetch
  const results = await Promise.all(addresses.map(async (address): Promise<PeerResult> => {
    const host = address.includes(':') ? `[${address}]` : address
    try {
      const res = await doFetch(`${cfg.scheme}://${host}:${cfg.port}${url.pathname}${url.search}`, { headers: forward, signal: AbortSignal.timeout(cfg.timeoutMs) })
      const body = await res.json().catch(() => null) as (PeerPage & { title?: string }) | null
      if (!res.ok || body === null || !Array.isArray(body.records)) {
        return { address, ok: false, error: `HTTP ${res.status}${body?.title ? ` ${body.title}` : ''}` }
      }
      return { replica: body.replica, address, ok: true, records: body.records.length, more: body.more, page: body }
    } catch (err) {
      return { address, ok: false, error: (err as Error).name === 'TimeoutError' ? `no answer within ${cfg.timeoutMs} ms` : (err as Error).message }
    }
  }))
  // This replica answered for itself already (the Service lists it too; its own answer is dropped here).
  return results.filter((r) => r.replica !== self)
}
