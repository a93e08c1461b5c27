// Turns PacketDrop Events (core/v1, as kube-iptables-tailer and Cilium write
// them) into structured drops. Message formats, verified in source:
//   tailer (event/locator.go getPacketDropMessage, versions over time):
//     Packet dropped when sending traffic to <peer>[ (<ip>)]
//     Packet dropped when receiving traffic from <peer>[ (<ip>)] on port <dpt>/<PROTO>
//     ... on port <dpt>/<PROTO> (emitted from: <tailer pod>/<tailer ip>)   (one version)
//     the README example ends with '.'; ' (<ip>)' is left out when peer == ip.
//   cilium (pkg/hubble/dropeventemitter):
//     Incoming packet dropped (<reason>) from <peer> <l4>
//     Outgoing packet dropped (<reason>) to <peer> <l4>[.][ Denied by policies: K/n,K/n.][ ...clusterwide policies: ...]
//     peer: ns/pod (ip) | <reserved identity> (ip) | ip; l4: TCP/n, UDP/n, ICMPv4, ICMPv6, SCTP, IGMP, VRRP or ''.
//   client-go's aggregator may prefix '(combined from similar events): '.
import { isIP } from 'node:net'
import type { Drop, DropSource, ParsedDropMessage } from './types.ts'

export const COMBINED_PREFIX = '(combined from similar events): '

const TAILER_HEAD = /^Packet dropped when (sending traffic to|receiving traffic from) ?(.*)$/s
const TAILER_REST = /^(\S*)(?: \(([^()\s]*)\))?(?: on port ([^\s/]*)\/([A-Za-z0-9]*))?(.*)$/s
const CILIUM_HEAD = /^(Incoming|Outgoing) packet dropped \(([^)]*)\) (?:from|to) (.*)$/s
// 'Denied'/'Applied' start the policy detail; they are never an l4 protocol.
const CILIUM_REST = /^(\S+)(?: \(([^()\s]*)\))? ?((?:TCP|UDP)\/\d+|(?!Denied\b|Applied\b)[A-Z][A-Za-z0-9]*)?(.*)$/s
// Policy names may contain dots, so a list ends at a '.' followed by space or end.
const POLICY_LIST = /(Denied by|Applied) (?:clusterwide )?policies: (\S+?)\.(?=\s|$)/g
const NS_POD = /^([^/\s]+)\/([^/\s]+)$/

const PROTOCOLS: Record<string, string> = {
  tcp: 'TCP',
  udp: 'UDP',
  udplite: 'UDPLITE',
  sctp: 'SCTP',
  icmp: 'ICMPv4',
  icmpv4: 'ICMPv4',
  icmpv6: 'ICMPv6',
  ipv6icmp: 'ICMPv6',
  igmp: 'IGMP',
  vrrp: 'VRRP',
  // iptables logs PROTO=<number> for protocols it has no name for
  1: 'ICMPv4',
  2: 'IGMP',
  6: 'TCP',
  17: 'UDP',
  58: 'ICMPv6',
  112: 'VRRP',
  132: 'SCTP',
  136: 'UDPLITE'
}

/** Canonical protocol name: TCP, UDP, ICMPv4 (also for iptables' ICMP), ...; unknown names upper-cased. */
export function normalizeProtocol (raw: string | null | undefined): string | null {
  if (raw == null) return null
  const s = raw.trim()
  if (s === '') return null
  return PROTOCOLS[s.toLowerCase().replace(/[^a-z0-9]/g, '')] ?? s.toUpperCase()
}

function emptyParse (combined: boolean): ParsedDropMessage {
  return {
    direction: null,
    peer: null,
    peerNamespace: null,
    peerPod: null,
    peerIP: null,
    port: null,
    protocol: null,
    dropReason: null,
    policies: [],
    policyRelation: null,
    combined,
    format: 'unknown'
  }
}

function toPort (raw: string | undefined): number | null {
  if (raw === undefined || !/^\d{1,5}$/.test(raw)) return null
  const n = Number(raw)
  return n <= 65535 ? n : null
}

function peerFields (peer: string | null, ipInParens: string | undefined): Pick<ParsedDropMessage, 'peer' | 'peerNamespace' | 'peerPod' | 'peerIP'> {
  let peerIP: string | null = null
  if (ipInParens !== undefined && isIP(ipInParens) !== 0) peerIP = ipInParens
  else if (peer !== null && isIP(peer) !== 0) peerIP = peer
  const nsPod = peer === null ? null : NS_POD.exec(peer)
  return {
    peer,
    peerNamespace: nsPod?.[1] ?? null,
    peerPod: nsPod?.[2] ?? null,
    peerIP
  }
}

function parseTailer (head: RegExpExecArray, combined: boolean): ParsedDropMessage {
  const rest = TAILER_REST.exec(head[2] ?? '')
  let peer = rest?.[1] ?? ''
  const ip = rest?.[2]
  const portRaw = rest?.[3]
  const proto = rest?.[4]
  const trailer = rest?.[5] ?? ''
  // "... to 10.1.2.3." : a sentence period, not part of the peer
  if (ip === undefined && portRaw === undefined && trailer === '' && peer.endsWith('.')) peer = peer.slice(0, -1)
  return {
    ...emptyParse(combined),
    ...peerFields(peer === '' ? null : peer, ip),
    direction: head[1] === 'sending traffic to' ? 'egress' : 'ingress',
    port: toPort(portRaw),
    protocol: portRaw === undefined ? null : normalizeProtocol(proto),
    format: 'tailer'
  }
}

