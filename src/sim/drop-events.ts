// PacketDrop events written the way kube-iptables-tailer (box/kube-iptables-tailer,
// client-go v0.18 record.EventRecorder) and Cilium's drop event emitter write them:
// through the API server (here: the sim's own HTTP API, with the writer's service
// account token, so RBAC applies), with client-go's correlator turning an
// identical repeat into a strategic-merge PATCH of count/lastTimestamp/message.
import type { KObject } from './types.ts'
import type { Store } from './store.ts'
import { rfc3339 } from './store.ts'
import { StatusError, notFound } from './status.ts'

export interface TailerDrop {
  namespace: string
  /** The pod the event is about (sender for `send`, receiver for `receive`). */
  pod: string
  direction: 'send' | 'receive'
  /** How the tailer names the other side (namespace, pod name, node, DNS name or the IP itself). */
  peer: string
  peerIP: string
  /** Destination port (DPT) and protocol (PROTO) of the dropped packet. */
  port: number
  protocol?: string
}

export interface CiliumDrop {
  namespace: string
  /** Destination pod for ingress drops, source pod for egress drops. */
  pod: string
  direction: 'ingress' | 'egress'
  /** Lower-cased drop reason. */
  reason?: string
  /** `<ns>/<pod>`, a reserved identity (`world`, `host`, ...) or an IP. */
  peer: string
  peerIP?: string
  /** `TCP/80`, `UDP/53`, `ICMPv4`, ... or '' (leaves the trailing space, as Cilium does). */
  l4?: string
}

/** getPacketDropMessage of kube-iptables-tailer (no trailing period). */
export function tailerMessage (d: TailerDrop): string {
  const who = d.peer === d.peerIP ? d.peer : `${d.peer} (${d.peerIP})`
  const proto = d.protocol ?? 'TCP'
  return d.direction === 'send'
    ? `Packet dropped when sending traffic to ${who} on port ${d.port}/${proto}`
    : `Packet dropped when receiving traffic from ${who} on port ${d.port}/${proto}`
}

/** The message of Cilium's dropeventemitter. */
export function ciliumMessage (d: CiliumDrop): string {
  const reason = (d.reason ?? 'policy_denied').toLowerCase()
  const who = d.peerIP && d.peerIP !== d.peer ? `${d.peer} (${d.peerIP})` : d.peer
  const l4 = d.l4 ?? ''
  return d.direction === 'ingress'
    ? `Incoming packet dropped (${reason}) from ${who} ${l4}`
    : `Outgoing packet dropped (${reason}) to ${who} ${l4}`
}

export interface EventWriterOptions {
  url: string
  token: string
  /** source.component of the events. */
  component: string
  /** The writer's pod cache (the tailer's informer); read directly, not over HTTP. */
  store: Store
  now?: () => Date
}

interface Observation { name: string, count: number, firstTimestamp: string }

/** One event source with client-go's EventCorrelator cache (identical events → PATCH count+1). */
export class EventWriter {
  readonly #opts: EventWriterOptions
  readonly #seen = new Map<string, Observation>()
  #seq = 0n

  constructor (opts: EventWriterOptions) {
    this.#opts = opts
  }

  async #call (method: string, path: string, body: unknown, contentType: string): Promise<KObject> {
    const res = await fetch(this.#opts.url + path, {
      method,
      headers: { Authorization: `Bearer ${this.#opts.token}`, 'Content-Type': contentType, Accept: 'application/json' },
      body: JSON.stringify(body)
    })
    const json = await res.json() as KObject
    if (!res.ok) throw new StatusError(json as never)
    return json
  }

  /** Records a Warning event about a pod, like recorder.Event(pod, Warning, reason, message). */
  async record (namespace: string, podName: string, reason: string, message: string): Promise<KObject> {
    const pod = this.#opts.store.get('pods', namespace, podName)
    if (!pod) throw notFound('pods', podName)
    const now = (this.#opts.now ?? (() => new Date()))()
    const ts = rfc3339(now)
    const involvedObject = { kind: 'Pod', namespace, name: podName, uid: pod.metadata.uid, apiVersion: 'v1', resourceVersion: pod.metadata.resourceVersion }
    const key = [this.#opts.component, '', 'Pod', namespace, podName, pod.metadata.uid, 'v1', 'Warning', reason, message].join('\u0000')
    const prev = this.#seen.get(key)
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`
    if (prev) {
      const count = prev.count + 1
      try {
        // CreateTwoWayMergePatch(event with count 0 / epoch lastTimestamp / empty message, event)
        const out = await this.#call('PATCH', `${path}/${encodeURIComponent(prev.name)}`, { count, lastTimestamp: ts, message }, 'application/strategic-merge-patch+json')
        this.#seen.set(key, { ...prev, count })
        return out
      } catch (err) {
        if (!(err instanceof StatusError && err.code === 404)) throw err
        const out = await this.#create(path, prev.name, namespace, involvedObject, reason, message, prev.firstTimestamp, ts, count)
        this.#seen.set(key, { ...prev, count })
        return out
      }
    }
    // record.makeEvent: <object name>.<hex unix nanos>
    const nanos = BigInt(now.getTime()) * 1_000_000n + (this.#seq++ % 1_000_000n)
    const name = `${podName}.${nanos.toString(16)}`
    const out = await this.#create(path, name, namespace, involvedObject, reason, message, ts, ts, 1)
    this.#seen.set(key, { name, count: 1, firstTimestamp: ts })
    return out
  }

  #create (path: string, name: string, namespace: string, involvedObject: object, reason: string, message: string, first: string, last: string, count: number): Promise<KObject> {
    const event = {
      kind: 'Event',
      apiVersion: 'v1',
      metadata: { name, namespace, creationTimestamp: null },
      involvedObject,
      reason,
      message,
      source: { component: this.#opts.component },
      firstTimestamp: first,
      lastTimestamp: last,
      count,
      type: 'Warning',
      eventTime: null,
      reportingComponent: '',
      reportingInstance: ''
    }
    return this.#call('POST', path, event, 'application/json')
  }
}

export interface DropWriters {
  /** A kube-iptables-tailer PacketDrop event (reason PacketDrop, source kube-iptables-tailer). */
  tailer (drop: TailerDrop): Promise<KObject>
  /** A Cilium PacketDrop event (reason PacketDrop, source cilium). */
  cilium (drop: CiliumDrop): Promise<KObject>
}

export function createDropWriters (opts: { url: string, store: Store, tailerToken: string, ciliumToken: string, now?: () => Date }): DropWriters {
  const tailer = new EventWriter({ url: opts.url, token: opts.tailerToken, component: 'kube-iptables-tailer', store: opts.store, now: opts.now })
  const cilium = new EventWriter({ url: opts.url, token: opts.ciliumToken, component: 'cilium', store: opts.store, now: opts.now })
  return {
    tailer: (d) => tailer.record(d.namespace, d.pod, 'PacketDrop', tailerMessage(d)),
    cilium: (d) => cilium.record(d.namespace, d.pod, 'PacketDrop', ciliumMessage(d))
  }
}
