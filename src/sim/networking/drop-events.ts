// PacketDrop events written the way kube-iptables-tailer (box/kube-iptables-tailer,
// client-go v0.18 record.EventRecorder) and Cilium's drop event emitter write them:
// through the API server (here: the sim's own HTTP API, with the writer's service
// account token, so RBAC applies), with client-go's correlator turning an
// identical repeat into a strategic-merge PATCH of count/lastTimestamp/message.
import type { KObject } from '../apimachinery/types.ts'
import type { Store } from '../storage/store.ts'
import { rfc3339 } from '../storage/store.ts'
import { StatusError, notFound } from '../apimachinery/status.ts'

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

/** client-go record.CorrelatorOptions (zero values mean the client-go defaults). */
export interface CorrelatorOptions {
  /** Similar events (same source, object, type, reason) with more distinct messages than this within the interval are aggregated (default 10). */
  maxEvents?: number
  maxIntervalSeconds?: number
  /** Message of an aggregated event (default: `(combined from similar events): ` + message). */
  messageFunc?: (message: string) => string
  /** Spam filter token bucket per source+object+type+reason: burst (default 25) and refill interval (default 300 s). */
  burst?: number
  refillSeconds?: number
}

export interface EventWriterOptions {
  url: string
  token: string
  /** source.component of the events. */
  component: string
  /** The writer's pod cache (the tailer's informer); read directly, not over HTTP. */
  store: Store
  correlator?: CorrelatorOptions
  now?: () => Date
}

interface Observation { name: string, count: number, firstTimestamp: string }
interface AggregateRecord { localKeys: Set<string>, last: number }
interface Bucket { tokens: number, at: number }

export interface InvolvedObject { kind: 'Pod', namespace: string, name: string, uid?: string, apiVersion: 'v1', resourceVersion?: string }

/**
 * One event source with client-go's EventCorrelator (tools/record/events_cache.go):
 * aggregation of similar events, the observation cache (identical key → PATCH
 * count+1/lastTimestamp/message) and the per-object spam filter (skipped events
 * are still counted, so a later write carries the total).
 */
export class EventWriter {
  readonly #opts: EventWriterOptions
  readonly #observed = new Map<string, Observation>()
  readonly #aggregates = new Map<string, AggregateRecord>()
  readonly #buckets = new Map<string, Bucket>()
  #seq = 0n

  constructor (opts: EventWriterOptions) {
    this.#opts = opts
  }

  #now (): Date { return (this.#opts.now ?? (() => new Date()))() }

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

  #eventName (objectName: string, now: Date): string {
    // record.makeEvent: <object name>.<hex unix nanos>
    const nanos = BigInt(now.getTime()) * 1_000_000n + (this.#seq++ % 1_000_000n)
    return `${objectName}.${nanos.toString(16)}`
  }

