#!/usr/bin/env node
// kdebug-audit-verify FILE [--expect-last-hash HEX]
// Exit codes: 0 chain intact, 1 broken (names the first broken line), 2 usage or I/O error.

import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { isHexHash } from './chain.ts'
import { verifyAuditFile } from './verify.ts'

const USAGE = 'usage: kdebug-audit-verify FILE [--expect-last-hash HEX]'

export interface CliIo {
  out: (line: string) => void
  err: (line: string) => void
}

const stdio: CliIo = {
  out: (line) => { process.stdout.write(line + '\n') },
  err: (line) => { process.stderr.write(line + '\n') }
}

export async function main (argv: string[], io: CliIo = stdio): Promise<number> {
  let file: string | undefined
  let expectLastHash: string | undefined
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string
    if (a === '--expect-last-hash' || a.startsWith('--expect-last-hash=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i]
      if (v === undefined || !isHexHash(v.toLowerCase())) {
        io.err('--expect-last-hash needs 64 hex characters')
        io.err(USAGE)
        return 2
      }
      expectLastHash = v.toLowerCase()
    } else if (a === '-h' || a === '--help') {
      io.out(USAGE)
      return 0
    } else if (a.startsWith('-') && a !== '-') {
      io.err(`unknown option ${a}`)
      io.err(USAGE)
      return 2
    } else if (file === undefined) {
      file = a
    } else {
      io.err(USAGE)
      return 2
    }
  }
  if (file === undefined) {
    io.err(USAGE)
    return 2
  }
  try {
    const res = await verifyAuditFile(file, expectLastHash === undefined ? {} : { expectLastHash })
    if (res.ok) {
      io.out(`OK: ${res.records} records, last hash ${res.lastHash}`)
      return 0
    }
    io.out(`BROKEN at line ${res.line}: ${res.reason}`)
    return 1
  } catch (err) {
    io.err(`cannot read ${file}: ${(err as Error).message}`)
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
