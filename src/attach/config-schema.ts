// Configuration of interactive attach, log streaming and stream tickets,
// embedded by src/config.ts as `attach`. Durations are seconds (fractions
// allowed, so tests can use short ones).
import { Type, type Static } from '@sinclair/typebox'

export const AttachRecordingConfigSchema = Type.Object({
  enabled: Type.Boolean({ default: false, description: 'Record each attach session\'s output as an asciicast v2 file, referenced from the attach.end audit record.' }),
  dir: Type.String({ default: './data/recordings', description: 'Directory for the recordings: one <attach-id>.cast per attach, under sessions/<session-id>/ when the container is a gateway debug session (served by GET /v1/sessions/{id}/recording from this replica).' }),
  stdin: Type.Boolean({ default: false, description: 'Also record what the user typed ("i" events). Off by default: input may contain passwords.' }),
  maxBytes: Type.Integer({ minimum: 1024, default: 64 * 1024 * 1024, description: 'Largest recording per session; output beyond it is not recorded (the audit record says truncated).' })
}, { additionalProperties: false, default: {} })
export type AttachRecordingConfig = Static<typeof AttachRecordingConfigSchema>

export const AttachConfigSchema = Type.Object({
  pingIntervalSeconds: Type.Number({ exclusiveMinimum: 0, default: 20, description: 'WebSocket ping to both the client and the API server, so idle load balancers keep the session; a peer that misses a whole interval (and is not behind on reading) is dropped.' }),
  idleTimeoutSeconds: Type.Number({ minimum: 0, default: 1800, description: 'Close a session (4001) after this long without stdin or output; pings do not count, as they do not for the kubelet\'s --streaming-connection-idle-timeout (default 4 h), which would otherwise end the stream without a status: keep this below it. 0 disables.' }),
  maxDurationSeconds: Type.Number({ minimum: 0, default: 4 * 3600, description: 'Longest session (capped further by the policy rule\'s maxTtlSeconds). 0 = only the policy cap.' }),
  maxPayloadBytes: Type.Integer({ minimum: 1024, default: 1024 * 1024, description: 'Largest WebSocket message accepted from a client or the API server (close 1009 beyond).' }),
  highWaterMarkBytes: Type.Integer({ minimum: 1024, default: 1024 * 1024, description: 'Per direction: stop reading from one side when this much is queued toward the other; resume below a quarter of it.' }),
  sendWindowBytes: Type.Integer({ minimum: 0, default: 512 * 1024, description: 'Output toward a client not yet acknowledged (the smallest window): the gateway pings after every quarter of it and stops reading the container\'s output while the window is unanswered. The window grows to 250 ms of what the client acknowledges (its rate measured over at least 100 ms; at most 16 times this), so a reader that keeps up is not held back by its round trip, while a slow reader has about a quarter second of its reading, or this much, in flight (the kernel\'s socket buffers would otherwise queue seconds of output ahead of its pongs and the close). 0 disables (only highWaterMarkBytes then applies).' }),
  fairnessBudgetBytes: Type.Integer({ minimum: 1024, default: 64 * 1024, description: 'Bytes a session relays before yielding to other sessions (one flood cannot starve keystrokes elsewhere: they wait behind about this much of its output).' }),
  exitCodeLookupMs: Type.Integer({ minimum: 0, default: 2000, description: 'After a session ends, how long to look for the container\'s exit code in the pod status (attach reports only Success). 0 disables the lookup.' }),
  ticketTtlSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 300, default: 30, description: 'Lifetime of a stream ticket.' }),
  ticketSecret: Type.Optional(Type.String({ minLength: 32, description: 'HMAC key for stream tickets (≥ 32 chars). Unset = random per process: tickets then work only on the replica that issued them, so multi-replica deployments must set it.' })),
  maxUsedTickets: Type.Integer({ minimum: 100, default: 100000, description: 'Redeemed-ticket ids remembered (until expiry) to refuse reuse; when full, redemptions are refused until some expire.' }),
  recording: AttachRecordingConfigSchema
}, { additionalProperties: false, default: {} })
export type AttachConfig = Static<typeof AttachConfigSchema>
