// Configuration of the audit log, embedded by src/config.ts as `audit`.
// Rotation follows kube-apiserver's log backend (--audit-log-maxsize,
// --audit-log-maxage, --audit-log-maxbackup, which rotate with lumberjack);
// forwarding follows its webhook backend (batches, bounded retries with
// backoff) but never drops a batch: every sink keeps a persisted cursor and
// retention waits for it (at-least-once, like Vector's and Fluent Bit's
// file sources with their checkpoint files).
import { Type, type Static } from '@sinclair/typebox'

export const AuditRotationConfigSchema = Type.Object({
  maxBytes: Type.Integer({ minimum: 4096, default: 104857600, description: 'Rotate the active file once it holds this many bytes (a file may exceed it by one batch). The disk budget is maxBytes × (maxFiles + 1).' }),
  maxAgeHours: Type.Number({ minimum: 0, default: 24, description: 'Rotate the active file once its first record is this old (checked at the next write); 0 = never by age.' }),
  maxFiles: Type.Integer({ minimum: 1, default: 10, description: 'Rotated files kept besides the active one. Older ones are deleted only once every forwarder acknowledged them; if one has not, the budget is reached and mutating requests are refused (503) until it catches up.' })
}, { additionalProperties: false, default: {} })

export const AuditWebhookSinkSchema = Type.Object({
  type: Type.Literal('webhook'),
  name: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$', description: 'Names the sink\'s cursor file and metrics (default: webhook, webhook-2, …).' })),
  url: Type.String({ pattern: '^https?://', description: 'Receiver of POSTed batches {"replica","records":[…]}.' }),
  gzip: Type.Boolean({ default: false, description: 'Send batches with Content-Encoding: gzip.' }),
  hmacKeyEnv: Type.Optional(Type.String({ pattern: '^[A-Z_][A-Z0-9_]*$', description: 'Environment variable holding the HMAC key (set it from a Secret): each batch is signed like Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">).' })),
  batchMaxRecords: Type.Integer({ minimum: 1, maximum: 10000, default: 500, description: 'Records per POST at most.' }),
  timeoutMs: Type.Integer({ minimum: 100, default: 10000, description: 'Timeout of one POST.' }),
  maxAttempts: Type.Integer({ minimum: 1, default: 5, description: 'Attempts per batch before the sink is reported down (it keeps retrying every maxBackoffMs; nothing is dropped).' }),
  initialBackoffMs: Type.Integer({ minimum: 1, default: 500, description: 'First retry delay (doubles per attempt, with jitter).' }),
  maxBackoffMs: Type.Integer({ minimum: 1, default: 30000, description: 'Cap of the retry delay.' })
}, { additionalProperties: false })

export const AuditStdoutSinkSchema = Type.Object({
  type: Type.Literal('stdout'),
  name: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' })),
  batchMaxRecords: Type.Integer({ minimum: 1, maximum: 10000, default: 500 })
}, { additionalProperties: false })

export const AuditSinkSchema = Type.Union([AuditWebhookSinkSchema, AuditStdoutSinkSchema])

export const AuditAnchorConfigSchema = Type.Object({
  intervalSeconds: Type.Number({ minimum: 0, default: 60, description: 'Every this many seconds each replica writes its chain head (seq, hash, time) to a Lease labelled kdebug.io/audit-anchor=<replica>; 0 disables anchoring.' }),
  namespace: Type.String({ minLength: 1, maxLength: 63, default: 'kdebug', description: 'Namespace of the anchor Leases (the gateway needs get/create/update leases there; deploy/lease-role.yaml).' })
}, { additionalProperties: false, default: {} })

export const AuditPeersConfigSchema = Type.Object({
  service: Type.Union([Type.String({ minLength: 1 }), Type.Null()], { default: null, description: 'DNS name of a headless Service whose addresses are the replicas (e.g. kdebug-gateway-peers.kdebug.svc): GET /v1/audit?replicas=all asks each of them with the caller\'s own credentials. null: only this replica answers.' }),
  port: Type.Integer({ minimum: 1, maximum: 65535, default: 8080, description: 'Port the peers listen on.' }),
  scheme: Type.Union([Type.Literal('http'), Type.Literal('https')], { default: 'http', description: 'Scheme of peer requests.' }),
  timeoutMs: Type.Integer({ minimum: 100, default: 5000, description: 'Timeout of one peer query.' })
}, { additionalProperties: false, default: {} })

export const AuditConfigSchema = Type.Object({
  file: Type.Union([Type.String(), Type.Null()], { default: './data/audit.log', description: 'Active append-only, hash-chained JSON lines file (rotated files sit beside it as FILE.<first seq>); null disables the file sink.' }),
  stdout: Type.Boolean({ default: false, description: 'Audit records on stdout, alone (application logs then go to stderr). With a file this is a forwarder with its own cursor; without one, stdout is the only sink.' }),
  replica: Type.Optional(Type.String({ description: 'Name of this replica in records (default: the host name).' })),
  rotation: AuditRotationConfigSchema,
  forward: Type.Array(AuditSinkSchema, { default: [], description: 'Forwarders (at-least-once, persisted cursor each), e.g. [{"type":"webhook","url":"https://audit.example.com/in","gzip":true,"hmacKeyEnv":"KDEBUG_AUDIT_WEBHOOK_KEY"}]. Needs audit.file.' }),
  drainSeconds: Type.Number({ minimum: 0, default: 5, description: 'On shutdown, how long forwarders may keep delivering their backlog after the log closed (keep terminationGracePeriodSeconds above server.shutdownGraceMs plus this).' }),
  anchor: AuditAnchorConfigSchema,
  peers: AuditPeersConfigSchema
}, { additionalProperties: false, default: {} })

export type AuditConfig = Static<typeof AuditConfigSchema>
export type AuditRotationConfig = Static<typeof AuditRotationConfigSchema>
export type AuditSinkConfig = Static<typeof AuditSinkSchema>
export type AuditWebhookSinkConfig = Static<typeof AuditWebhookSinkSchema>

/** What the schema cannot say: forwarders read the files, and each needs its own cursor name. */
export function auditConfigProblem (config: AuditConfig): string | null {
  if (config.file === null && config.forward.length > 0) return 'audit.forward needs audit.file (forwarders read the records from the files)'
  const names = config.forward.map((s) => s.name).filter((n) => n !== undefined)
  const dup = names.find((n, i) => names.indexOf(n) !== i)
  return dup === undefined ? null : `audit.forward: two sinks are named ${dup} (each keeps its own cursor)`
}
