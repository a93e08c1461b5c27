import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, rmSync } from 'node:fs'
import { startAttachStack, createShellPod, createPod, openWs } from '../helpers/attach-stack.ts'
import { KdebugClient } from '../helpers/attach-client.ts'

const bearer = { authorization: 'Bearer alice-token' }

test('recording (asciicast v2, stdin when enabled), maxPayload, metrics; shutdown closes sessions with 1001 and audits them', { timeout: 60_000 }, async () => {
  const s = await startAttachStack({ attach: { recording: { enabled: true, stdin: true }, maxPayloadBytes: 4096 } })
  let closed = false
  try {
    const pod = await createShellPod(s.sim, { tty: true })
    const url = `${s.wsUrl}/v1/namespaces/demo/pods/${pod}/attach?container=sh&tty=true&cols=90&rows=20`

    // A recorded session.
    const a = new KdebugClient((await openWs(url, [], { headers: bearer })).ws)
    a.send('echo rec\r')
    await a.waitText('rec\r\n')
    a.control({ type: 'resize', cols: 100, rows: 30 })
    a.ws.close()
    await a.closed
    await waitFor(() => s.attach.sessions.size === 0)
    // the session leaves the registry just before its attach.end record is written
    let end = (await s.audit()).find(r => r.action === 'attach.end')
    for (let i = 0; i < 300 && !end; i++) {
      await new Promise(resolve => setTimeout(resolve, 10))
      end = (await s.audit()).find(r => r.action === 'attach.end')
    }
    const rec = (end?.outcome as { recording?: { file: string, truncated: boolean } }).recording
    assert.ok(rec, 'the audit record references the recording')
    assert.equal(rec.truncated, false)
    const lines = readFileSync(rec.file, 'utf8').trim().split('\n').map(l => JSON.parse(l) as unknown)
    const header = lines[0] as Record<string, unknown>
    assert.equal(header.version, 2)
    assert.equal(header.width, 90)
    assert.equal(header.height, 20)
    const events = lines.slice(1) as Array<[number, string, string]>
    assert.ok(events.every(e => typeof e[0] === 'number'))
    assert.equal(events.filter(e => e[1] === 'i').map(e => e[2]).join(''), 'echo rec\r')
    assert.ok(events.filter(e => e[1] === 'o').map(e => e[2]).join('').includes('rec\r\n'))
    assert.ok(events.some(e => e[1] === 'r' && e[2] === '100x30'))

    // maxPayload: a message above it closes with 1009.
    const big = new KdebugClient((await openWs(url, [], { headers: bearer })).ws)
    big.ws.send(Buffer.alloc(8192))
    assert.equal((await big.closed).code, 1009)
    await waitFor(() => s.attach.sessions.size === 0)

    const metrics = await (await s.request('/metrics')).text()
    assert.match(metrics, /kdebug_attach_bytes_total\{direction="in"\} [1-9]/)
    assert.match(metrics, /kdebug_attach_session_duration_seconds_count [1-9]/)

    // Shutdown with a live session and an open log stream.
    const live = new KdebugClient((await openWs(url, [], { headers: bearer })).ws)
    await live.waitControl('ready')
    assert.match(await (await s.request('/metrics')).text(), /kdebug_attach_sessions_active 1/)
    const logPod = await createPod(s.sim, { container: { name: 'c', image: 'busybox', command: ['sh', '-c', 'echo hello\nsleep 3600'] } })
    const logs = await s.request(`/v1/namespaces/demo/pods/${logPod}/containers/c/logs?follow=true`, { as: 'alice', headers: { accept: 'text/event-stream' } })
    const logText = logs.text()
    // An open log stream that blocked close() would hang this test into its timeout.
    await s.close({ keep: true })
    closed = true
    assert.equal((await live.closed).code, 1001)
    assert.equal(await logText, 'event: log\ndata: hello\n\nevent: shutdown\ndata: {}\n\n')
    const text = readFileSync(s.auditFile, 'utf8')
    const ends = text.trim().split('\n').map(l => JSON.parse(l) as Record<string, unknown>).filter(r => r.action === 'attach.end')
    const last = ends.at(-1)?.outcome as Record<string, unknown>
    assert.equal(ends.length, 3)
    assert.equal(last.closeCode, 1001)
    assert.equal(last.endedBy, 'gateway')
  } finally {
    if (!closed) await s.close()
    rmSync(s.dir, { recursive: true, force: true })
  }

  async function waitFor (pred: () => boolean): Promise<void> {
    const start = Date.now()
    while (!pred()) {
      if (Date.now() - start > 3000) throw new Error('timed out')
      await new Promise(resolve => setTimeout(resolve, 10))
    }
  }
})
