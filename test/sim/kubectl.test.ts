// Contract tests with the real kubectl (v1.32) against the sim's kubeconfig.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { useKubectlSim } from '../helpers/kubectl.ts'
import { waitFor } from '../helpers/sim-api.ts'

const { skip, kubectl, sim: currentSim } = useKubectlSim()

test('get pods -A prints the world pods through the Table API', { skip }, async () => {
  const r = await kubectl(['get', 'pods', '-A', '--context', 'admin'])
  assert.equal(r.code, 0, r.stderr)
  const lines = r.stdout.trim().split('\n')
  assert.match(lines[0] ?? '', /^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/)
  assert.ok(lines.some(l => /^demo\s+web\s+2\/2\s+Running\s+0\s+/.test(l)), r.stdout)
  assert.ok(lines.some(l => /^payments\s+ledger\s+1\/1\s+Running\s+0\s+/.test(l)), r.stdout)
})

test('get pod web -o json, get nodes; the gateway SA may not list nodes', { skip }, async () => {
  const r = await kubectl(['get', 'pod', 'web', '-n', 'demo', '-o', 'json'])
  assert.equal(r.code, 0, r.stderr)
  const pod = JSON.parse(r.stdout)
  assert.equal(pod.metadata.name, 'web')
  assert.deepEqual(pod.spec.containers.map((c: any) => c.name), ['app', 'sidecar'])
  const nodes = await kubectl(['get', 'nodes', '--context', 'carol'])
  assert.equal(nodes.code, 0, nodes.stderr)
  assert.match(nodes.stdout, /node-1\s+Ready\s+<none>\s+\S+\s+v1\.32\.3/)
  const gw = await kubectl(['get', 'nodes'])
  assert.notEqual(gw.code, 0)
  assert.match(gw.stderr, /Error from server \(Forbidden\): nodes is forbidden: User "system:serviceaccount:kdebug:kdebug-gateway" cannot list resource "nodes" in API group "" at the cluster scope/)
})

test('auth can-i (protobuf SelfSubjectAccessReview), with --as impersonation', { skip }, async () => {
  const yes = await kubectl(['auth', 'can-i', 'patch', 'pods', '--subresource=ephemeralcontainers', '-n', 'demo', '--as', 'alice', '--context', 'admin'])
  assert.equal(yes.stdout.trim(), 'yes', yes.stderr)
  const no = await kubectl(['auth', 'can-i', 'patch', 'pods', '--subresource=ephemeralcontainers', '-n', 'payments', '--as', 'alice', '--context', 'admin'])
  assert.equal(no.stdout.trim(), 'no')
  const bob = await kubectl(['auth', 'can-i', 'list', 'pods', '-n', 'demo', '--context', 'bob'])
  assert.equal(bob.stdout.trim(), 'yes')
  const chatbot = await kubectl(['auth', 'can-i', 'get', 'pods', '-n', 'demo', '--as', 'carol', '--context', 'chatbot'])
  assert.notEqual(chatbot.code, 0)
  assert.match(chatbot.stderr, /User "chatbot" cannot impersonate resource "users"/)
})

test('auth whoami (SelfSubjectReview), also impersonated', { skip }, async () => {
  const me = await kubectl(['auth', 'whoami', '-o', 'json', '--context', 'alice'])
  assert.equal(me.code, 0, me.stderr)
  assert.deepEqual(JSON.parse(me.stdout).status.userInfo, { username: 'alice', groups: ['dev', 'system:authenticated'] })
  const as = await kubectl(['auth', 'whoami', '--as', 'bob', '--context', 'chatbot'])
  assert.match(as.stdout, /Username\s+bob/)
})

test('debug -n demo web --image=busybox --target=app adds a running ephemeral container', { skip }, async () => {
  const r = await kubectl(['debug', '-n', 'demo', 'web', '--image=busybox', '--target=app', '-c', 'dbg', '--context', 'alice'])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /Targeting container "app"/)
  const pod = await waitFor(async () => {
    const g = await kubectl(['get', 'pod', 'web', '-n', 'demo', '-o', 'json', '--context', 'alice'])
    const p = JSON.parse(g.stdout)
    return p.status.ephemeralContainerStatuses?.find((s: any) => s.name === 'dbg')?.state?.running ? p : undefined
  }, 'dbg running', 10_000)
  const ec = pod.spec.ephemeralContainers.find((c: any) => c.name === 'dbg')
  assert.equal(ec.image, 'busybox')
  assert.equal(ec.targetContainerName, 'app')
  const denied = await kubectl(['debug', '-n', 'demo', 'web', '--image=busybox', '-c', 'dbg2', '--context', 'bob'])
  assert.notEqual(denied.code, 0)
  assert.match(denied.stderr, /cannot patch resource "pods\/ephemeralcontainers"/)
})

