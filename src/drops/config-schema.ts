// Configuration of the packet drop stream, embedded by src/config.ts as `drops`.
// Defaults are sized for a few thousand subscribers per replica (bench scenario sse-fanout).
import { Type, type Static } from '@sinclair/typebox'

export const DropsBackoffConfigSchema = Type.Object({
  initialMs: Type.Integer({ minimum: 1, default: 500, description: 'First retry delay of the upstream watch after a failure (full jitter: a random delay up to this).' }),
  maxMs: Type.Integer({ minimum: 1, default: 30000, description: 'Cap of the exponential retry delay of the upstream watch.' })
}, { additionalProperties: false, default: {} })

export const DropsConfigSchema = Type.Object({
  enabled: Type.Boolean({ default: true, description: 'Serve /v1/drops and run the PacketDrop event watch.' }),
  namespaces: Type.Array(Type.String({ minLength: 1, maxLength: 63 }), { default: [], description: 'Namespaces to watch for PacketDrop events; empty = one cluster-wide watch.' }),
  reasons: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, default: ['PacketDrop'], description: 'Event reasons that are drops (kube-iptables-tailer\'s KUBE_EVENT_DISPLAY_REASON is configurable); one watch per reason.' }),
  bufferSize: Type.Integer({ minimum: 1, maximum: 1000000, default: 1000, description: 'Drops kept in memory for Last-Event-ID replay and the JSON list.' }),
  dedupeEntries: Type.Integer({ minimum: 1, default: 10000, description: 'Drop ids remembered so resumed watches and re-lists do not resend drops.' }),
  heartbeatSeconds: Type.Number({ minimum: 0.01, default: 15, description: 'Interval of the SSE heartbeat comment (keeps proxies from closing idle streams).' }),
  retryMs: Type.Integer({ minimum: 0, default: 3000, description: 'SSE `retry:` hint: how long clients wait before reconnecting.' }),
  maxBacklogBytes: Type.Integer({ minimum: 1024, default: 262144, description: 'Unsent bytes a subscriber may fall behind before it is disconnected.' }),
  permissionRecheckSeconds: Type.Number({ minimum: 0.01, default: 60, description: 'How often a stream re-checks that its caller may still list events in a namespace.' }),
  maxSubscribers: Type.Integer({ minimum: 1, default: 10000, description: 'Open SSE streams per replica; more are refused with 503.' }),
  watchTimeoutSeconds: Type.Integer({ minimum: 1, default: 300, description: 'timeoutSeconds asked of the API server per watch; the watch then resumes from its last resourceVersion.' }),
  listPageSize: Type.Integer({ minimum: 1, default: 500, description: 'Page size (limit) of the LIST that starts and restarts the watch.' }),
  backoff: DropsBackoffConfigSchema
}, { additionalProperties: false, default: {} })

export type DropsConfig = Static<typeof DropsConfigSchema>
