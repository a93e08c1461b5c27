// The environment record every result carries (BENCH rule 6), and a cheap
// ceiling check: raw loopback TCP throughput between two processes. A run
// whose ceiling is far below the previous run's is marked invalid.

import { execFileSync, fork, spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import { fileURLToPath } from 'node:url'

export interface EnvRecord {
  node: string
  nproc: number
  cpuModel: string
  platform: string
  kernel: string
  totalMemMb: number
  loadavg: number[]
  startedAt: string
  /** Loopback TCP flood between two processes, MB/s. */
  ceilingMBps?: number
  /** iperf3 loopback Gbit/s when iperf3 is installed. */
  iperf3Gbps?: number
  /** Linux PSI `some avg60` for CPU (% of time something waited for a CPU) at start and end of the run. */
  cpuPressureStart?: number
  cpuPressureEnd?: number
  valid: boolean
  invalidReason?: string
}

async function freePort (): Promise<number> {
  const srv = net.createServer()
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
  const port = (srv.address() as net.AddressInfo).port
  await new Promise<void>((resolve) => srv.close(() => resolve()))
  return port
}

/** Loopback iperf3 in Gbit/s, or undefined when iperf3 is not installed. */
export async function iperf3Loopback (seconds: number): Promise<number | undefined> {
  try {
    execFileSync('iperf3', ['--version'], { stdio: 'ignore' })
  } catch {
    return undefined
  }
  const port = await freePort()
  const server = spawn('iperf3', ['-s', '-1', '-B', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' })
  try {
    await new Promise((resolve) => setTimeout(resolve, 300))
    const out = execFileSync('iperf3', ['-c', '127.0.0.1', '-p', String(port), '-t', String(Math.max(1, Math.round(seconds))), '-J'], { encoding: 'utf8' })
    const bps = (JSON.parse(out) as { end?: { sum_received?: { bits_per_second?: number } } }).end?.sum_received?.bits_per_second
    return bps === undefined ? undefined : Math.round(bps / 1e7) / 100
  } catch {
    return undefined
  } finally {
    server.kill()
  }
}

export async function loopbackCeiling (seconds: number): Promise<number> {
  const worker = fileURLToPath(new URL('../workers/loopback-flood.ts', import.meta.url))
  return await new Promise<number>((resolve, reject) => {
    const child = fork(worker, [String(seconds)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    child.once('message', (m) => resolve((m as { MBps: number }).MBps))
    child.once('error', reject)
    child.once('exit', (code) => { if (code !== 0) reject(new Error(`loopback flood exited ${code}`)) })
  })
}

/** Share of the last 60 s in which some task waited for a CPU (Linux PSI), or undefined. */
export function cpuPressure (): number | undefined {
  try {
    const m = /^some avg10=[\d.]+ avg60=([\d.]+)/m.exec(fs.readFileSync('/proc/pressure/cpu', 'utf8'))
    return m ? Number(m[1]) : undefined
  } catch {
    return undefined
  }
}

/** Above this CPU pressure other work shares the machine enough to skew ratios and latencies. */
export const MAX_CPU_PRESSURE = 25

/** Re-checks pressure after the run; marks the record invalid when the machine was busy. */
export function finishEnvironment (env: EnvRecord): void {
  const p = cpuPressure()
  if (p === undefined) return
  env.cpuPressureEnd = p
  if (env.valid && (p > MAX_CPU_PRESSURE || (env.cpuPressureStart ?? 0) > MAX_CPU_PRESSURE)) {
    env.valid = false
    env.invalidReason = `CPU pressure (PSI some avg60) ${env.cpuPressureStart ?? '?'} % at start, ${p} % at end: other work was competing for the CPUs`
  }
}

export async function environment (opts: { quick: boolean, previousCeilingMBps?: number }): Promise<EnvRecord> {
  const cpus = os.cpus()
  const env: EnvRecord = {
    node: process.version,
    nproc: os.availableParallelism(),
    cpuModel: cpus[0]?.model ?? 'unknown',
    platform: `${os.platform()} ${os.arch()}`,
    kernel: os.release(),
    totalMemMb: Math.round(os.totalmem() / 1048576),
    loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100),
    startedAt: new Date().toISOString(),
    valid: true
  }
  const pressure = cpuPressure()
  if (pressure !== undefined) env.cpuPressureStart = pressure
  const gbps = await iperf3Loopback(opts.quick ? 1 : 2)
  if (gbps !== undefined) env.iperf3Gbps = gbps
  try {
    env.ceilingMBps = Math.round(await loopbackCeiling(opts.quick ? 0.5 : 2))
  } catch (err) {
    env.valid = false
    env.invalidReason = `ceiling check failed: ${(err as Error).message}`
  }
  if (env.ceilingMBps !== undefined && opts.previousCeilingMBps !== undefined && env.ceilingMBps < 0.5 * opts.previousCeilingMBps) {
    env.valid = false
    env.invalidReason = `loopback ceiling ${env.ceilingMBps} MB/s is below half of the previous run's ${opts.previousCeilingMBps} MB/s (machine busy?)`
  }
  return env
}
