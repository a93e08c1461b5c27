// Stream URLs, pure: where a terminal connects.
const enc = encodeURIComponent

/** The attach path of a container, as the gateway's own `attach.url` spells it. */
export function attachPath (namespace: string, pod: string, container: string): string {
  return `/v1/namespaces/${enc(namespace)}/pods/${enc(pod)}/attach?container=${enc(container)}`
}

/** The attach URL as a ws(s): URL on the console's origin (the gateway's `attach.url` may be absolute, from publicUrl). */
export function attachTarget (attachUrl: string, base: string): URL {
  const given = new URL(attachUrl, base)
  const url = new URL(given.pathname + given.search, base)
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
  return url
}

/** A fresh session's terminal: its `attach.url` (else the container's path), waiting up to 30 s for a container still starting. */
export function startedAttachUrl (ns: string, pod: string, container: string, url: string | undefined, running: boolean, base: string): string {
  const u = new URL(url ?? attachPath(ns, pod, container), base)
  if (!running) u.searchParams.set('wait', '30')
  return u.pathname + u.search
}

export interface DropFilters {
  direction?: '' | 'ingress' | 'egress'
  protocol?: string
  pod?: string
  /** History on connect, a duration such as `10m`; empty: live only. */
  since?: string
}

/** Pure: the stream's query string (without the ticket). */
export function dropsQuery (filters: DropFilters, lastEventId?: string): URLSearchParams {
  const q = new URLSearchParams()
  if (filters.direction) q.set('direction', filters.direction)
  if (filters.protocol?.trim()) q.set('protocol', filters.protocol.trim())
  if (filters.pod?.trim()) q.set('pod', filters.pod.trim())
  // A resumed stream continues after the last event; history again would repeat it.
  if (lastEventId) q.set('lastEventId', lastEventId)
  else if (filters.since) q.set('since', filters.since)
  return q
}
