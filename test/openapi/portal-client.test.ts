// The OpenAPI document is fit for generators: openapi-typescript turns
// openapi/openapi.json into types, and the portal client in
// examples/portal-client.ts (written against them) type-checks with tsc, as do
// checks of what generators need (operation ids, defaults not required, SSE as
// its own media type, no duplicated path parameter in a query). Then the same
// client runs the whole "Debug" button against a gateway on the sim: start a
// container, open its terminal over the ticketed WebSocket URL, read the drops.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { copyFileSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import openapiTS, { astToString } from 'openapi-typescript'

const root = fileURLToPath(new URL('../../', import.meta.url))
let dir: string

before(() => { dir = mkdtempSync(join(tmpdir(), 'kdebug-portal-client-')) })
after(() => { rmSync(dir, { recursive: true, force: true }) })

/** Type-level checks of the generated API (each line fails tsc when the document regresses). */
const CHECKS = `import type { operations, paths } from './kdebug-api.d.ts'
type Query<Op> = Op extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never

// Every operation has an operationId (the names portals call).
export type Named = [operations['getWhoami'], operations['listPods'], operations['createEphemeralContainer'], operations['createStreamTicket'],
  operations['listNamespaceDrops'], operations['listDrops'], operations['listSessions'], operations['getSession'], operations['deleteSession'],
  operations['readContainerLogs'], operations['listEphemeralContainers'], operations['createPodCopy'],
  operations['createNodeDebugPod'], operations['queryAudit'], operations['getLiveness'], operations['getReadiness']]

// Query parameters with defaults are optional: an empty query is a valid query.
export const dropsQuery: Query<operations['listNamespaceDrops']> = {}
export const allDropsQuery: Query<operations['listDrops']> = {}
export const podsQuery: Query<operations['listPods']> = {}
export const logsQuery: Query<operations['readContainerLogs']> = {}
export const auditQuery: Query<operations['queryAudit']> = {}

// The namespaced drops route takes its namespace from the path only.
// @ts-expect-error no namespace in the query of /v1/namespaces/{namespace}/drops
export const duplicated: Query<operations['listNamespaceDrops']> = { namespace: 'demo' }

// SSE is its own media type, next to the JSON answer.
export type DropStream = operations['listNamespaceDrops']['responses'][200]['content']['text/event-stream']
export type DropJson = operations['listNamespaceDrops']['responses'][200]['content']['application/json']
export type LogStream = operations['readContainerLogs']['responses'][200]['content']['text/event-stream']

// Paths and operations are the same objects.
export type Same = paths['/v1/namespaces/{namespace}/pods']['get'] extends operations['listPods'] ? true : never
`

const run = promisify(execFile)

test('openapi-typescript generates types from openapi/openapi.json and the portal client type-checks against them', async () => {
  const ast = await openapiTS(new URL('../../openapi/openapi.json', import.meta.url))
  writeFileSync(join(dir, 'kdebug-api.d.ts'), astToString(ast))
  copyFileSync(join(root, 'examples/portal-client.ts'), join(dir, 'portal-client.ts'))
  writeFileSync(join(dir, 'checks.ts'), CHECKS)
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'))
  // A portal's ordinary strict settings (not this repository's), with the DOM's fetch and WebSocket.
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'ES2022', lib: ['ES2022', 'DOM'], module: 'nodenext', moduleResolution: 'nodenext', strict: true, noUncheckedIndexedAccess: true, exactOptionalPropertyTypes: true, noEmit: true, skipLibCheck: true, types: [] },
    files: ['portal-client.ts', 'checks.ts']
  }))
  const tsc = join(root, 'node_modules/typescript/bin/tsc')
  const result = await run(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { cwd: dir }).then(() => ({ ok: true, out: '' }), (e: { stdout?: string, stderr?: string }) => ({ ok: false, out: `${e.stdout ?? ''}${e.stderr ?? ''}` }))
  assert.ok(result.ok, `tsc failed:\n${result.out}`)
})