test('debug node/node-1 creates a node-debugger pod (protobuf POST) pinned to the node', { skip }, async () => {
  const r = await kubectl(['debug', 'node/node-1', '--image=busybox', '-n', 'default', '--context', 'carol'])
  assert.equal(r.code, 0, r.stderr)
  const m = /Creating debugging pod (node-debugger-node-1-\w{5}) with container debugger on node node-1\./.exec(r.stdout)
  assert.ok(m, r.stdout)
  const name = m[1] ?? ''
  const pod = currentSim().store.get('pods', 'default', name) as any
  assert.equal(pod.spec.nodeName, 'node-1')
  assert.equal(pod.spec.restartPolicy, 'Never')
  assert.equal(pod.spec.hostPID, true)
  assert.deepEqual(pod.spec.tolerations, [{ operator: 'Exists' }])
  await waitFor(() => (currentSim().store.get('pods', 'default', name)?.status as any)?.phase === 'Running', 'node debugger running')
  assert.deepEqual(currentSim().unknownRequests, [], 'kubectl asked for nothing the sim does not serve')
})

test('debug -i with piped stdin waits (list+watch) and attaches over WebSocket', { skip }, async () => {
  const r = await kubectl(['debug', '-n', 'demo', 'api', '--image=busybox', '-i', '-c', 'dbgi', '--target=api', '--context', 'alice'], 'echo hello-from-debug; exit 0\n')
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /hello-from-debug/)
  const st = (currentSim().store.get('pods', 'demo', 'api')?.status as any).ephemeralContainerStatuses.find((s: any) => s.name === 'dbgi')
  assert.ok(st.state.running || st.state.terminated)
})

test('get -w receives Table watch events (first with columns)', { skip }, async () => {
  // the sim's only watchers are HTTP watches: none left from earlier kubectl runs, then kubectl's own
  await waitFor(() => currentSim().store.watcherCount === 0, 'earlier watches to end')
  const watching = kubectl(['get', 'pods', '-n', 'demo', '-w', '--request-timeout=2s', '--context', 'admin'])
  // change the pod once kubectl's watch is open, so the change arrives as a watch event
  await waitFor(() => currentSim().store.watcherCount === 1, 'kubectl to open its watch')
  currentSim().store.mutate('pods', 'demo', 'web', p => { p.metadata.labels = { ...p.metadata.labels, touched: 'yes' } })
  const r = await watching
  const lines = r.stdout.trim().split('\n')
  assert.match(lines[0] ?? '', /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/)
  assert.ok(lines.slice(1).filter(l => /^web\s+2\/2\s+Running/.test(l)).length >= 2, r.stdout)
})

test('create -f / apply -f: OpenAPI v3 tells kubectl the server validates fields itself', { skip }, async () => {
  const manifest = join(tmpdir(), `kdebug-kubectl-pod-${process.pid}.yaml`)
  writeFileSync(manifest, 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: from-file\n  namespace: demo\nspec:\n  containers:\n  - name: c\n    image: busybox\n')
  const c = await kubectl(['create', '-f', manifest, '--context', 'admin'])
  assert.equal(c.code, 0, c.stderr)
  assert.match(c.stdout, /pod\/from-file created/)
  const a = await kubectl(['apply', '-f', manifest, '--context', 'admin'])
  assert.equal(a.code, 0, a.stderr)
  assert.ok(currentSim().store.get('pods', 'demo', 'from-file'))
})

test('auth can-i --list (protobuf SelfSubjectRulesReview) lists alice\'s rules in demo', { skip }, async () => {
  const r = await kubectl(['auth', 'can-i', '--list', '-n', 'demo', '--context', 'alice'])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /pods\/ephemeralcontainers\s+\[\]\s+\[\]\s+\[patch\]/)
})
