// The AsyncAPI 3 document for what OpenAPI cannot describe: the attach
// WebSocket (kdebug.v1 messages; the Kubernetes channel protocols are passed
// through) and the packet drop Server-Sent Events stream. Built from the same
// schemas the routes validate with and the messages the code sends, written to
// openapi/asyncapi.yaml by `npm run openapi` (a test checks for drift and
// validates it with @asyncapi/parser). Prose: openapi/attach.md, openapi/drops.md.
import { stringify } from 'yaml'
import type { TSchema } from '@sinclair/typebox'
import { API_VERSION } from './plugins/openapi.ts'
import { AttachQuerySchema } from './attach/schemas.ts'
import { DropSchema } from './drops/types.ts'
import { KDEBUG_CLIENT_MESSAGES, KDEBUG_SERVER_MESSAGES } from './attach/kdebug-messages.ts'

/** Plain JSON Schema: TypeBox's symbol keys and `$id`s dropped (the components' names are the ids). */
function plain (schema: TSchema): Record<string, unknown> {
  const { $id: _id, ...rest } = JSON.parse(JSON.stringify(schema)) as Record<string, unknown>
  return rest
}

const ref = (path: string): { $ref: string } => ({ $ref: `#/${path}` })

/** kdebug.v1 control message name in the document: `KdebugResize` → `resize`. */
function messageName (schema: TSchema): string {
  return String((schema.properties as { type: { const: string } }).type.const)
}

/** The SSE events of a drop stream, with the payload of their `data:` line. */
export const DROP_STREAM_EVENTS: Record<string, { summary: string, payload: Record<string, unknown> }> = {
  drop: { summary: 'A new packet drop.', payload: ref('components/schemas/Drop') },
  'drop-update': { summary: 'The same drop (same `id`) again: a higher `count` and a newer `time`. Replace your copy.', payload: ref('components/schemas/Drop') },
  reset: {
    summary: 'The Last-Event-ID sent is no longer held (too old, another replica or process): re-read the JSON list if you keep state; the stream goes on live.',
    payload: { type: 'object', required: ['reason'], properties: { reason: { const: 'too-old' }, lastEventId: { type: 'string' } } }
  },
  revoked: {
    summary: 'Permission for the namespace was withdrawn; the stream ends (a reconnect gets 403).',
    payload: { type: 'object', required: ['reason'], properties: { reason: { const: 'forbidden' }, detail: { type: 'string' } } }
  },
  shutdown: {
    summary: 'This replica is shutting down; the stream ends. Reconnect after `retryMs` (to another replica).',
    payload: { type: 'object', required: ['reason'], properties: { reason: { type: 'string' }, retryMs: { type: 'integer', minimum: 0 } } }
  }
}

const sseMessageId = (event: string): string => `drops-${event}`

function queryBinding (schema: TSchema): Record<string, unknown> {
  const q = plain(schema)
  // The ws binding's query is an object schema of the handshake's query string.
  return { type: 'object', properties: q.properties, additionalProperties: false }
}

