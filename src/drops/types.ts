// The structured packet drop: what parse.ts makes of a PacketDrop Event, and
// the payload of SSE `drop` / `drop-update` events and of the JSON list.
import { Type, type Static } from '@sinclair/typebox'

const NullableString = (description: string) =>
  Type.Union([Type.String(), Type.Null()], { description })

export const DropDirectionSchema = Type.Union([
  Type.Literal('ingress'),
  Type.Literal('egress')
], { description: 'ingress: the pod received the dropped packet; egress: the pod sent it.' })
export type DropDirection = Static<typeof DropDirectionSchema>

export const DropSourceSchema = Type.Union([
  Type.Literal('kube-iptables-tailer'),
  Type.Literal('cilium'),
  Type.Literal('other')
], { description: 'Producer, from source.component, else from the message format.' })
export type DropSource = Static<typeof DropSourceSchema>

export const DropSchema = Type.Object({
  id: Type.String({ description: "Stable id: the Event's metadata.uid, else namespace/name." }),
  time: NullableString('Latest occurrence: lastTimestamp, else series.lastObservedTime, eventTime, firstTimestamp, creationTimestamp.'),
  firstTime: NullableString('First occurrence: firstTimestamp, else eventTime, else creationTimestamp.'),
  namespace: Type.String({ description: 'Namespace of the Event (the pod that saw the drop).' }),
  pod: NullableString('involvedObject.name when involvedObject.kind is Pod.'),
  direction: Type.Union([DropDirectionSchema, Type.Null()]),
  peer: NullableString('The other side as the producer wrote it: a namespace, pod name, ns/pod, label value, node or DNS name, reserved identity (world, remote-node, ...) or an IP.'),
  peerNamespace: NullableString('Set when the peer is written as namespace/pod.'),
  peerPod: NullableString('Set when the peer is written as namespace/pod.'),
  peerIP: NullableString('IPv4 or IPv6 address of the peer when the message has one.'),
  port: Type.Union([Type.Integer({ minimum: 0, maximum: 65535 }), Type.Null()], { description: 'Destination port.' }),
  protocol: NullableString('Upper-case: TCP, UDP, SCTP, UDPLITE, ICMPv4, ICMPv6, VRRP, IGMP, or as logged.'),
  count: Type.Integer({ minimum: 1, description: 'Event count (repeats of the same drop).' }),
  node: NullableString('source.host, else reportingInstance, else null (neither producer sets them today).'),
  source: DropSourceSchema,
  sourceComponent: Type.String({ description: 'Raw source.component (else reportingComponent), may be empty.' }),
  dropReason: NullableString("Cilium's drop reason, e.g. policy_denied."),
  policies: Type.Array(Type.String(), { description: 'Kind/name of the policies Cilium listed, else empty.' }),
  policyRelation: Type.Union([Type.Literal('denied-by'), Type.Literal('applied'), Type.Null()], {
    description: "Cilium's wording: 'Denied by' names the denying policies, 'Applied' only the policies in force."
  }),
  combined: Type.Boolean({ description: "client-go's '(combined from similar events): ' prefix was present." }),
  message: Type.String({ description: 'The raw Event message.' }),
  resourceVersion: NullableString('metadata.resourceVersion of the Event.')
}, { $id: 'Drop', additionalProperties: false })
export type Drop = Static<typeof DropSchema>

export const DropMessageFormatSchema = Type.Union([
  Type.Literal('tailer'),
  Type.Literal('cilium'),
  Type.Literal('unknown')
])
export type DropMessageFormat = Static<typeof DropMessageFormatSchema>

/** What parseDropMessage() extracts from the message text alone. */
export interface ParsedDropMessage {
  direction: DropDirection | null
  peer: string | null
  peerNamespace: string | null
  peerPod: string | null
  peerIP: string | null
  port: number | null
  protocol: string | null
  dropReason: string | null
  policies: string[]
  policyRelation: 'denied-by' | 'applied' | null
  combined: boolean
  format: DropMessageFormat
}

export type DropEventKind = 'drop' | 'drop-update'
