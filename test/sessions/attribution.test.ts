// Attribution written on the cluster object, read back by any replica:
// profile and the delegating bot survive into session listings.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startDebugStack, type DebugStack } from '../helpers/debug-stack.ts'
import { jsonOf } from '../helpers/http.ts'

let stack: DebugStack
before(async () => { stack = await startDebugStack() })
after(async () => { await stack.close() })

test('a bot acting for alice: the session names both, and keeps the profile, on the container itself', async () => {
  const r = await stack.post('/v1/namespaces/demo/pods/web/ephemeral-containers', 'chatbot',
    { image: 'busybox:1.36', profile: 'netadmin', reason: 'attribution test' },
    { 'impersonate-user': 'alice', 'impersonate-group': 'dev' })
  assert.equal(r.status, 201, JSON.stringify(r.body))
  assert.equal(r.body.session.requestedBy, 'alice')
  assert.equal(r.body.session.delegatedBy, 'chatbot')
  assert.equal(r.body.session.profile, 'netadmin')
  const pod = stack.sim.store.get('pods', 'demo', 'web') as unknown as { spec: { ephemeralContainers: Array<{ name: string, env?: Array<{ name: string, value?: string }> }> } }
  const c = pod.spec.ephemeralContainers.find(x => x.name === r.body.session.container)
  const env = Object.fromEntries((c?.env ?? []).map(e => [e.name, e.value]))
  assert.equal(env.KDEBUG_REQUESTED_BY, 'alice')
  assert.equal(env.KDEBUG_DELEGATED_BY, 'chatbot')
  assert.equal(env.KDEBUG_PROFILE, 'netadmin')
  // found again from the cluster, as another replica would
  const listed = await jsonOf(await stack.request(`/v1/sessions/${r.body.session.id as string}`, { as: 'alice' }))
  assert.equal(listed.delegatedBy ?? listed.session?.delegatedBy, 'chatbot')
  assert.equal(listed.profile ?? listed.session?.profile, 'netadmin')
})
