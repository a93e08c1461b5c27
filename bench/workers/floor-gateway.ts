// The floor of rest-warm: a Fastify server that makes the same upstream calls as
// the gateway and nothing else, so a run shows what the required I/O alone costs
// on this machine. whoami answers a constant (no authentication, no audit); a
// create of an ephemeral container sends the gateway's three calls: GET the pod
// and PUT the caller's Lease (with the resourceVersion it last saw, one caller's
// writes one after another) at the same time, then PATCH ephemeralcontainers.
// Same HTTP client settings as src/kube/transport.ts (node:http, keep-alive,
// LIFO). No spec building, policy, signing or audit: everything the gateway
// spends above this floor is its own work.
// IPC (lib/service.ts): ready {port}; 'stats' → process stats.
import http from 'node:http'
import Fastify from 'fastify'
import { processStats, serveCommands } from '../lib/service.ts'
import { workerInput } from '../lib/child.ts'

const { upstream } = workerInput<{ upstream: string }>()
const agent = new http.Agent({ keepAlive: true, maxFreeSockets: 128, scheduling: 'lifo' })

interface Answer { status: number, json: Record<string, unknown> }

async function call (method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<Answer> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body))
  const headers: http.OutgoingHttpHeaders = { accept: 'application/json', authorization: 'Bearer gateway-token', 'user-agent': 'kdebug-bench-floor' }
  if (payload) { headers['content-type'] = contentType; headers['content-length'] = payload.length }
  return await new Promise((resolve, reject) => {
    const req = http.request(upstream + path, { method, agent, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.once('end', () => { resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> }) })
      res.once('error', reject)
    })
    req.on('error', reject)
    req.end(payload)
  })
}

const LEASES = '/apis/coordination.k8s.io/v1/namespaces/kdebug-system/leases'
/** Each caller's Lease name and Lease as last written (the gateway's ledger cache), and their writes in order. */
const names = new Map<string, string>()
const leases = new Map<string, Record<string, unknown>>()
const queues = new Map<string, Promise<unknown>>()

async function writeLease (caller: string, session: string): Promise<void> {
  let name = names.get(caller)
  if (name === undefined) names.set(caller, name = `floor-caller-${names.size}`)
  const last = leases.get(caller)
  const annotations = { 'kdebug.io/sessions': JSON.stringify([[session, Date.now() + 1000, Date.now()]]) }
  const answer = last === undefined
    ? await call('POST', LEASES, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, annotations }, spec: {} })
    : await call('PUT', `${LEASES}/${name}`, { ...last, metadata: { ...(last.metadata as object), annotations } })
  if (answer.status >= 300) throw new Error(`lease write answered ${answer.status}`)
  leases.set(caller, answer.json)
}

async function serial (caller: string, fn: () => Promise<void>): Promise<void> {
  const mine = (queues.get(caller) ?? Promise.resolve()).catch(() => undefined).then(fn)
  queues.set(caller, mine)
  try { await mine } finally { if (queues.get(caller) === mine) queues.delete(caller) }
}

let sessions = 0
const app = Fastify({ logger: false })
app.get('/v1/whoami', async () => ({ username: 'user-1', groups: ['system:authenticated'] }))
app.post<{ Params: { ns: string, pod: string }, Body: { image: string } }>('/v1/namespaces/:ns/pods/:pod/ephemeral-containers', async (req, reply) => {
  const session = `floor${++sessions}`
  const pod = `/api/v1/namespaces/${req.params.ns}/pods/${req.params.pod}`
  const [read] = await Promise.all([call('GET', pod), serial(req.headers.authorization ?? '', async () => { await writeLease(req.headers.authorization ?? '', session) })])
  if (read.status !== 200) throw new Error(`pod read answered ${read.status}`)
  const patched = await call('PATCH', `${pod}/ephemeralcontainers`, { spec: { ephemeralContainers: [{ name: `debugger-${session}`, image: req.body.image, stdin: true, tty: true }] } }, 'application/strategic-merge-patch+json')
  if (patched.status !== 200) throw new Error(`patch answered ${patched.status}`)
  return await reply.code(201).send({ id: session, container: `debugger-${session}` })
})
await app.listen({ host: '127.0.0.1', port: 0 })
const address = app.server.address()
serveCommands({ port: typeof address === 'object' && address !== null ? address.port : 0 }, (cmd) => {
  if (cmd === 'stats') return processStats()
  throw new Error(`unknown command ${cmd}`)
})
