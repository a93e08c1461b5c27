// `npm run sim -- [--port N] [--kubeconfig FILE] [--world FILE] [--host H] [--real-shell]`
// Starts the simulated API server, writes a kubeconfig and runs until SIGINT/SIGTERM.
import { parseArgs } from 'node:util'
import { resolve } from 'node:path'
import { startSim } from './index.ts'

export interface CliArgs { port: number, host: string, kubeconfig: string, world?: string, realShell: boolean, help: boolean }

const USAGE = 'usage: npm run sim -- [--port N] [--host H] [--kubeconfig FILE] [--world FILE] [--real-shell]'

export function parseCliArgs (argv: string[]): CliArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '6443' },
      host: { type: 'string', default: '127.0.0.1' },
      kubeconfig: { type: 'string', default: './data/sim.kubeconfig' },
      world: { type: 'string' },
      'real-shell': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false }
    },
    strict: true
  })
  const port = Number(values.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: not a port number: ${values.port}`)
  return { port, host: values.host, kubeconfig: resolve(values.kubeconfig), world: values.world ? resolve(values.world) : undefined, realShell: values['real-shell'], help: values.help }
}

async function main (): Promise<void> {
  let args: CliArgs
  try {
    args = parseCliArgs(process.argv.slice(2))
  } catch (err) {
    console.error(`sim: ${(err as Error).message}`)
    console.error(USAGE)
    process.exitCode = 2
    return
  }
  if (args.help) {
    console.log(USAGE)
    return
  }
  const { mkdirSync } = await import('node:fs')
  const { dirname } = await import('node:path')
  mkdirSync(dirname(args.kubeconfig), { recursive: true })
  const sim = await startSim({ port: args.port, host: args.host, kubeconfigPath: args.kubeconfig, world: args.world, realShell: args.realShell, compactionIntervalMs: 5 * 60_000, streamIdleTimeoutMs: 4 * 3600_000, log: (m) => console.error(m) })
  console.log(`simulated Kubernetes API server listening on ${sim.httpsUrl} (plain HTTP on the same port: ${sim.url})`)
  console.log(`kubeconfig written to ${args.kubeconfig}`)
  console.log(`  kubectl --kubeconfig ${args.kubeconfig} get pods -A --context admin`)
  console.log('users (context name: token → user):')
  for (const u of sim.world.users) {
    console.log(`  ${u.name.padEnd(22)} ${u.token.padEnd(15)} ${u.username}${u.groups.length ? ` [${u.groups.join(', ')}]` : ''}`)
  }
  const stop = (signal: string): void => {
    console.error(`sim: ${signal}, shutting down`)
    if (sim.unknownRequests.length) console.error(`sim: requests answered 404 (unknown path):\n  ${sim.unknownRequests.join('\n  ')}`)
    sim.close().then(() => process.exit(0), () => process.exit(1))
  }
  process.once('SIGINT', () => stop('SIGINT'))
  process.once('SIGTERM', () => stop('SIGTERM'))
}

if (import.meta.main) await main()