  /**
   * Records a Warning event about a pod (recorder.Event(pod, Warning, reason, message)).
   * Resolves to the stored Event, or undefined when the spam filter held it back.
   */
  async record (involvedObject: InvolvedObject, reason: string, message: string): Promise<KObject | undefined> {
    const c = this.#opts.correlator ?? {}
    const now = this.#now()
    const ts = rfc3339(now)
    const io = involvedObject
    const base = [this.#opts.component, '', io.kind, io.namespace, io.name, io.uid ?? '', io.apiVersion, 'Warning', reason]
    // EventAggregate
    const aggregateKey = base.join('')
    let key = [...base, message].join('')
    let msg = message
    let name = ''
    const maxEvents = c.maxEvents ?? 10
    const rec = this.#aggregates.get(aggregateKey)
    const fresh = !rec || now.getTime() - rec.last > (c.maxIntervalSeconds ?? 600) * 1000
    const record = fresh ? { localKeys: new Set<string>(), last: 0 } : rec
    record.localKeys.add(message)
    record.last = now.getTime()
    this.#aggregates.set(aggregateKey, record)
    if (record.localKeys.size >= maxEvents) {
      const first = record.localKeys.values().next().value
      if (first !== undefined) record.localKeys.delete(first)
      msg = (c.messageFunc ?? ((m: string) => `(combined from similar events): ${m}`))(message)
      key = aggregateKey
      name = this.#eventName(io.name, now)
    }
    // eventObserve
    const prev = this.#observed.get(key)
    const count = prev ? prev.count + 1 : 1
    if (!name) name = prev?.name ?? this.#eventName(io.name, now)
    if (prev) name = prev.name
    const firstTimestamp = prev?.firstTimestamp ?? ts
    this.#observed.set(key, { name, count, firstTimestamp })
    // spam filter (token bucket per source + object + type + reason)
    const burst = c.burst ?? 25
    const refillMs = (c.refillSeconds ?? 300) * 1000
    const b = this.#buckets.get(aggregateKey) ?? { tokens: burst, at: now.getTime() }
    b.tokens = Math.min(burst, b.tokens + (now.getTime() - b.at) / refillMs)
    b.at = now.getTime()
    this.#buckets.set(aggregateKey, b)
    if (b.tokens < 1) return undefined
    b.tokens -= 1

    const path = `/api/v1/namespaces/${encodeURIComponent(io.namespace)}/events`
    if (prev) {
      try {
        // CreateTwoWayMergePatch(event with count 0 / epoch lastTimestamp / empty message, event)
        return await this.#call('PATCH', `${path}/${encodeURIComponent(name)}`, { count, lastTimestamp: ts, message: msg }, 'application/strategic-merge-patch+json')
      } catch (err) {
        // the event may have been removed (TTL): create it again with the same name and count
        if (!(err instanceof StatusError && err.code === 404)) throw err
      }
    }
    return this.#create(path, name, io, reason, msg, firstTimestamp, ts, count)
  }

  #create (path: string, name: string, io: InvolvedObject, reason: string, message: string, first: string, last: string, count: number): Promise<KObject> {
    const event = {
      kind: 'Event',
      apiVersion: 'v1',
      metadata: { name, namespace: io.namespace, creationTimestamp: null },
      involvedObject: io,
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
  /** A kube-iptables-tailer PacketDrop event (undefined when client-go's spam filter held it back). */
  tailer (drop: TailerDrop): Promise<KObject | undefined>
  /** A Cilium PacketDrop event (burst 1 per interval and pod: repeats inside the interval are only counted). */
  cilium (drop: CiliumDrop): Promise<KObject | undefined>
}

export interface DropWriterOptions {
  url: string
  store: Store
  tailerToken: string
  ciliumToken: string
  /** Cilium's --hubble-drop-events-interval (default 2 min). */
  ciliumIntervalSeconds?: number
  /** Overrides of the tailer's correlator (client-go v0.18 defaults otherwise). */
  tailerCorrelator?: CorrelatorOptions
  now?: () => Date
}

export function createDropWriters (opts: DropWriterOptions): DropWriters {
  const interval = opts.ciliumIntervalSeconds ?? 120
  const tailer = new EventWriter({ url: opts.url, token: opts.tailerToken, component: 'kube-iptables-tailer', store: opts.store, now: opts.now, correlator: opts.tailerCorrelator })
  // dropeventemitter.go: NewBroadcasterWithCorrelatorOptions{BurstSize 1, QPS 1/interval, MaxEvents 1, MaxIntervalInSeconds interval, MessageFunc: message}
  const cilium = new EventWriter({ url: opts.url, token: opts.ciliumToken, component: 'cilium', store: opts.store, now: opts.now, correlator: { burst: 1, refillSeconds: interval, maxEvents: 1, maxIntervalSeconds: interval, messageFunc: m => m } })
  return {
    tailer: (d) => {
      // reference.GetReference on the informer's pod: uid and resourceVersion included
      const pod = opts.store.get('pods', d.namespace, d.pod)
      if (!pod) return Promise.reject(notFound('pods', d.pod))
      return tailer.record({ kind: 'Pod', namespace: d.namespace, name: d.pod, uid: pod.metadata.uid, apiVersion: 'v1', resourceVersion: pod.metadata.resourceVersion }, 'PacketDrop', tailerMessage(d))
    },
    cilium: (d) => {
      // ingress: the destination pod by name only; egress: the source pod with its UID when cached
      const io: InvolvedObject = { kind: 'Pod', namespace: d.namespace, name: d.pod, apiVersion: 'v1' }
      if (d.direction === 'egress') {
        const uid = opts.store.get('pods', d.namespace, d.pod)?.metadata.uid
        if (uid) io.uid = uid
      }
      return cilium.record(io, 'PacketDrop', ciliumMessage(d))
    }
  }
}
