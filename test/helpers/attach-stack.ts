// Test harness for attach/logs/tickets until the lead wires createAttach into
// buildApp: a sim plus a gateway assembled like buildApp (problem, metrics,
// auth — with the ticket authenticator — and the attach plugin).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify, { type FastifyInstance } from 'fastify'
import { Value } from '@sinclair/typebox/value'
import { WebSocket, type ClientOptions } from 'ws'
import { startSim, type Sim } from '../../src/sim/index.ts'
import { resolveConfig, type Config } from '../../src/config.ts'
import { createServices, type Services } from '../../src/services.ts'
import problemPlugin from '../../src/plugins/problem.ts'
import metricsPlugin, { createMetrics } from '../../src/plugins/metrics.ts'
import openapiPlugin from '../../src/plugins/openapi.ts'
import authPlugin from '../../src/auth/plugin.ts'
import { createAttach, type Attach } from '../../src/attach/index.ts'
import { AttachConfigSchema, type AttachConfig } from '../../src/attach/config-schema.ts'
import { deepMerge } from './stack.ts'

export interface AttachStack {
  sim: Sim
  app: FastifyInstance
  attach: Attach
  attachConfig: AttachConfig
  config: Config
  services: Services
  url: string
  wsUrl: string
  auditFile: string
  dir: string
  request: (path: string, init?: RequestInit & { as?: string }) => Promise<Response>
  /** Audit records written so far. */
  audit: () => Promise<Array<Record<string, unknown>>>
  /** keep: leave the temp dir (audit file, recordings) for inspection; the caller removes `dir`. */
  close: (opts?: { keep?: boolean }) => Promise<void>
}

export async function startAttachStack (opts: { attach?: Record<string, unknown>, config?: Record<string, unknown> } = {}): Promise<AttachStack> {
  const sim = await startSim({ startDelayMs: 5 })
  const dir = mkdtempSync(join(tmpdir(), 'kdebug-attach-'))
  const auditFile = join(dir, 'audit.log')
  const config = resolveConfig(deepMerge({
    server: { host: '127.0.0.1', port: 0 },
    logging: { level: 'silent' },
    audit: { file: auditFile, replica: 'test-1' }
  }, opts.config ?? {}))
  const attachConfig = Value.Default(AttachConfigSchema, deepMerge({ exitCodeLookupMs: 500, recording: { dir: join(dir, 'rec') } }, opts.attach ?? {})) as AttachConfig
  const services = await createServices(config, { kubeconfigText: sim.kubeconfig })
  const attach = createAttach({ config: attachConfig })

  const app = Fastify({
    logger: false,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: true } },
    return503OnClosing: true
  })
  app.decorate('config', config)
  app.decorate('audit', services.audit)
  app.decorate('cluster', services.cluster)
  app.decorate('lifecycle', { shuttingDown: false })
  await app.register(problemPlugin)
  await app.register(openapiPlugin, { docs: false })
  await app.register(metricsPlugin, { metrics: createMetrics() })
  await app.register(authPlugin, { authenticator: services.authenticator, authorizer: services.authorizer, ticketAuthenticator: attach.ticketAuthenticator })
  await app.register(attach.plugin, { prefix: '/v1' })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  const url = `http://127.0.0.1:${port}`
  const { readFile } = await import('node:fs/promises')
  return {
    sim,
    app,
    attach,
    attachConfig,
    config,
    services,
    url,
    wsUrl: `ws://127.0.0.1:${port}`,
    auditFile,
    dir,
    request: async (path, init = {}) => {
      const { as, ...rest } = init
      const headers = new Headers(rest.headers)
      if (as) headers.set('authorization', `Bearer ${sim.tokens[as] ?? ''}`)
      if (rest.body && !headers.has('content-type')) headers.set('content-type', 'application/json')
      return await fetch(url + path, { ...rest, headers })
    },
    audit: async () => {
      const text = await readFile(auditFile, 'utf8').catch(() => '')
      return text.split('\n').filter(l => l !== '').map(l => JSON.parse(l) as Record<string, unknown>)
    },
    close: async (o = {}) => {
      await app.close()
      await services.close()
      await sim.close()
      if (!o.keep) rmSync(dir, { recursive: true, force: true })
    }
  }
}

let podSeq = 0

/** Creates a Running pod with one interactive shell container `sh` (as admin, through the sim API). */
export async function createShellPod (sim: Sim, opts: { tty?: boolean, stdinOnce?: boolean, namespace?: string, name?: string } = {}): Promise<string> {
  return await createPod(sim, { ...opts, container: { name: 'sh', image: 'busybox:1.36', stdin: true, stdinOnce: opts.stdinOnce === true, tty: opts.tty === true } })
}

/** Creates a pod with one container and waits until it has started (running or already terminated). */
export async function createPod (sim: Sim, opts: { container: Record<string, unknown>, namespace?: string, name?: string }): Promise<string> {
  const name = opts.name ?? `pod-${process.pid}-${++podSeq}`
  const ns = opts.namespace ?? 'demo'
  const auth = { authorization: `Bearer ${sim.tokens.admin ?? ''}`, 'content-type': 'application/json' }
  const res = await fetch(`${sim.url}/api/v1/namespaces/${ns}/pods`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: ns },
      spec: { nodeName: 'node-1', restartPolicy: 'Never', containers: [opts.container] }
    })
  })
  if (res.status !== 201) throw new Error(`create pod: ${res.status} ${await res.text()}`)
  for (let i = 0; i < 200; i++) {
    const pod = await (await fetch(`${sim.url}/api/v1/namespaces/${ns}/pods/${name}`, { headers: auth })).json() as { status?: { containerStatuses?: Array<{ state?: { running?: unknown, terminated?: unknown } }> } }
    const state = pod.status?.containerStatuses?.[0]?.state
    if (state?.running || state?.terminated) return name
    await new Promise(resolve => setTimeout(resolve, 10))
  }
  throw new Error(`pod ${name} did not start`)
}

export interface OpenResult { ws: WebSocket, protocol: string }

/** Opens a client WebSocket; rejects with `HTTP <status> <body>` when the gateway answers before upgrading. */
export async function openWs (url: string, protocols: string[] = [], options: ClientOptions = {}): Promise<OpenResult> {
  const ws = new WebSocket(url, protocols, options)
  // Messages right after the 101 would be emitted before an awaiting caller resumes: hold them a tick.
  return await new Promise((resolve, reject) => {
    ws.once('open', () => { ws.pause(); resolve({ ws, protocol: ws.protocol }); setImmediate(() => ws.resume()) })
    ws.once('unexpected-response', (req, res) => {
      let body = ''
      res.on('data', (c: Buffer) => { body += c.toString() })
      res.on('end', () => {
        req.destroy()
        const err = new Error(`HTTP ${res.statusCode ?? 0} ${body}`) as Error & { status?: number, body?: string }
        err.status = res.statusCode
        err.body = body
        reject(err)
      })
    })
    ws.once('error', reject)
  })
}
