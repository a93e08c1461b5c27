// `npm run demo`: the simulated cluster and the gateway in one process, on
// loopback only. Prints the URLs, the demo tokens and commands to try; writes
// ./data/demo.kubeconfig (so kubectl can watch what the gateway does) and the
// audit log to ./data/audit.log — rotated small (64 KiB) so rotation shows, its
// head anchored every 10 s to a Lease in the simulated cluster. Emits a
// PacketDrop event now and then so the drop stream has something to show.
//
// Env: KDEBUG_SERVER_HOST / KDEBUG_SERVER_PORT (default 127.0.0.1:8080), any
// other KDEBUG_* setting, DEMO_SIM_PORT (default random), DEMO_DROP_INTERVAL_MS
// (default 5000, 0 = off), DEMO_REAL_SHELL=1 (attach runs a real /bin/sh),
// DEMO_AUDIT_FORWARD=1 (a local webhook receiver, scripts/audit-receiver.ts,
// gets every record, signed and gzip'd, into ./data/received/<replica>.jsonl).
// The web console is on (/ui/, built into ui/dist first) and attach sessions
// are recorded, so the console can play them back.
import { mkdirSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { resolve } from 'node:path'
import { pino } from 'pino'
import closeWithGrace from 'close-with-grace'
import { startSim, type Sim } from '../src/sim/index.ts'
import { loadConfig, ConfigError, type Config } from '../src/config.ts'
import { loggerOptions } from '../src/logger.ts'
import { createServices } from '../src/services.ts'
import { buildApp } from '../src/app.ts'
import { buildUi } from '../ui/build.ts'
import { startAuditReceiver, type AuditReceiver } from './audit-receiver.ts'

const DATA_DIR = resolve('data')

/** A small rotation of realistic drops in `demo` (never in `payments`, so per-namespace filtering shows). */
function startDropEmitter (sim: Sim, intervalMs: number, log: (msg: string) => void): () => void {
  if (intervalMs <= 0) return () => {}
  let n = 0
  const emit = async (): Promise<void> => {
    n++
    if (n % 3 === 0) {
      await sim.drops.cilium({ namespace: 'demo', pod: 'api', direction: 'ingress', reason: 'policy_denied', peer: 'payments/ledger', peerIP: '10.244.2.7', l4: 'TCP/8080' })
    } else {
      await sim.drops.tailer({ namespace: 'demo', pod: 'web', direction: n % 2 === 0 ? 'send' : 'receive', peer: 'payments', peerIP: '10.244.2.7', port: n % 2 === 0 ? 5432 : 8080, protocol: 'TCP' })
    }
  }
  const timer = setInterval(() => { emit().catch((err: Error) => log(`demo drop emitter: ${err.message}`)) }, intervalMs)
  return () => clearInterval(timer)
}

function banner (gatewayUrl: string, sim: Sim, kubeconfigPath: string, auditFile: string, ui: boolean, receiver: AuditReceiver | null): string {
  const t = sim.tokens
  const consoleLine = ui ? `\n  web console      ${gatewayUrl}/ui/   (sign in with a token below)` : ''
  return `
kdebug-gateway demo
  gateway          ${gatewayUrl}${consoleLine}
  simulated API    ${sim.httpsUrl}
  kubeconfig       ${kubeconfigPath}   (kubectl --kubeconfig ${kubeconfigPath} get pods -A)
  audit log        ${auditFile}   (rotated every 64 KiB: npm run audit:verify -- ${DATA_DIR})
  audit anchor     every 10 s   (kubectl --kubeconfig ${kubeconfigPath} -n kdebug get leases -l kdebug.io/audit-anchor;
                                 npm run audit:verify -- ${DATA_DIR} --anchor-from-cluster --kubeconfig ${kubeconfigPath})
  audit forwarding ${receiver ? `${receiver.url} → ${resolve(DATA_DIR, 'received')}/demo.jsonl` : 'off (DEMO_AUDIT_FORWARD=1 starts a local receiver)'}

demo users (bearer tokens)
  alice    ${t.alice}     debug in namespace demo
  dave     ${t.dave}      debug in namespace demo (a second developer)
  bob      ${t.bob}       view demo
  carol    ${t.carol}     debug everywhere, nodes too
  chatbot  ${t.chatbot}   may act for alice and bob (Impersonate-User)

try
  curl -s -H 'Authorization: Bearer ${t.alice}' '${gatewayUrl}/v1/whoami?namespace=demo'
  curl -s -H 'Authorization: Bearer ${t.chatbot}' -H 'Impersonate-User: alice' '${gatewayUrl}/v1/whoami'
  curl -s -H 'Authorization: Bearer ${t.bob}' '${gatewayUrl}/v1/whoami?namespace=demo'
  curl -s '${gatewayUrl}/readyz'
`
}

async function main (): Promise<void> {
  let config: Config
  let receiver: AuditReceiver | null = null
  const env: Record<string, string | undefined> = { ...process.env }
  if (process.env.DEMO_AUDIT_FORWARD === '1') {
    const key = randomBytes(32).toString('hex')
    receiver = await startAuditReceiver({ dir: resolve(DATA_DIR, 'received'), key })
    env.DEMO_AUDIT_WEBHOOK_KEY = key
    env.KDEBUG_AUDIT_FORWARD ??= JSON.stringify([{ type: 'webhook', url: receiver.url, gzip: true, hmacKeyEnv: 'DEMO_AUDIT_WEBHOOK_KEY', initialBackoffMs: 200, maxBackoffMs: 5000 }])
  }
  try {
    config = loadConfig({
      KDEBUG_SERVER_HOST: '127.0.0.1',
      KDEBUG_AUDIT_FILE: resolve(DATA_DIR, 'audit.log'),
      KDEBUG_AUDIT_REPLICA: 'demo',
      KDEBUG_UI_ENABLED: 'true',
      KDEBUG_UI_NAMESPACES: 'demo,payments',
      KDEBUG_ATTACH_RECORDING_ENABLED: 'true',
      KDEBUG_ATTACH_RECORDING_DIR: resolve(DATA_DIR, 'recordings'),
      KDEBUG_AUDIT_ROTATION_MAX_BYTES: '65536',
      KDEBUG_AUDIT_ROTATION_MAX_FILES: '20',
      KDEBUG_AUDIT_ANCHOR_INTERVAL_SECONDS: '10',
      // A portal under development on its usual port may call the demo gateway.
      KDEBUG_SERVER_CORS_ORIGINS: 'http://localhost:3000',
      ...env
    }, process.argv.slice(2))
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`demo: ${err.message}\n`)
      process.exit(2)
    }
    throw err
  }
  mkdirSync(DATA_DIR, { recursive: true })
  const logger = pino(loggerOptions(config.logging.level))
  const kubeconfigPath = resolve(DATA_DIR, 'demo.kubeconfig')
  // A fresh console build of this checkout into ./data/ui (about a second, while the sim starts), unless ui.dir names one.
  const uiBuild = config.ui.enabled && config.ui.dir === undefined
    ? buildUi({ outdir: resolve(DATA_DIR, 'ui') }).then(r => { config.ui.dir = r.outdir })
    : Promise.resolve()
  const sim = await startSim({
    host: '127.0.0.1',
    port: Number(process.env.DEMO_SIM_PORT ?? 0),
    kubeconfigPath,
    realShell: process.env.DEMO_REAL_SHELL === '1',
    // like a real cluster: etcd compacted every 5 minutes, idle attach streams end after 4 hours
    compactionIntervalMs: 5 * 60_000,
    streamIdleTimeoutMs: 4 * 3600_000,
    log: (msg) => logger.debug({ component: 'sim' }, msg)
  })
  await uiBuild
  const services = await createServices(config, { kubeconfigText: sim.kubeconfig, env })
  const app = await buildApp({ ...services, config, logger })
  await app.listen({ host: config.server.host, port: config.server.port })
  const stopDrops = startDropEmitter(sim, Number(process.env.DEMO_DROP_INTERVAL_MS ?? 5000), (m) => logger.warn(m))

  closeWithGrace({ delay: config.server.shutdownGraceMs, logger }, async () => {
    stopDrops()
    await app.close()
    await services.close()
    await sim.close()
    await receiver?.close()
  })

  const address = app.server.address()
  const port = typeof address === 'object' && address ? address.port : config.server.port
  process.stdout.write(banner(`http://${config.server.host}:${port}`, sim, kubeconfigPath, config.audit.file ?? '(stdout)', config.ui.enabled, receiver))
}

main().catch((err: Error) => {
  process.stderr.write(`demo: failed to start: ${err.message}\n`)
  process.exit(1)
})
