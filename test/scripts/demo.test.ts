// `npm run demo` as a user runs it: a child process that prints the gateway
// URL and serves /v1/whoami for the demo tokens, writing its files under ./data.
import { test } from 'node:test'
import { jsonOf } from '../helpers/http.ts'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, existsSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { once } from 'node:events'

const demoEntry = new URL('../../scripts/demo.ts', import.meta.url).pathname

test('the demo starts the sim and the gateway and answers whoami for demo users', async (t) => {
  const cwd = mkdtempSync(join(tmpdir(), 'kdebug-demo-'))
  const child = spawn(process.execPath, [demoEntry], {
    cwd,
    env: { ...process.env, KDEBUG_SERVER_PORT: '0', KDEBUG_LOGGING_LEVEL: 'warn', DEMO_DROP_INTERVAL_MS: '0' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  try {
    let out = ''
    const url = await new Promise<string>((resolve, reject) => {
      // No start-up deadline of its own: a loaded machine starts slowly, and a demo that
      // never starts is caught by the test's timeout, which aborts t.signal.
      t.signal.addEventListener('abort', () => reject(new Error(`demo did not start: ${out}`)), { once: true })
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString()
        const m = /gateway\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(out)
        if (m && out.includes('try')) resolve(m[1] as string)
      })
      child.once('exit', (code) => reject(new Error(`demo exited ${code}: ${out}`)))
    })
    assert.match(out, /alice\s+alice-token/)
    const res = await fetch(`${url}/v1/whoami?namespace=demo`, { headers: { authorization: 'Bearer alice-token' } })
    assert.equal(res.status, 200)
    const body = await jsonOf(res)
    assert.equal(body.user, 'alice')
    assert.equal(body.can.ephemeral, true)
    assert.ok(existsSync(join(cwd, 'data', 'demo.kubeconfig')))
    assert.ok(existsSync(join(cwd, 'data', 'audit.log')))
  } finally {
    child.kill('SIGTERM')
    await once(child, 'exit')
    rmSync(cwd, { recursive: true, force: true })
  }
})
