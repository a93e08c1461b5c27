// Test harness for attach/logs/tickets: the standard stack (sim + gateway
// built by buildApp) with attach settings suited to tests, plus helpers to
// make interactive pods and open WebSockets.
import { rmSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { WebSocket, type ClientOptions } from 'ws'
import type { Sim, SimOptions } from '../../src/sim/index.ts'
import type { Config } from '../../src/config.ts'
import type { Services } from '../../src/services.ts'
import type { SessionRegistry } from '../../src/attach/registry.ts'
import type { LogStreams } from '../../src/logs/streams.ts'
import type { AttachConfig } from '../../src/attach/config-schema.ts'
import { deepMerge, startStack } from './stack.ts'

export interface AttachStack {
  sim: Sim
  app: FastifyInstance
  /** The gateway's live attach sessions and log streams. */
  attach: { sessions: SessionRegistry, logStreams: LogStreams }
  attachConfig: AttachConfig
  config: Config
  services: Services
  url: string
  wsUrl: string
  auditFile: string
  dir: string
  request: (path: string, init?: RequestInit & { as?: string, token?: string }) => Promise<Response>
  /** Audit records written so far. */
  audit: () => Promise<Array<Record<string, unknown>>>
  /** keep: leave the temp dir (audit file, recordings) for inspection; the caller removes `dir`. */
  close: (opts?: { keep?: boolean }) => Promise<void>
}

export async function startAttachStack (opts: { attach?: Record<string, unknown>, config?: Record<string, unknown>, sim?: SimOptions, clock?: () => number, logger?: Logger } = {}): Promise<AttachStack> {
  let recordingDir = ''
  const stack = await startStack({
    sim: { startDelayMs: 5, ...opts.sim },
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
    // Drops are not under test here; their watch would only add noise.
    config: deepMerge({ drops: { enabled: false }, attach: { exitCodeLookupMs: 500 } }, deepMerge(opts.config ?? {}, opts.attach ? { attach: opts.attach } : {})),
    keepDir: true,
    ...(opts.clock ? { clock: opts.clock } : {}),
    configure: (dir) => {
      recordingDir = join(dir, 'rec')
      return { attach: { recording: { dir: recordingDir } } }
    }
  })
  return {
    sim: stack.sim,
    app: stack.app,
    attach: { sessions: stack.app.attachSessions, logStreams: stack.app.logStreams },
    attachConfig: stack.config.attach,
    config: stack.config,
    services: stack.services,
    url: stack.url,
    wsUrl: stack.url.replace(/^http/, 'ws'),
    auditFile: stack.auditFile,
    dir: stack.dir,
    request: stack.request,
    audit: async () => {
      const text = await readFile(stack.auditFile, 'utf8').catch(() => '')
      return text.split('\n').filter(l => l !== '').map(l => JSON.parse(l) as Record<string, unknown>)
    },
    close: async (o = {}) => {
      await stack.close()
      if (!o.keep) rmSync(stack.dir, { recursive: true, force: true })
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
