#!/usr/bin/env node
// kdebug-audit-verify PATH... [--expect-last-hash HEX] [--anchor SEQ:HASH]
//                     [--anchor-from-cluster [--namespace NS] [--replica NAME] [--kubeconfig FILE] [--context NAME]]
//                     [--allow-partial-start]
// PATH: a directory (the log in it, rotated files and the active one), an
// active file (with its rotated siblings FILE.<seq>), or several files
// (checked in the order given, as one chain).
// Exit codes: 0 chain intact, 1 broken (names the first broken file and line), 2 usage or I/O error.

import { realpathSync, statSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { isHexHash } from './chain.ts'
import { activeFilesIn, inOrder, listAuditFiles } from './files.ts'
import { fetchAnchor } from './anchor.ts'
import { verifyAuditChain } from './verify.ts'
import type { ChainAnchor } from './verify.ts'
import { loadKubeConfig } from '../kube/cluster.ts'
import { kubeLeaseClient } from '../kube/lease-client.ts'

const USAGE = 'usage: kdebug-audit-verify PATH... [--expect-last-hash HEX] [--anchor SEQ:HASH] [--anchor-from-cluster [--namespace NS] [--replica NAME] [--kubeconfig FILE] [--context NAME]] [--allow-partial-start]'

export interface CliIo {
  out: (line: string) => void
  err: (line: string) => void
  env?: Record<string, string | undefined>
}

const stdio: CliIo = {
  out: (line) => { process.stdout.write(line + '\n') },
  err: (line) => { process.stderr.write(line + '\n') },
  env: process.env
}

interface Args {
  paths: string[]
  expectLastHash?: string
  anchor?: ChainAnchor
  fromCluster: boolean
  namespace: string
  replica?: string
  kubeconfig?: string
  context?: string
  allowPartialStart: boolean
}

const VALUED = new Set(['--expect-last-hash', '--anchor', '--namespace', '--replica', '--kubeconfig', '--context'])

function parseArgs (argv: string[]): Args | string {
  const a: Args = { paths: [], fromCluster: false, namespace: 'kdebug', allowPartialStart: false }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    const eq = arg.indexOf('=')
    const flag = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg
    if (VALUED.has(flag)) {
      const v = eq > 0 && arg.startsWith('--') ? arg.slice(eq + 1) : argv[++i]
      if (v === undefined || v === '') return `${flag} needs a value`
      if (flag === '--expect-last-hash') {
        if (!isHexHash(v.toLowerCase())) return '--expect-last-hash needs 64 hex characters'
        a.expectLastHash = v.toLowerCase()
      } else if (flag === '--anchor') {
        const m = /^(\d+):([0-9a-fA-F]{64})$/.exec(v)
        if (!m) return '--anchor needs SEQ:HASH (a seq and 64 hex characters)'
        a.anchor = { seq: Number(m[1]), hash: (m[2] as string).toLowerCase() }
      } else if (flag === '--namespace') a.namespace = v
      else if (flag === '--replica') a.replica = v
      else if (flag === '--kubeconfig') a.kubeconfig = v
      else a.context = v
    } else if (arg === '--anchor-from-cluster') a.fromCluster = true
    else if (arg === '--allow-partial-start') a.allowPartialStart = true
    else if (arg === '-h' || arg === '--help') return 'help'
    else if (arg.startsWith('-') && arg !== '-') return `unknown option ${arg}`
    else a.paths.push(arg)
  }
  if (a.paths.length === 0) return 'name a file or directory'
  if (a.anchor && a.fromCluster) return '--anchor and --anchor-from-cluster exclude each other'
  return a
}

