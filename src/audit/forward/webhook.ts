// The webhook sink: POSTs a batch as {"replica": "...", "records": [ ...the
// records exactly as written... ]} — the record lines are spliced in as they
// are in the file, so a receiver can re-hash them and check the chain. The
// batch's webhook-id is `<replica>:<first seq>-<last seq>`: the same on every
// retry, so receivers can drop a batch they already stored (and single
// records by replica + seq).
//
// Signature: Standard Webhooks (standard-webhooks/standard-webhooks
// spec/standard-webhooks.md "Signature scheme"): webhook-signature is
// `v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">`,
// where body is the request body exactly as sent (gzip'd when gzip is on, so
// the receiver verifies before it decompresses). The key comes from an
// environment variable (a Secret), never from the config file, and never
// appears in logs or errors.
import { createHmac } from 'node:crypto'
import { promisify } from 'node:util'
import { gzip as gzipCb } from 'node:zlib'
import type { AuditWebhookSinkConfig } from '../config-schema.ts'
import type { Delivery } from './forwarder.ts'

const gzip = promisify(gzipCb)

export interface WebhookDeliveryOptions {
  config: AuditWebhookSinkConfig
  replica: string
  /** The HMAC key (from the env var hmacKeyEnv names). */
  hmacKey?: string
  fetch?: typeof fetch
  /** Seconds since the epoch for webhook-timestamp. */
  clock?: () => number
}

export function batchBody (replica: string, lines: string[]): string {
  return `{"replica":${JSON.stringify(replica)},"records":[${lines.join(',')}]}`
}

export function signature (key: string, id: string, timestamp: string, body: Uint8Array): string {
  const mac = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64')
  return `v1,${mac}`
}

export function webhookDelivery (opts: WebhookDeliveryOptions): Delivery {
  const { config, replica, hmacKey } = opts
  const doFetch = opts.fetch ?? fetch
  const clock = opts.clock ?? Date.now
  const url = config.url
  return async (lines, range) => {
    const json = Buffer.from(batchBody(replica, lines), 'utf8')
    const body = config.gzip ? await gzip(json) : json
    const id = `${replica}:${range.firstSeq}-${range.lastSeq}`
    const timestamp = String(Math.floor(clock() / 1000))
    const headers: Record<string, string> = { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': timestamp }
    if (config.gzip) headers['content-encoding'] = 'gzip'
    if (hmacKey !== undefined) headers['webhook-signature'] = signature(hmacKey, id, timestamp, body)
    let res: Response
    try {
      res = await doFetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(config.timeoutMs) })
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } }
      throw new Error(e.name === 'TimeoutError' ? `no answer within ${config.timeoutMs} ms` : `cannot reach the receiver: ${e.cause?.code ?? e.message}`)
    }
    await res.arrayBuffer().catch(() => undefined) // release the connection
    if (res.status < 200 || res.status >= 300) throw new Error(`the receiver answered HTTP ${res.status}`)
  }
}
