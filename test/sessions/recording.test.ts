// GET /v1/sessions/{id}/recording: the newest attach recording of a gateway
// debug session, found like GET /sessions/{id} (RBAC first) and judged like
// attaching to it (the requester, or a rule with attachOthers). Real HTTP/WS
// against the sim; attach recording on, files in the stack's temp dir.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startAttachStack, openWs, type AttachStack } from '../helpers/attach-stack.ts'
import { KdebugClient } from '../helpers/attach-client.ts'
import { testPolicy } from '../helpers/debug-stack.ts'

let s: AttachStack
type Obj = Record<string, any>

before(async () => {
  s = await startAttachStack({ attach: { recording: { enabled: true } }, config: { policy: testPolicy() } })
})
after(async () => { await s.close() })

async function createSession (as: string): Promise<Obj> {
  const res = await s.request('/v1/namespaces/demo/pods/web/ephemeral-containers', { as, method: 'POST', body: JSON.stringify({ image: 'busybox:1.36', reason: 'recording test', ttlSeconds: 600, wait: 10 }) })
  const body = await res.json() as Obj
  assert.equal(res.status, 201, JSON.stringify(body))
  return body.session as Obj
}

test('the requester and sre get the asciicast of what the terminal showed; dave 403 (policy, not attachOthers); bob 403; unknown 404', { timeout: 60_000 }, async () => {
  const session = await createSession('alice')
  const recording = `/v1/sessions/${session.id as string}/recording`
  // Before anything was attached: nothing recorded on this replica.
  const none = await s.request(recording, { as: 'alice' })
  assert.equal(none.status, 404)
  assert.match((await none.json() as Obj).detail, /no recording/)

  const url = `${s.wsUrl}/v1/namespaces/demo/pods/web/attach?container=${session.container as string}&tty=true&cols=80&rows=24`
  const { ws } = await openWs(url, [], { headers: { authorization: 'Bearer alice-token' } })
  const c = new KdebugClient(ws)
  await c.waitControl('ready')
  c.send('echo recorded-42\r')
  await c.waitText('recorded-42\r\n')
  ws.close()
  await c.closed
  // The recording is complete once attach.end is written (the relay closes the file first).
  for (let i = 0; i < 500 && !(await s.audit()).some(r => r.action === 'attach.end'); i++) await new Promise(resolve => setImmediate(resolve))

  for (const who of ['alice', 'carol']) {
    const res = await s.request(recording, { as: who })
    assert.equal(res.status, 200, `${who}: ${await res.clone().text()}`)
    assert.equal(res.headers.get('content-type'), 'application/x-asciicast')
    const lines = (await res.text()).trim().split('\n').map(l => JSON.parse(l) as unknown)
    assert.equal((lines[0] as Obj).version, 2)
    const output = (lines.slice(1) as Array<[number, string, string]>).filter(e => e[1] === 'o').map(e => e[2]).join('')
    assert.match(output, /recorded-42/)
  }
  const dave = await s.request(recording, { as: 'dave' })
  assert.equal(dave.status, 403)
  const daveBody = await dave.json() as Obj
  assert.equal(daveBody.field, 'session')
  assert.match(daveBody.detail, /"alice"/)
  // bob may not list pods in demo: the session is not even found for him.
  assert.ok([403, 404].includes((await s.request(recording, { as: 'bob' })).status))
  assert.equal((await s.request('/v1/sessions/nosuchsession0000/recording', { as: 'alice' })).status, 404)
  // Every answer is an audit record (the decision-audit plugin's http.read or the refusal's record).
  const records = (await s.audit()).filter(r => typeof r.request === 'object' && JSON.stringify(r).includes('/recording'))
  assert.ok(records.length >= 4, `recording reads are audited (${records.length} records)`)
})
