// The gateway's shape, checked on its import graph (relative imports of
// src/**/*.ts outside src/sim, whose own isolation test is under test/sim/):
// features are wired by app.ts alone, top-level folders form no cycle, and
// the gateway never imports the simulated cluster it is tested against.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'
import { cycles } from './helpers/graph-cycles.ts'

const srcDir = new URL('../src/', import.meta.url).pathname

function tsFiles (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(e => e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [])
}

/** Static imports, re-exports and dynamic import() of relative paths. */
const IMPORT = /(?:\bfrom|\bimport)\s*\(?\s*['"](\.\.?\/[^'"]+)['"]/g

interface Edge { from: string, to: string }

/** Every import between gateway files, as paths relative to src/ (`debug/plugin.ts`). */
function importGraph (): Edge[] {
  const edges: Edge[] = []
  for (const file of tsFiles(srcDir)) {
    const from = relative(srcDir, file)
    if (from.startsWith('sim/')) continue
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      edges.push({ from, to: normalize(join(dirname(from), m[1] as string)) })
    }
  }
  return edges
}

/** The top-level unit a file belongs to: its folder under src/, or the file itself (app.ts, config.ts). */
function unitOf (path: string): string {
  const slash = path.indexOf('/')
  return slash === -1 ? path : path.slice(0, slash)
}

/** Cycles between units (Tarjan's strongly connected components of more than one unit). */
function unitCycles (edges: Edge[]): string[][] {
  const next = new Map<string, Set<string>>()
  for (const { from, to } of edges) {
    const a = unitOf(from)
    const b = unitOf(to)
    if (a === b) continue
    if (!next.has(a)) next.set(a, new Set())
    if (!next.has(b)) next.set(b, new Set())
    next.get(a)?.add(b)
  }
  // Sorted, so the cycles come out in a stable order.
  return cycles(new Map([...next.keys()].sort().map(k => [k, [...(next.get(k) ?? [])].sort()])))
}

const edges = importGraph()

test('a feature\'s plugin.ts and routes.ts are imported only by its own folder and app.ts', () => {
  const offenders = edges
    .filter(e => /^[^/]+\/(plugin|routes)\.ts$/.test(e.to))
    .filter(e => e.from !== 'app.ts' && unitOf(e.from) !== unitOf(e.to))
    .map(e => `${e.from} → ${e.to}`)
  assert.deepEqual(offenders, [])
})

/**
 * config.ts composes every folder's config-schema.ts into one Config, and the plugins take that
 * Config: the one documented way "up". It stays acyclic because a config-schema.ts imports only
 * TypeBox, src/schemas/ and other config schemas (checked below).
 */
const isConfigSchema = (path: string): boolean => path.endsWith('/config-schema.ts')

/** Files that still import src/routes/ while its last modules move into their feature folders. */
const ROUTES_IMPORTERS_LEFT = new Set(['app.ts'])

test('no import cycle between the top-level folders (and files) of src/', () => {
  assert.deepEqual(unitCycles(edges.filter(e => !isConfigSchema(e.to) && unitOf(e.from) !== 'routes' && unitOf(e.to) !== 'routes')), [])
})

test('config-schema.ts files import only TypeBox, src/schemas/ and other config schemas', () => {
  const offenders = edges.filter(e => isConfigSchema(e.from) && !isConfigSchema(e.to) && !e.to.startsWith('schemas/'))
  assert.deepEqual(offenders.map(e => `${e.from} → ${e.to}`), [])
})

test('nothing imports src/routes/ (features own their routes)', () => {
  const offenders = edges.filter(e => e.to.startsWith('routes/') && unitOf(e.from) !== 'routes' && !ROUTES_IMPORTERS_LEFT.has(e.from))
  assert.deepEqual(offenders.map(e => `${e.from} → ${e.to}`), [])
})

test('the gateway imports nothing from src/sim', () => {
  assert.deepEqual(edges.filter(e => e.to.startsWith('sim/')).map(e => `${e.from} → ${e.to}`), [])
})

test('src/lib is pure: no fastify, no I/O modules, no gateway imports', () => {
  const offenders: string[] = []
  for (const file of tsFiles(join(srcDir, 'lib'))) {
    const from = relative(srcDir, file)
    const text = readFileSync(file, 'utf8')
    for (const m of text.matchAll(/from ['"]([^'"]+)['"]/g)) {
      const spec = m[1] as string
      if (/^(fastify|@fastify\/|node:(fs|net|http|https|child_process))/.test(spec)) offenders.push(`${from} → ${spec}`)
      if (spec.startsWith('.') && !normalize(join(dirname(from), spec)).startsWith('lib/')) offenders.push(`${from} → ${spec}`)
    }
  }
  assert.deepEqual(offenders, [])
})

test('the cycle finder finds a cycle through three units, and none in a chain', () => {
  const chain = [{ from: 'a/x.ts', to: 'b/y.ts' }, { from: 'b/y.ts', to: 'c/z.ts' }]
  assert.deepEqual(unitCycles(chain), [])
  assert.deepEqual(unitCycles([...chain, { from: 'c/z.ts', to: 'a/w.ts' }]), [['a', 'b', 'c']])
})
