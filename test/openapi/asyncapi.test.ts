// openapi/asyncapi.yaml is generated from the attach query schema, the kdebug.v1
// message schemas and the drop schema: it must match the code, be a valid
// AsyncAPI 3 document (@asyncapi/parser, the reference parser), and name every
// message the gateway really sends.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { Parser, DiagnosticSeverity } from '@asyncapi/parser'
import { generateAsyncApi, renderAsyncApi, DROP_STREAM_EVENTS } from '../../src/asyncapi-spec.ts'
import { AttachQuerySchema } from '../../src/attach/schemas.ts'

const committedPath = new URL('../../openapi/asyncapi.yaml', import.meta.url)

test('the committed AsyncAPI document matches the schemas (no drift)', () => {
  assert.equal(readFileSync(committedPath, 'utf8'), renderAsyncApi(generateAsyncApi()), 'openapi/asyncapi.yaml is stale: run `npm run openapi`')
})

test('it is a valid AsyncAPI 3 document with the attach and drop channels and their operations', async () => {
  const { document, diagnostics } = await new Parser().parse(readFileSync(committedPath, 'utf8'))
  const errors = diagnostics.filter(d => d.severity === DiagnosticSeverity.Error || d.severity === DiagnosticSeverity.Warning)
  assert.deepEqual(errors.map(d => `${d.code}: ${d.message} at ${d.path.join('.')}`), [])
  assert.ok(document)
  assert.equal(document.version(), '3.0.0')
  const channels = Object.fromEntries(document.channels().all().map(c => [c.id(), c]))
  assert.equal(channels.attach?.address(), '/v1/namespaces/{namespace}/pods/{pod}/attach')
  assert.equal(channels.namespaceDrops?.address(), '/v1/namespaces/{namespace}/drops')
  assert.equal(channels.drops?.address(), '/v1/drops')
  const ops = Object.fromEntries(document.operations().all().map(o => [o.id(), o]))
  assert.ok(ops.sendStdin?.isSend())
  assert.ok(ops.receiveAttach?.isReceive())
  assert.deepEqual(ops.receiveAttach?.messages().all().map((m: { name: () => string | undefined }) => m.name()).sort(), ['detached', 'error', 'exit', 'output', 'ready', 'stderr'])
  assert.deepEqual(ops.sendAttachControl?.messages().all().map((m: { name: () => string | undefined }) => m.name()).sort(), ['close-stdin', 'resize'])
  assert.deepEqual(ops.receiveNamespaceDrops?.messages().all().map((m: { name: () => string | undefined }) => m.name()).sort(), ['drop', 'drop-update', 'reset', 'revoked', 'shutdown'])
})

test('the attach binding lists exactly the query parameters the route accepts', () => {
  const doc = generateAsyncApi() as any
  const query = doc.channels.attach.bindings.ws.query
  assert.deepEqual(Object.keys(query.properties).sort(), Object.keys(AttachQuerySchema.properties).sort())
  assert.equal(query.properties.stdin.default, true)
})

test('every SSE event name the drop hub writes is a message of the stream', () => {
  const dir = new URL('../../src/drops/', import.meta.url)
  const source = readdirSync(dir, { recursive: true }).filter(f => String(f).endsWith('.ts')).map(f => readFileSync(new URL(String(f), dir), 'utf8')).join('\n')
  // Events are written as `{ event: 'name', … }` (formatSseEvent and the de-duplicator's results).
  const written = new Set([...source.matchAll(/\{ event: '([a-z-]+)'/g)].map(m => m[1]))
  assert.ok(written.size >= 4, `found ${[...written].join(', ')}`)
  for (const e of written) assert.ok(e !== undefined && e in DROP_STREAM_EVENTS, `event ${e ?? ''} is documented`)
})
