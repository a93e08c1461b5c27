// The simulated API server's shape: it shares no code with the gateway it tests
// (only the neutral src/lib/), or a gateway bug could hide in both; its files
// import each other without cycles; and its folders (one per Kubernetes
// component, src/sim/README.md) depend on each other in one direction only.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cycles } from '../helpers/graph-cycles.ts'

const simDir = fileURLToPath(new URL('../../src/sim/', import.meta.url))
const libDir = fileURLToPath(new URL('../../src/lib/', import.meta.url))

function tsFiles (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(e => e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [])
}

/** Relative imports of a file (static, type-only, re-exports and dynamic), as absolute paths. */
function importsOf (file: string): string[] {
  const text = readFileSync(file, 'utf8')
  return [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)'(\.\.?\/[^']+)'/g)].map(m => resolve(dirname(file), m[1] as string))
}

const files = tsFiles(simDir)
const fileGraph = new Map(files.map(f => [relative(simDir, f), importsOf(f).filter(t => t.startsWith(simDir)).map(t => relative(simDir, t))]))

function folderOf (path: string): string {
  return path.includes('/') ? path.split('/')[0] as string : '.'
}

test('src/sim imports nothing from the gateway (only src/sim and src/lib)', () => {
  const offenders = files.flatMap(f => importsOf(f)
    .filter(t => !t.startsWith(simDir) && !t.startsWith(libDir))
    .map(t => `${relative(simDir, f)} → ${relative(simDir, t)}`))
  assert.deepEqual(offenders, [])
})

test('no import cycle between the files of src/sim', () => {
  assert.ok(fileGraph.size > 30, 'the import graph was read')
  assert.deepEqual(cycles(fileGraph), [])
})

test('the folders of src/sim depend on each other in one direction', () => {
  const folderGraph = new Map<string, string[]>()
  for (const [from, targets] of fileGraph) {
    const a = folderOf(from)
    const outs = folderGraph.get(a) ?? []
    for (const b of targets.map(folderOf)) if (b !== a && !outs.includes(b)) outs.push(b)
    folderGraph.set(a, outs)
  }
  assert.ok(folderGraph.has('apiserver') && folderGraph.has('kubelet'), 'the folders were read')
  assert.deepEqual(cycles(folderGraph), [])
})

test('the cycle finder finds cycles and self-imports, and nothing in a DAG', () => {
  const g = new Map([['a', ['b']], ['b', ['c']], ['c', ['a', 'd']], ['d', []], ['e', ['e']]])
  assert.deepEqual(cycles(g), [['a', 'b', 'c'], ['e']])
  assert.deepEqual(cycles(new Map([['a', ['b', 'c']], ['b', ['c']], ['c', []]])), [])
})
