import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startAttachStack, createPod, type AttachStack } from '../helpers/attach-stack.ts'

let s: AttachStack
before(async () => { s = await startAttachStack() })
after(async () => { await s.close() })

const logsPath = (pod: string, q = '', container = 'c'): string => `/v1/namespaces/demo/pods/${pod}/containers/${container}/logs${q}`

async function waitFor (pred: () => boolean | Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const start = Date.now()
  while (!await pred()) {
    if (Date.now() - start > ms) throw new Error(`timed out: ${what}`)
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

describe('container logs', () => {
  test('the output so far as text/plain, with tailLines', async () => {
    const pod = await createPod(s.sim, { container: { name: 'c', image: 'busybox', command: ['sh', '-c', 'echo one\necho two\necho three'] } })
    await waitFor(async () => (await (await s.request(logsPath(pod), { as: 'alice' })).text()).includes('three'), 'output')
    const res = await s.request(logsPath(pod), { as: 'alice' })
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8')
    assert.equal(await res.text(), 'one\ntwo\nthree\n')
    const tail = await s.request(logsPath(pod, '?tailLines=1'), { as: 'alice' })
    assert.equal(await tail.text(), 'three\n')
  })

  test('follow streams until the container exits (a one-shot command for a bot)', async () => {
    const pod = await createPod(s.sim, { container: { name: 'c', image: 'busybox', command: ['sh', '-c', 'echo start\nsleep 0.3\nss -tanp\necho done'] } })
    const t0 = Date.now()
    const res = await s.request(logsPath(pod, '?follow=true'), { as: 'alice' })
    assert.equal(res.status, 200)
    const text = await res.text()
    assert.match(text, /^start\nState +Recv-Q[\s\S]*done\n$/)
    assert.ok(Date.now() - t0 >= 200, 'the response stayed open while the container ran')
  })

  test('SSE: one `event: log` per line, then `event: end`', async () => {
    const pod = await createPod(s.sim, { container: { name: 'c', image: 'busybox', command: ['sh', '-c', 'echo alpha\necho beta'] } })
    await waitFor(async () => (await (await s.request(logsPath(pod), { as: 'alice' })).text()).includes('beta'), 'output')
    const res = await s.request(logsPath(pod, '?follow=true'), { as: 'alice', headers: { accept: 'text/event-stream' } })
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8')
    assert.equal(await res.text(), 'event: log\ndata: alpha\n\nevent: log\ndata: beta\n\nevent: end\ndata: {}\n\n')
  })

  test('a client going away aborts the upstream follow', async () => {
    const pod = await createPod(s.sim, { container: { name: 'c', image: 'busybox', command: ['sh', '-c', 'echo started\nsleep 30'] } })
    const ac = new AbortController()
    const res = await s.request(logsPath(pod, '?follow=true'), { as: 'alice', signal: ac.signal })
    assert.equal(res.status, 200)
    const reader = res.body!.getReader()
    assert.equal(new TextDecoder().decode((await reader.read()).value), 'started\n')
    await waitFor(() => s.attach.logStreams.size === 1, 'stream registered')
    ac.abort()
    await waitFor(() => s.attach.logStreams.size === 0, 'stream released after the client left')
  })

  test('refusals before streaming: 403 without pods/log, 404 unknown pod, 404 unknown container', async () => {
    const denied = await s.request(logsPath('web', '', 'app'), { as: 'bob' })
    assert.equal(denied.status, 403)
    assert.match(((await denied.json()) as { permission: string }).permission, /get pods\/log/)
    const missing = await s.request(logsPath('nope'), { as: 'alice' })
    assert.equal(missing.status, 404)
    assert.equal(missing.headers.get('content-type'), 'application/problem+json; charset=utf-8')
    const badContainer = await s.request(logsPath('web', '', 'nosuch'), { as: 'alice' })
    assert.equal(badContainer.status, 404)
    assert.equal(((await badContainer.json()) as { field: string }).field, 'container')
  })
})
