// The installed CLI is the build output (package.json bin → dist/cli/main.js),
// not the TypeScript sources: compile as `npm run build` does, lay it out as an
// installed package, and run the bin against a gateway.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startStack, type Stack } from '../helpers/stack.ts'
import { runCli } from '../helpers/cli.ts'

const REPO = process.cwd()
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string, bin: Record<string, string>, scripts: Record<string, string> }
let dir: string
let s: Stack

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kdebug-build-'))
  s = await startStack({ config: { drops: { enabled: false } } })
})
after(async () => {
  await s.close()
  rmSync(dir, { recursive: true, force: true })
})

test('the built bins run on Node 24: kdebug and kubectl-kdebug from dist/', { timeout: 300_000 }, async () => {
  assert.equal(pkg.scripts.prepare, 'npm run build', 'npm ci, npm i -g . and npx build dist/ first')
  assert.equal(pkg.bin.kdebug, 'dist/cli/main.js')
  assert.equal(pkg.bin['kubectl-kdebug'], 'dist/cli/main.js')
  // An installed package: package.json beside dist/, dependencies in node_modules.
  copyFileSync(join(REPO, 'package.json'), join(dir, 'package.json'))
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'))
  execFileSync(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', join(REPO, 'tsconfig.build.json'), '--outDir', join(dir, 'dist')], { stdio: 'pipe' })
  for (const target of Object.values(pkg.bin)) {
    const file = join(dir, target)
    assert.ok(existsSync(file), `${target} is built`)
    assert.ok(readFileSync(file, 'utf8').startsWith('#!/usr/bin/env node\n'), `${target} starts with a shebang`)
  }
  const bin = [process.execPath, join(dir, pkg.bin.kdebug as string)]
  const version = await runCli(['--version'], {}, { command: bin })
  assert.equal(version.stdout, `kdebug ${pkg.version}\n`)
  const me = await runCli(['whoami', '-o', 'json'], { KDEBUG_SERVER: s.url, KDEBUG_TOKEN: s.sim.tokens.alice }, { command: bin })
  assert.equal(me.code, 0, me.stderr)
  assert.equal(JSON.parse(me.stdout).user, 'alice')
  const refused = await runCli(['debug', 'web', '-n', 'demo', '--image', 'busybox', '--reason', 'x', '--', 'true'], { KDEBUG_SERVER: s.url, KDEBUG_TOKEN: s.sim.tokens.bob }, { command: bin })
  assert.equal(refused.code, 4, refused.stderr)
})
