// Attach and logs are judged like creating the container, before the upgrade
// and before the first log byte: effective privilege of the container in its
// pod, gateway sessions only for their requester (or attachOthers), nothing
// after a session's expiry (410), and a live session closed at expiresAt with
// 4004. Real HTTP/WS against the sim; the gateway's clock is injected.
import { test, before, after, describe } from 'node:test'
import assert from 'node:assert/strict'
import { startAttachStack, openWs, type AttachStack } from '../helpers/attach-stack.ts'
import { KdebugClient } from '../gateway/attach-client.ts'
import { createHostilePods } from '../helpers/hostile-pods.ts'
import { testPolicy } from '../helpers/debug-stack.ts'

let s: AttachStack
let offsetMs = 0
const clock = (): number => Date.now() + offsetMs
const bearer = (as: string): Record<string, string> => ({ authorization: `Bearer ${as}-token` })
type Obj = Record<string, any>

before(async () => {
  // testPolicy: the default policy with room for more than three sessions per developer.
  s = await startAttachStack({ clock, config: { policy: testPolicy() } })
  await createHostilePods(s.sim)
})
after(async () => { await s.close() })

const attachUrl = (pod: string, container: string): string => `${s.wsUrl}/v1/namespaces/demo/pods/${pod}/attach?container=${container}&tty=true`
const logsPath = (pod: string, container: string): string => `/v1/namespaces/demo/pods/${pod}/containers/${container}/logs`

/** The HTTP answer to an attach that must be refused before the upgrade. */
async function refusedAttach (pod: string, container: string, as: string): Promise<{ status: number, body: Obj }> {
  try {
    const { ws } = await openWs(attachUrl(pod, container), [], { headers: bearer(as) })
    ws.terminate()
  } catch (err) {
    const e = err as { status?: number, body?: string }
    return { status: e.status ?? 0, body: JSON.parse(e.body ?? '{}') as Obj }
  }
  throw new Error(`attach to ${pod}/${container} as ${as} was upgraded`)
}

async function logs (pod: string, container: string, as: string): Promise<{ status: number, body: Obj | string }> {
  const res = await s.request(logsPath(pod, container), { as })
  const text = await res.text()
  return { status: res.status, body: res.headers.get('content-type')?.includes('json') === true ? JSON.parse(text) as Obj : text }
}

async function createSession (as: string, ttlSeconds = 600): Promise<Obj> {
  const res = await s.request('/v1/namespaces/demo/pods/web/ephemeral-containers', { as, method: 'POST', body: JSON.stringify({ image: 'busybox:1.36', reason: 'stream access test', ttlSeconds, wait: 10 }) })
  const body = await res.json() as Obj
  assert.equal(res.status, 201, JSON.stringify(body))
  // Only signed attribution makes a container someone's session (and gives it an expiry the gateway enforces).
  assert.equal(body.session.verified, true, 'the gateway signs what it creates')
  return body
}

describe('effective privilege of the attached container', () => {
  const hostile: Array<[string, string, string]> = [
    ['h-priv', 'agent', 'securityContext.privileged'],
    ['h-priv', 'app', 'privilegedContainers'],
    ['h-pid', 'app', 'hostNamespaces'],
    ['h-net', 'app', 'hostNamespaces'],
    ['h-path', 'app', 'volumes.hostPath'],
    ['h-port', 'app', 'ports.hostPort']
  ]
  for (const [pod, container, field] of hostile) {
    test(`developer attach to ${pod}/${container} → 403 before the upgrade naming ${field}; logs too; sre may read the logs`, async () => {
      const r = await refusedAttach(pod, container, 'alice')
      assert.equal(r.status, 403)
      assert.equal(r.body.rule, 'developers')
      assert.equal(r.body.field, field)
      const l = await logs(pod, container, 'alice')
      assert.equal(l.status, 403)
      assert.equal((l.body as Obj).field, field)
      assert.equal((await logs(pod, container, 'carol')).status, 200)
    })
  }
  test('the refusal is audited as a denied attach.start naming the rule', async () => {
    await refusedAttach('h-pid', 'app', 'alice')
    const recs = await s.audit()
    const denied = recs.filter(r => r.action === 'attach.start' && r.phase === 'denied' && (r.target as Obj).pod === 'h-pid')
    assert.ok(denied.length > 0)
    assert.equal((denied.at(-1)?.decision as Obj).rule, 'developers')
  })
  test('a missing container is a 404 problem for attach and logs', async () => {
    assert.equal((await refusedAttach('web', 'nope', 'alice')).status, 404)
    assert.equal((await logs('web', 'nope', 'alice')).status, 404)
  })
})

describe('gateway sessions', () => {
  test('the debug command is wrapped so it ends at expiry; the session reports the real image', async () => {
    const created = await createSession('alice', 900)
    const c = created.ephemeralContainer as Obj
    assert.deepEqual(c.command, ['timeout', '-s', 'KILL', '900', 'sh'])
    assert.equal(c.image, 'busybox:1.36')
  })

  test('only the requester (or attachOthers) may attach or read logs: dave (developer) 403, bob 403, carol (sre) allowed', async () => {
    const created = await createSession('alice')
    const name = created.session.container as string
    const dave = await refusedAttach('web', name, 'dave')
    assert.equal(dave.status, 403)
    assert.equal(dave.body.field, 'session')
    assert.match(dave.body.detail, /"alice"/)
    assert.equal((await logs('web', name, 'dave')).status, 403)
    assert.equal((await refusedAttach('web', name, 'bob')).status, 403)
    for (const who of ['alice', 'carol']) {
      const { ws } = await openWs(attachUrl('web', name), [], { headers: bearer(who) })
      const c = new KdebugClient(ws)
      await c.waitControl('ready')
      ws.close()
      await c.closed
      assert.equal((await logs('web', name, who)).status, 200)
    }
  })

  test('a live attach is closed at the session\'s expiry with 4004', async () => {
    const created = await createSession('alice', 60)
    const name = created.session.container as string
    const expiresAt = Date.parse(created.session.expiresAt as string)
    // Two seconds before the end: the relay's duration is capped by what remains.
    offsetMs = expiresAt - 2000 - Date.now()
    try {
      const { ws } = await openWs(attachUrl('web', name), [], { headers: bearer('alice') })
      const c = new KdebugClient(ws)
      await c.waitControl('ready')
      const closed = await c.closed
      assert.equal(closed.code, 4004)
      assert.equal(closed.reason, 'debug session expired')
    } finally {
      offsetMs = 0
    }
  })

  test('after expiresAt attach and logs are refused with 410 naming the session and its expiry, for everyone', async () => {
    const created = await createSession('alice', 60)
    const name = created.session.container as string
    offsetMs = 61_000
    try {
      for (const who of ['alice', 'carol']) {
        const r = await refusedAttach('web', name, who)
        assert.equal(r.status, 410)
        assert.match(r.body.detail, new RegExp(created.session.id as string))
        assert.match(r.body.detail, new RegExp(created.session.expiresAt as string))
        const l = await logs('web', name, who)
        assert.equal(l.status, 410)
      }
    } finally {
      offsetMs = 0
    }
  })
})
