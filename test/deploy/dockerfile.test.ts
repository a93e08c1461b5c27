// The container image, checked without a Docker engine: the Dockerfile's
// stages, sources and runtime settings (plus a few hadolint rules), the
// .dockerignore, and what `npm run build` really emits for the runtime stage.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { after, describe, test } from 'node:test'
import { describeConfig } from '../../src/config.ts'
import { execForm, parseCopy, parseDockerfile, type Instruction, type Stage } from '../helpers/dockerfile-parse.ts'
import { REPO, readRepoFile } from '../helpers/deploy.ts'

const dockerfile = parseDockerfile(readRepoFile('Dockerfile'))
const pkg = JSON.parse(readRepoFile('package.json')) as {
  engines: { node: string }
  scripts: Record<string, string>
  dependencies: Record<string, string>
  devDependencies: Record<string, string>
}
const runtime = dockerfile.stages.at(-1) as Stage

function all (stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter(i => i.keyword === keyword)
}

function major (range: string): number {
  const m = /(\d+)/.exec(range)
  assert.ok(m, `no version in ${range}`)
  return Number(m[1])
}

function stageByName (name: string): Stage | undefined {
  return dockerfile.stages.find(s => s.name === name.toLowerCase())
}

/** .dockerignore patterns (no negations used here): does one exclude `path`? */
function dockerIgnored (path: string): boolean {
  const patterns = readRepoFile('.dockerignore').split('\n').map(l => l.trim()).filter(l => l !== '' && !l.startsWith('#'))
  assert.ok(!patterns.some(p => p.startsWith('!')), 'the simple matcher here does not handle ! exceptions')
  const clean = path.replace(/^\.\//, '').replace(/\/$/, '')
  return patterns.some(p => {
    const re = new RegExp('^' + p.replace(/\/$/, '').split('*').map(s => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*') + '(/.*)?$')
    return re.test(clean)
  })
}

describe('Dockerfile reader', () => {
  test('directives, continuations, comments inside continuations, stages, exec form', () => {
    const d = parseDockerfile([
      '# syntax=docker/dockerfile:1',
      'ARG BASE=node:24-slim',
      'FROM $BASE AS Build',
      'RUN a \\',
      '  # a comment inside',
      '  && b',
      '',
      'FROM --platform=linux/amd64 node:24-slim',
      'COPY --from=build --chown=1000:1000 /app/dist ./dist',
      'CMD ["node", "x.js"]'
    ].join('\n'))
    assert.deepEqual(d.directives, { syntax: 'docker/dockerfile:1' })
    assert.deepEqual(d.preamble.map(i => i.keyword), ['ARG'])
    assert.deepEqual(d.stages.map(s => [s.image, s.name, s.platform]), [['$BASE', 'build', undefined], ['node:24-slim', undefined, 'linux/amd64']])
    assert.deepEqual(d.stages[0]?.instructions, [{ keyword: 'RUN', args: 'a && b', line: 4 }])
    const copy = parseCopy(d.stages[1]?.instructions[0]?.args ?? '')
    assert.deepEqual(copy, { flags: { from: 'build', chown: '1000:1000' }, sources: ['/app/dist'], dest: './dist' })
    assert.deepEqual(execForm(d.stages[1]?.instructions[1]?.args ?? ''), ['node', 'x.js'])
    assert.equal(execForm('node x.js'), undefined)
    assert.throws(() => parseDockerfile('FROM a\nRUN b \\'), /continued/)
  })
})

describe('Dockerfile', () => {
  test('multi-stage, named stages, every FROM on the Node major of package.json (engines and the node devDependency)', () => {
    assert.ok(dockerfile.stages.length >= 2, 'multi-stage')
    const wanted = major(pkg.engines.node)
    assert.equal(major(pkg.devDependencies.node as string), wanted, 'engines and the node devDependency agree')
    const names = dockerfile.stages.map(s => s.name)
    assert.equal(new Set(names).size, names.length, 'stage names are unique')
    for (const s of dockerfile.stages) {
      const m = /^(?:docker\.io\/(?:library\/)?)?node:(\d+)(?:[.-][\w.-]+)?(?:@sha256:[0-9a-f]{64})?$/.exec(s.image)
      assert.ok(m, `FROM ${s.image} is an official node image with an explicit tag (hadolint DL3006/DL3007)`)
      assert.equal(Number(m[1]), wanted, `FROM ${s.image}`)
    }
    assert.deepEqual(dockerfile.preamble.filter(i => i.keyword !== 'ARG'), [])
  })

  test('every COPY source exists in the repository and is in the build context, or comes from an earlier stage', () => {
    let copies = 0
    dockerfile.stages.forEach((stage, index) => {
      assert.deepEqual(all(stage, 'ADD'), [], 'COPY, not ADD (hadolint DL3020)')
      for (const ins of all(stage, 'COPY')) {
        const { flags, sources } = parseCopy(ins.args)
        copies++
        if (typeof flags.from === 'string') {
          const from = stageByName(flags.from)
          assert.ok(from, `line ${ins.line}: --from=${flags.from} names a stage`)
          assert.ok(dockerfile.stages.indexOf(from) < index, `line ${ins.line}: --from=${flags.from} is an earlier stage`)
          continue
        }
        for (const src of sources) {
          assert.ok(!src.includes('..') && !src.startsWith('/'), `line ${ins.line}: ${src} stays inside the context`)
          assert.ok(existsSync(join(REPO, src)), `line ${ins.line}: ${src} exists`)
          assert.ok(!dockerIgnored(src), `line ${ins.line}: ${src} is excluded by .dockerignore`)
        }
      }
    })
    assert.ok(copies >= 5)
  })

  test('.dockerignore keeps local state and secrets out of the context', () => {
    for (const p of ['node_modules', '.git', 'data', 'data/audit.log', 'dist', 'src/sim/tls/server.key', 'demo.kubeconfig']) {
      assert.ok(dockerIgnored(p), `${p} is ignored`)
    }
    for (const p of ['src/main.ts', 'package.json', 'package-lock.json', 'tsconfig.build.json']) assert.ok(!dockerIgnored(p), `${p} is in the context`)
  })

  test('runtime dependencies come from an `npm ci --omit=dev` stage; the build stage runs `npm run build`', () => {
    const runsIn = (s: Stage, re: RegExp): boolean => all(s, 'RUN').some(r => re.test(r.args))
    const deps = dockerfile.stages.find(s => runsIn(s, /\bnpm ci\b.*--omit=dev\b/))
    assert.ok(deps?.name, 'a named stage runs npm ci --omit=dev')
    assert.ok(!runsIn(deps, /\bnpm (install|i)\b/), 'npm ci, not npm install')
    const build = dockerfile.stages.find(s => runsIn(s, /\bnpm run build\b/))
    assert.ok(build?.name, 'a named stage runs npm run build')
    assert.equal(pkg.scripts.build, 'tsc -p tsconfig.build.json')
    const runtimeCopies = all(runtime, 'COPY').map(i => parseCopy(i.args))
    assert.ok(runtimeCopies.some(c => c.flags.from === deps.name && c.sources.some(s => s.endsWith('/node_modules'))), 'node_modules from the deps stage')
    assert.ok(runtimeCopies.some(c => c.flags.from === build.name && c.sources.some(s => s.endsWith('/dist'))), 'dist from the build stage')
    assert.equal(all(runtime, 'RUN').length, 0, 'the runtime stage runs nothing (no shell needed to build it)')
  })

  test('runtime: numeric non-root USER, exec-form CMD `node dist/main.js`, the config port exposed, no NODE_ENV', () => {
    const users = all(runtime, 'USER')
    const user = users.at(-1)
    assert.ok(user, 'the runtime stage sets USER')
    const m = /^(\d+)(?::(\d+))?$/.exec(user.args)
    assert.ok(m, `USER ${user.args} is numeric (runAsNonRoot can only verify a numeric uid)`)
    assert.notEqual(Number(m[1]), 0, 'not root (hadolint DL3002)')
    assert.equal(execForm(all(runtime, 'CMD').at(-1)?.args ?? '')?.join(' '), 'node dist/main.js', 'exec form (hadolint DL3025): node is PID 1 and gets SIGTERM')
    assert.deepEqual(all(runtime, 'ENTRYPOINT'), [])
    const port = describeConfig().find(k => k.path === 'server.port')?.default
    assert.deepEqual(all(runtime, 'EXPOSE').map(e => e.args), [String(port)])
    for (const s of dockerfile.stages) {
      assert.ok(!s.instructions.some(i => i.keyword === 'ENV' && /\bNODE_ENV\b/.test(i.args)), 'NODE_ENV is not relied upon')
      for (const w of all(s, 'WORKDIR')) assert.ok(w.args.startsWith('/'), 'absolute WORKDIR (hadolint DL3000)')
      assert.deepEqual(all(s, 'MAINTAINER'), [], 'hadolint DL4000')
    }
    assert.equal(dockerfile.directives.syntax?.startsWith('docker/dockerfile:'), true)
  })

  test('the audit file default points where deploy/ mounts a volume', () => {
    const env = all(runtime, 'ENV').map(i => i.args).join('\n')
    assert.match(env, /KDEBUG_AUDIT_FILE=\/var\/lib\/kdebug\/audit\.log/)
  })
})

describe('what the runtime stage runs', () => {
  const out = mkdtempSync(join(tmpdir(), 'kdebug-dist-'))
  after(() => rmSync(out, { recursive: true, force: true }))

  const tsconfig = JSON.parse(readRepoFile('tsconfig.build.json')) as { compilerOptions: { rootDir: string, outDir: string }, include: string[], exclude?: string[] }

  test('tsconfig.build.json emits src/main.ts as dist/main.js (rootDir src, outDir dist)', () => {
    assert.equal(tsconfig.compilerOptions.rootDir, 'src')
    assert.equal(tsconfig.compilerOptions.outDir, 'dist')
    assert.deepEqual(tsconfig.include, ['src'])
    assert.ok(existsSync(join(REPO, 'src/main.ts')))
  })

  test('the emitted program: dist/main.js exists, relative imports resolve, bare imports are production dependencies', async (t) => {
    // Emit only (type errors are `npm run typecheck`'s job), into a temp dir. Bounded by the
    // test's timeout (t.signal), not a fixed limit of its own that a loaded machine would miss.
    await promisify(execFile)(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', join(REPO, 'tsconfig.build.json'), '--noCheck', '--outDir', out, '--sourceMap', 'false'], { cwd: REPO, signal: t.signal })
    assert.ok(existsSync(join(out, 'main.js')), 'dist/main.js')
    const files: string[] = []
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir)) {
        const p = join(dir, e)
        if (statSync(p).isDirectory()) walk(p)
        else if (p.endsWith('.js')) files.push(p)
      }
    }
    walk(out)
    assert.ok(!existsSync(join(out, 'sim')), 'the simulated cluster is not built into the image')
    const prod = new Set(Object.keys(pkg.dependencies))
    const bare = new Set<string>()
    for (const f of files) {
      const text = readFileSync(f, 'utf8')
      for (const m of text.matchAll(/(?:^|\s)(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm)) {
        const spec = (m[1] ?? m[2] ?? m[3]) as string
        if (spec.startsWith('.')) {
          assert.ok(spec.endsWith('.js'), `${relative(out, f)}: ${spec} keeps a .ts extension`)
          assert.ok(existsSync(resolve(dirname(f), spec)), `${relative(out, f)}: ${spec} is not emitted`)
        } else if (!spec.startsWith('node:')) {
          const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0] as string
          bare.add(name)
          assert.ok(prod.has(name), `${relative(out, f)} imports ${name}, which \`npm ci --omit=dev\` does not install`)
        }
      }
    }
    assert.ok(bare.has('fastify') && bare.has('pino'), 'the import scan sees the real dependencies')
  })

  test('no source in the build imports the simulated cluster (excluded from the build and the context)', () => {
    const offenders: string[] = []
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir)) {
        const p = join(dir, e)
        if (p === join(REPO, 'src/sim')) continue
        if (statSync(p).isDirectory()) walk(p)
        else if (p.endsWith('.ts') && /from\s+['"][^'"]*\/sim\//.test(readFileSync(p, 'utf8'))) offenders.push(relative(REPO, p))
      }
    }
    walk(join(REPO, 'src'))
    assert.deepEqual(offenders, [])
    assert.ok((tsconfig.exclude ?? []).includes('src/sim/**'))
  })
})
