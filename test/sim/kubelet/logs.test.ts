import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, get, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ProcessTable, type ContainerProcess } from '../../../src/sim/kubelet/process.ts'
import { serveLogs, type LogOptions } from '../../../src/sim/kubelet/logs.ts'
import { loopTurns } from '../../helpers/event-loop.ts'

// /logs/<container>?follow=…&tailLines=…&sinceSeconds=…&timestamps=…&limitBytes=…
let server: Server
let base: string
const table = new ProcessTable()

before(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    const container = url.pathname.split('/')[2] ?? ''
    const num = (k: string): number | undefined => url.searchParams.has(k) ? Number(url.searchParams.get(k)) : undefined
    const opts: LogOptions = {
      follow: url.searchParams.get('follow') === 'true',
      tailLines: num('tailLines'),
      sinceSeconds: num('sinceSeconds'),
      timestamps: url.searchParams.get('timestamps') === 'true',
      limitBytes: num('limitBytes'),
      pod: 'web',
      container
    }
    serveLogs(res, table.get('demo', 'web', container), opts)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

after(async () => {
  table.closeAll()
  server.closeAllConnections()
  await new Promise(resolve => server.close(resolve))
})

let seq = 0
async function shellWith (lines: string): Promise<{ name: string, proc: ContainerProcess }> {
  const name = `l${++seq}`
  const proc = table.start({ namespace: 'demo', pod: 'web', container: name, image: 'busybox', stdin: true, tty: false })
  const seen = new Promise<void>(resolve => {
    const off = proc.onOutput(() => { if (proc.logSince({}).toString().includes('END\n')) { off(); resolve() } })
  })
  proc.write(Buffer.from(lines + 'echo END\n'))
  await seen
  return { name, proc }
}

test('plain logs, tailLines, sinceSeconds and limitBytes', async () => {
  const { name } = await shellWith('echo one\nstderr two\necho three\n')
  const r = await fetch(`${base}/logs/${name}`)
  assert.equal(r.status, 200)
  assert.equal(r.headers.get('content-type'), 'text/plain')
  assert.equal(await r.text(), 'one\ntwo\nthree\nEND\n')
  assert.equal(await (await fetch(`${base}/logs/${name}?tailLines=2`)).text(), 'three\nEND\n')
  assert.equal(await (await fetch(`${base}/logs/${name}?sinceSeconds=30`)).text(), 'one\ntwo\nthree\nEND\n')
  assert.equal(await (await fetch(`${base}/logs/${name}?limitBytes=6`)).text(), 'one\ntw')
})

test('timestamps prefix every line with RFC3339Nano', async () => {
  const { name } = await shellWith('echo a\necho b\n')
  const body = await (await fetch(`${base}/logs/${name}?timestamps=true&tailLines=3`)).text()
  const lines = body.split('\n').filter(l => l !== '')
  assert.equal(lines.length, 3)
  for (const l of lines) assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (a|b|END)$/)
})

test('follow streams new output and ends when the process exits', async () => {
  const { name, proc } = await shellWith('echo first\n')
  const r = await fetch(`${base}/logs/${name}?follow=true&timestamps=true`)
  const reader = r.body?.getReader()
  assert.ok(reader)
  let text = ''
  const readUntil = async (pred: () => boolean): Promise<void> => {
    while (!pred()) {
      const { value, done } = await reader.read()
      if (done) return
      text += Buffer.from(value).toString()
    }
  }
  await readUntil(() => text.includes('END\n'))
  proc.write(Buffer.from('echo -n par\necho tial\nexit 2\n'))
  await readUntil(() => false)
  const lines = text.split('\n')
  assert.match(lines[2] ?? '', /^\S+Z partial$/)
  assert.equal(lines.at(-1), '')
  assert.equal(proc.exitCode, 2)
})

test('follow with a reader that stops reading pauses the producer', async () => {
  const { name, proc } = await shellWith('')
  let produced = 0
  proc.onOutput((_s, c) => { produced += c.length })
  const res = await new Promise<import('node:http').IncomingMessage>(resolve => get(`${base}/logs/${name}?follow=true`, resolve))
  res.pause()
  proc.write(Buffer.from('flood 500000000\n'))
  // Unpaused, the flood emits 1 MB per loop turn (16 chunks of 64 KiB) and would pass the bound
  // within these turns; paused, it stops once the socket buffers are full, however slow the machine.
  await loopTurns(200)
  assert.ok(produced < 64 * 1024 * 1024, `produced ${produced}`)
  await loopTurns(200)
  assert.ok(produced < 64 * 1024 * 1024, `produced ${produced} while the reader stayed paused`)
  res.destroy()
  proc.write(Buffer.from('\x03'))
})

test('a container without a process yet is a 400 Status', async () => {
  const r = await fetch(`${base}/logs/nothing`)
  assert.equal(r.status, 400)
  assert.deepEqual(await r.json(), {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'container "nothing" in pod "web" is waiting to start: ContainerCreating',
    reason: 'BadRequest',
    code: 400
  })
})