export function generateAsyncApi (): Record<string, unknown> {
  const controlIn = KDEBUG_CLIENT_MESSAGES.map(messageName)
  const controlOut = KDEBUG_SERVER_MESSAGES.map(messageName)
  const messages: Record<string, unknown> = {
    stdin: { name: 'stdin', title: 'stdin bytes', summary: 'A binary frame: raw bytes for the container\'s stdin (needs stdin=true and a container with stdin).', contentType: 'application/octet-stream', payload: { type: 'string', format: 'binary' } },
    output: { name: 'output', title: 'stdout/stderr bytes', summary: 'A binary frame: raw stdout (and stderr unless stderrText=true; with a TTY they are one stream).', contentType: 'application/octet-stream', payload: { type: 'string', format: 'binary' } }
  }
  const schemas: Record<string, unknown> = { Drop: plain(DropSchema) }
  for (const s of [...KDEBUG_CLIENT_MESSAGES, ...KDEBUG_SERVER_MESSAGES]) {
    const id = String(s.$id)
    schemas[id] = plain(s)
    messages[messageName(s)] = { name: messageName(s), title: `kdebug.v1 ${messageName(s)}`, summary: String(s.description ?? ''), contentType: 'application/json', payload: ref(`components/schemas/${id}`) }
  }
  for (const [event, m] of Object.entries(DROP_STREAM_EVENTS)) {
    messages[sseMessageId(event)] = {
      name: event,
      title: `event: ${event}`,
      summary: m.summary,
      description: `One Server-Sent Event \`event: ${event}\` with an \`id:\` (resume with Last-Event-ID) and one \`data:\` line holding this payload as JSON.`,
      contentType: 'application/json',
      payload: m.payload
    }
  }
  const dropMessages = Object.fromEntries(Object.keys(DROP_STREAM_EVENTS).map(e => [sseMessageId(e), ref(`components/messages/${sseMessageId(e)}`)]))
  const dropsDescription = 'GET with `Accept: text/event-stream` and a bearer token or `?ticket=`. Query parameters (filters, `lastEventId`, `since`) as in the OpenAPI operation of the same path. ' +
    'The stream starts with a `retry:` hint and the current id; `: heartbeat` comments keep proxies from closing it. See openapi/drops.md.'
  const attachMessages = Object.fromEntries(['stdin', 'output', ...controlIn, ...controlOut].map(n => [n, ref(`components/messages/${n}`)]))
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'kdebug-gateway streams',
      version: API_VERSION,
      description: 'The attach WebSocket (kdebug.v1) and the packet drop SSE stream of kdebug-gateway. The HTTP API, including the stream tickets ' +
        'browsers use here, is in openapi.json. Every refusal happens before the upgrade / first byte, as an application/problem+json response.'
    },
    defaultContentType: 'application/json',
    servers: {
      websocket: { host: 'kdebug.example.com', protocol: 'wss', description: 'The gateway (server.publicUrl), WebSocket routes.', security: [ref('components/securitySchemes/bearer'), ref('components/securitySchemes/ticket')] },
      http: { host: 'kdebug.example.com', protocol: 'https', description: 'The gateway, Server-Sent Events routes.', security: [ref('components/securitySchemes/bearer'), ref('components/securitySchemes/ticket')] }
    },
    channels: {
      attach: {
        address: '/v1/namespaces/{namespace}/pods/{pod}/attach',
        title: 'Attach to a container',
        description: 'kdebug.v1 is chosen when the client offers it or no subprotocol at all; v5.channel.k8s.io and v4.channel.k8s.io are the API server\'s own framing, passed through. ' +
          'Close codes: 1000 ended, 1001 gateway shutting down, 1011 upstream error, 4000 maximum duration, 4001 idle, 4002 protocol violation, 4003 no pong, 4004 debug session expired. See openapi/attach.md.',
        parameters: { namespace: { description: 'Namespace (DNS-1123 label).' }, pod: { description: 'Pod name (DNS-1123 subdomain).' } },
        servers: [ref('servers/websocket')],
        messages: attachMessages,
        bindings: { ws: { method: 'GET', query: queryBinding(AttachQuerySchema), bindingVersion: '0.1.0' } }
      },
      namespaceDrops: {
        address: '/v1/namespaces/{namespace}/drops',
        title: 'Packet drops in one namespace',
        description: `${dropsDescription} Needs list and watch on events in the namespace.`,
        parameters: { namespace: { description: 'Namespace (DNS-1123 label).' } },
        servers: [ref('servers/http')],
        messages: dropMessages
      },
      drops: {
        address: '/v1/drops',
        title: 'Packet drops in every namespace the caller may list and watch events in',
        description: dropsDescription,
        servers: [ref('servers/http')],
        messages: dropMessages
      }
    },
    operations: {
      sendStdin: { action: 'send', channel: ref('channels/attach'), summary: 'Type into the container.', messages: [ref('channels/attach/messages/stdin')] },
      sendAttachControl: { action: 'send', channel: ref('channels/attach'), summary: 'Resize the terminal, close stdin (kdebug.v1 text frames).', messages: controlIn.map(n => ref(`channels/attach/messages/${n}`)) },
      receiveAttach: { action: 'receive', channel: ref('channels/attach'), summary: 'Output and session events.', messages: ['output', ...controlOut].map(n => ref(`channels/attach/messages/${n}`)) },
      receiveNamespaceDrops: { action: 'receive', channel: ref('channels/namespaceDrops'), summary: 'Drops in one namespace, history first with `since`.', bindings: { http: { method: 'GET', bindingVersion: '0.3.0' } }, messages: Object.keys(DROP_STREAM_EVENTS).map(e => ref(`channels/namespaceDrops/messages/${sseMessageId(e)}`)) },
      receiveDrops: { action: 'receive', channel: ref('channels/drops'), summary: 'Drops in every namespace the caller may see.', bindings: { http: { method: 'GET', bindingVersion: '0.3.0' } }, messages: Object.keys(DROP_STREAM_EVENTS).map(e => ref(`channels/drops/messages/${sseMessageId(e)}`)) }
    },
    components: {
      schemas,
      messages,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer <token> (CLIs, bots). On WebSockets also the Kubernetes subprotocol base64url.bearer.authorization.k8s.io.<token>.' },
        ticket: { type: 'httpApiKey', in: 'query', name: 'ticket', description: 'A single-use stream ticket from POST /v1/stream-tickets, for browsers (WebSocket and EventSource cannot send headers).' }
      }
    }
  }
}

/** Stable text for the committed file (and the drift test). */
export function renderAsyncApi (doc: Record<string, unknown>): string {
  return '# Generated by `npm run openapi` from the route and message schemas: do not edit.\n' + stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false })
}
