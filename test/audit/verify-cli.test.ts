import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { hashLine } from '../../src/audit/chain.ts'
import { main } from '../../src/audit/verify-cli.ts'
import { createAuditLog } from '../../src/audit/writer.ts'
import { entry, readLines, tempDir } from '../helpers/audit.ts'

const cli = fileURLToPath(new URL('../../src/audit/verify-cli.ts', import.meta.url))

async function run (argv: string[]): Promise<{ code: number, out: string[], err: string[] }> {
  const out: string[] = []
  const err: string[] = []
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) })
  return { code, out, err }
}

async function sampleFile (): Promise<{ file: string, cleanup: () => void, last: string }> {
  const t = tempDir()
  const log = await createAuditLog({ file: t.file, replica: 'gw-0' })
  for (let i = 0; i < 3; i++) await log.append(entry(i))
  await log.close()
  return { ...t, last: hashLine(readLines(t.file)[2] as string) }
}

describe('kdebug-audit-verify', () => {
  test('OK exits 0 and prints the count and last hash', async (t) => {
    const { file, cleanup, last } = await sampleFile()
    t.after(cleanup)
    assert.deepEqual(await run([file]), { code: 0, out: [`OK: 3 records, last hash ${last}`], err: [] })
    assert.equal((await run([file, '--expect-last-hash', last])).code, 0)
    assert.equal((await run([`--expect-last-hash=${last.toUpperCase()}`, file])).code, 0)
  })

  test('a broken chain exits 1 naming the line', async (t) => {
    const { file, cleanup } = await sampleFile()
    t.after(cleanup)
    const ls = readLines(file)
    fs.writeFileSync(file, [ls[0], ls[2], ls[1]].join('\n') + '\n')
    const r = await run([file])
    assert.equal(r.code, 1)
    assert.match(r.out[0] ?? '', /^BROKEN at line 2: seq 3 where 2 was expected/)
  })

  test('a wrong anchor exits 1', async (t) => {
    const { file, cleanup } = await sampleFile()
    t.after(cleanup)
    const r = await run([file, '--expect-last-hash', 'f'.repeat(64)])
    assert.equal(r.code, 1)
    assert.match(r.out[0] ?? '', /^BROKEN at line 3: last record's hash/)
  })

  test('usage errors exit 2', async () => {
    assert.equal((await run([])).code, 2)
    assert.equal((await run(['a', 'b'])).code, 2)
    assert.equal((await run(['--bogus', 'a'])).code, 2)
    assert.equal((await run(['a', '--expect-last-hash'])).code, 2)
    assert.equal((await run(['a', '--expect-last-hash', 'xyz'])).code, 2)
    const missing = await run(['/nonexistent/audit.jsonl'])
    assert.equal(missing.code, 2)
    assert.match(missing.err[0] ?? '', /cannot read/)
  })

  test('as a process: exit codes 0, 1 and 2', async (t) => {
    const { file, cleanup } = await sampleFile()
    t.after(cleanup)
    const ok = spawnSync(process.execPath, [cli, file], { encoding: 'utf8' })
    assert.equal(ok.status, 0, ok.stderr)
    assert.match(ok.stdout, /^OK: 3 records/)
    fs.appendFileSync(file, 'garbage\n')
    const bad = spawnSync(process.execPath, [cli, file], { encoding: 'utf8' })
    assert.equal(bad.status, 1)
    assert.equal(bad.stdout, 'BROKEN at line 4: not valid JSON\n')
    assert.equal(spawnSync(process.execPath, [cli], { encoding: 'utf8' }).status, 2)
  })
})