function parsePolicies (detail: string): Pick<ParsedDropMessage, 'policies' | 'policyRelation'> {
  const policies: string[] = []
  let relation: ParsedDropMessage['policyRelation'] = null
  for (const m of detail.matchAll(POLICY_LIST)) {
    if (m[1] === 'Denied by') relation = 'denied-by'
    else relation ??= 'applied'
    for (const name of (m[2] ?? '').split(',')) {
      if (name !== '' && !policies.includes(name)) policies.push(name)
    }
  }
  return { policies, policyRelation: policies.length > 0 ? relation : null }
}

function parseCilium (head: RegExpExecArray, combined: boolean): ParsedDropMessage {
  const rest = CILIUM_REST.exec(head[3] ?? '')
  const l4 = rest?.[3]
  const slash = l4?.indexOf('/') ?? -1
  const detail = (rest?.[4] ?? '').replace(/^\s*\./, '').trim()
  return {
    ...emptyParse(combined),
    ...peerFields(rest?.[1] ?? null, rest?.[2]),
    ...parsePolicies(detail),
    direction: head[1] === 'Incoming' ? 'ingress' : 'egress',
    dropReason: head[2] === '' ? null : (head[2] ?? null),
    port: l4 !== undefined && slash > 0 ? toPort(l4.slice(slash + 1)) : null,
    protocol: normalizeProtocol(l4 !== undefined && slash > 0 ? l4.slice(0, slash) : l4),
    format: 'cilium'
  }
}

/** Parses the message text alone; never throws. Unknown text gives format 'unknown' and null fields. */
export function parseDropMessage (message: string): ParsedDropMessage {
  let text = typeof message === 'string' ? message : ''
  const combined = text.startsWith(COMBINED_PREFIX)
  if (combined) text = text.slice(COMBINED_PREFIX.length)
  // Cilium leaves a trailing space when it has no l4 protocol name
  text = text.trim()
  const tailer = TAILER_HEAD.exec(text)
  if (tailer !== null) return parseTailer(tailer, combined)
  const cilium = CILIUM_HEAD.exec(text)
  if (cilium !== null) return parseCilium(cilium, combined)
  return emptyParse(combined)
}

type Obj = Record<string, unknown>

function obj (v: unknown): Obj | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Obj : undefined
}

function str (v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined
}

function firstString (...vals: unknown[]): string | null {
  for (const v of vals) {
    const s = str(v)
    if (s !== undefined) return s
  }
  return null
}

function sourceOf (component: string, format: ParsedDropMessage['format']): DropSource {
  if (component === 'kube-iptables-tailer' || component === 'cilium') return component
  // the tailer's component name is configurable (KUBE_EVENT_SOURCE_COMPONENT_NAME)
  if (format === 'tailer') return 'kube-iptables-tailer'
  if (format === 'cilium') return 'cilium'
  return 'other'
}

export interface ParseDropEventOptions {
  /** Event reasons treated as drops (the tailer's is configurable). Default ['PacketDrop']. */
  reasons?: readonly string[]
}

/**
 * A core/v1 Event (also tolerates events.k8s.io/v1 field names) → Drop.
 * undefined when it is not a drop event or lacks a namespace or an identity.
 */
export function parseDropEvent (event: unknown, options: ParseDropEventOptions = {}): Drop | undefined {
  const ev = obj(event)
  if (ev === undefined) return undefined
  const reasons = options.reasons ?? ['PacketDrop']
  const reason = str(ev.reason)
  if (reason === undefined || !reasons.includes(reason)) return undefined

  const meta = obj(ev.metadata) ?? {}
  const involved = obj(ev.involvedObject) ?? obj(ev.regarding) ?? {}
  const source = obj(ev.source) ?? obj(ev.deprecatedSource) ?? {}
  const series = obj(ev.series) ?? {}

  const namespace = firstString(meta.namespace, involved.namespace)
  const uid = str(meta.uid)
  const name = str(meta.name)
  if (namespace === null || (uid === undefined && name === undefined)) return undefined

  const message = typeof ev.message === 'string' ? ev.message : (typeof ev.note === 'string' ? ev.note : '')
  const parsed = parseDropMessage(message)
  const sourceComponent = firstString(source.component, ev.reportingComponent, ev.reportingController) ?? ''
  const rawCount = [ev.count, series.count, ev.deprecatedCount].find(c => typeof c === 'number' && Number.isInteger(c) && c > 0)

  return {
    id: uid ?? `${namespace}/${name ?? ''}`,
    time: firstString(ev.lastTimestamp, series.lastObservedTime, ev.eventTime, ev.firstTimestamp, meta.creationTimestamp),
    firstTime: firstString(ev.firstTimestamp, ev.eventTime, meta.creationTimestamp),
    namespace,
    pod: involved.kind === 'Pod' ? firstString(involved.name) : null,
    direction: parsed.direction,
    peer: parsed.peer,
    peerNamespace: parsed.peerNamespace,
    peerPod: parsed.peerPod,
    peerIP: parsed.peerIP,
    port: parsed.port,
    protocol: parsed.protocol,
    count: typeof rawCount === 'number' ? rawCount : 1,
    node: firstString(source.host, ev.reportingInstance),
    source: sourceOf(sourceComponent, parsed.format),
    sourceComponent,
    dropReason: parsed.dropReason,
    policies: parsed.policies,
    policyRelation: parsed.policyRelation,
    combined: parsed.combined,
    message,
    resourceVersion: firstString(meta.resourceVersion)
  }
}
