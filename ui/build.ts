// `npm run build:ui`: bundles the web console (ui/src) with esbuild into
// ui/dist — one script and one stylesheet named by content hash, and
// index.html pointing at them — so the gateway serves everything itself.
// The demo, the Dockerfile and the browser tests call buildUi().
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { basename, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
export const UI_SOURCE = join(ROOT, 'ui')
export const UI_DIST = join(UI_SOURCE, 'dist')

export interface BuildUiOptions {
  /** Output directory (emptied first); default ui/dist. */
  outdir?: string
  /** Default true; tests pass false for readable stack traces. */
  minify?: boolean
}

export interface BuildUiResult {
  outdir: string
  files: string[]
}

export async function buildUi (opts: BuildUiOptions = {}): Promise<BuildUiResult> {
  const outdir = resolve(opts.outdir ?? UI_DIST)
  rmSync(outdir, { recursive: true, force: true })
  mkdirSync(outdir, { recursive: true })
  const result = await build({
    entryPoints: [join(UI_SOURCE, 'src', 'main.tsx')],
    bundle: true,
    outdir,
    entryNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    // The asciicast player (with its WebAssembly terminal) loads only when a recording is played.
    splitting: true,
    chunkNames: 'chunk-[hash]',
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome120', 'firefox120', 'safari17'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: opts.minify ?? true,
    sourcemap: 'linked',
    legalComments: 'linked',
    metafile: true,
    logLevel: 'silent',
    loader: { '.woff': 'file', '.woff2': 'file', '.ttf': 'file', '.svg': 'file' }
  })
  const outputs = Object.entries(result.metafile.outputs)
  const entry = outputs.find(([, o]) => o.entryPoint !== undefined)
  const script = entry ? basename(entry[0]) : undefined
  const style = entry?.[1].cssBundle ? basename(entry[1].cssBundle) : undefined
  if (!script || !style) throw new Error(`build:ui: no entry script or stylesheet among ${outputs.map(([f]) => f).join(', ')}`)
  const template = readFileSync(join(UI_SOURCE, 'index.html'), 'utf8')
  const html = template
    .replace('<!-- style -->', `<link rel="stylesheet" href="./${style}">`)
    .replace('<!-- script -->', `<script type="module" src="./${script}"></script>`)
  writeFileSync(join(outdir, 'index.html'), html)
  return { outdir, files: [...outputs.map(([f]) => basename(f)), 'index.html'] }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outdir = process.argv[2]
  buildUi(outdir ? { outdir } : {}).then(
    (r) => { process.stdout.write(`build:ui: ${r.files.length} files in ${r.outdir}\n`) },
    (err: Error) => { process.stderr.write(`build:ui: ${err.message}\n`); process.exit(1) }
  )
}
