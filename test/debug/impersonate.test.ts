// authorization.mode impersonate: the gateway's cluster calls carry the
// effective user's Impersonate-User/Group headers, so the cluster's own RBAC
// decides again. The gateway runs as the sim's admin here (deploy/ grants the
// real service account no `impersonate`).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startDebugStack, type DebugStack } from '../helpers/debug-stack.ts'

let stack: DebugStack
before(async () => { stack = await startDebugStack({ config: { authorization: { mode: 'impersonate', allowTtlSeconds: 300 }, kube: { context: 'admin' } } }) })
after(async () => { await stack.close() })

const reason = 'impersonation test'

test('alice creates and waits as herself; a bot acting for her too', async () => {
  const r = await stack.post('/v1/namespaces/demo/pods/web/ephemeral-containers', 'alice', { image: 'busybox:1.36', reason, wait: 5 })
  assert.equal(r.status, 201, JSON.stringify(r.body))
  assert.equal(r.body.session.state, 'running')
  const bot = await stack.post('/v1/namespaces/demo/pods/web/copies', 'chatbot', { image: 'busybox:1.36', reason }, { 'impersonate-user': 'alice', 'impersonate-group': 'dev' })
  assert.equal(bot.status, 201, JSON.stringify(bot.body))
  assert.equal(bot.body.session.requestedBy, 'alice')
})

test('carol waits on a node pod as herself (impersonated watch in kdebug)', async () => {
  const r = await stack.post('/v1/nodes/node-1/debug-pods', 'carol', { image: 'busybox:1.36', reason, wait: 5 })
  assert.equal(r.status, 201, JSON.stringify(r.body))
  assert.equal(r.body.session.state, 'running')
})

test('the cluster decides as the user: rights taken away behind a cached allow are refused upstream', async () => {
  // the gateway's SubjectAccessReview answer for alice is cached (allowTtlSeconds); the cluster's is not
  assert.ok(stack.sim.rbac.remove('RoleBinding', 'pod-debugger', 'demo'))
  const r = await stack.post('/v1/namespaces/demo/pods/web/ephemeral-containers', 'alice', { image: 'busybox:1.36', reason })
  assert.equal(r.status, 403)
  assert.equal(r.body.kubernetesReason, 'Forbidden')
  assert.match(r.body.detail, /User "alice" cannot/)
})