/** The files to check, in chain order. */
async function filesOf (paths: string[]): Promise<string[]> {
  if (paths.length > 1) return paths
  const p = paths[0] as string
  let isDir = false
  try { isDir = statSync(p).isDirectory() } catch { /* a missing file is reported by the verifier */ }
  if (isDir) {
    const logs = await activeFilesIn(p)
    if (logs.length === 0) throw new Error(`no audit log in ${p}`)
    if (logs.length > 1) throw new Error(`several audit logs in ${p} (${logs.join(', ')}); name the active file`)
    return inOrder(await listAuditFiles(logs[0] as string))
  }
  const listed = await listAuditFiles(p)
  return listed.rotated.length > 0 ? inOrder(listed) : [p]
}

/** The `replica` of the last record in the newest file that has one. */
async function replicaOf (files: string[]): Promise<string | undefined> {
  for (const file of [...files].reverse()) {
    let fh
    try { fh = await open(file, 'r') } catch { continue }
    try {
      const { size } = await fh.stat()
      const len = Math.min(size, 1024 * 1024)
      const buf = Buffer.alloc(len)
      await fh.read(buf, 0, len, size - len)
      const lines = buf.toString('utf8').split('\n').filter((l) => l !== '')
      for (const line of lines.reverse()) {
        try {
          const r = JSON.parse(line) as { replica?: unknown }
          if (typeof r.replica === 'string') return r.replica
        } catch { /* torn or partial first line of the window */ }
      }
    } finally {
      await fh.close()
    }
  }
  return undefined
}

export async function main (argv: string[], io: CliIo = stdio): Promise<number> {
  const args = parseArgs(argv)
  if (args === 'help') {
    io.out(USAGE)
    return 0
  }
  if (typeof args === 'string') {
    io.err(args)
    io.err(USAGE)
    return 2
  }
  let files: string[]
  let anchor = args.anchor
  try {
    files = await filesOf(args.paths)
  } catch (err) {
    io.err(`cannot read ${args.paths.join(' ')}: ${(err as Error).message}`)
    return 2
  }
  if (args.fromCluster) {
    try {
      const replica = args.replica ?? await replicaOf(files)
      if (replica === undefined) throw new Error('the log names no replica; pass --replica')
      const kubeConfig = loadKubeConfig({ kubeconfig: args.kubeconfig, context: args.context, env: io.env ?? {} })
      const found = await fetchAnchor(kubeLeaseClient(kubeConfig), args.namespace, replica)
      if (found === null) throw new Error(`no anchor Lease for replica ${replica} in namespace ${args.namespace}`)
      io.out(`anchor: replica ${replica}, seq ${found.seq}, hash ${found.hash}, at ${found.time}`)
      anchor = { seq: found.seq, hash: found.hash }
    } catch (err) {
      io.err(`cannot read the anchor from the cluster: ${(err as Error).message}`)
      return 2
    }
  }
  try {
    const res = await verifyAuditChain(files, {
      ...(args.expectLastHash === undefined ? {} : { expectLastHash: args.expectLastHash }),
      ...(anchor === undefined ? {} : { anchor }),
      allowPartialStart: args.allowPartialStart
    })
    if (res.ok) {
      io.out(files.length === 1
        ? `OK: ${res.records} records, last hash ${res.lastHash}`
        : `OK: ${res.records} records in ${res.files} files (seq ${res.firstSeq}–${res.lastSeq}), last hash ${res.lastHash}`)
      for (const note of res.notes) io.out(`  ${note}`)
      return 0
    }
    io.out(files.length === 1 ? `BROKEN at line ${res.line}: ${res.reason}` : `BROKEN at ${res.file} line ${res.line}: ${res.reason}`)
    return 1
  } catch (err) {
    io.err(`cannot read ${args.paths.join(' ')}: ${(err as Error).message}`)
    return 2
  }
}

function isEntry (): boolean {
  const argv1 = process.argv[1]
  if (!argv1) return false
  try {
    return realpathSync(argv1) === realpathSync(fileURLToPath(import.meta.url))
  } catch {
    return false
  }
}

if (isEntry()) {
  process.exitCode = await main(process.argv.slice(2))
}
