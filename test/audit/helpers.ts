// Shared helpers for the audit tests.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { nodeFileSystem } from '../../src/audit/file-sink.ts'
import type { AuditFileSystem } from '../../src/audit/file-sink.ts'
import type { AuditEntry } from '../../src/audit/types.ts'

export function tempDir (): { dir: string, file: string, cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdebug-audit-'))
  return { dir, file: path.join(dir, 'audit.jsonl'), cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) }
}

export function entry (i: number, extra: Partial<AuditEntry> = {}): AuditEntry {
  return {
    requestId: `req-${i}`,
    action: 'ephemeral.create',
    phase: 'request',
    actor: { user: 'alice', groups: ['dev'] },
    target: { namespace: 'demo', pod: `web-${i}` },
    request: { image: 'busybox:1.36', reason: `case ${i}` },
    ...extra
  }
}

export interface CountingFs extends AuditFileSystem {
  calls: { write: number, fdatasync: number, open: number }
  /** When set, write/fdatasync/open throw this error. */
  failWith: { write?: Error | null, fdatasync?: Error | null, open?: Error | null }
  /** Bytes to accept from the next write before failing (simulates a partial write then error). */
  partialThenFail?: number | null
}

export function countingFs (): CountingFs {
  const c: CountingFs = {
    ...nodeFileSystem,
    calls: { write: 0, fdatasync: 0, open: 0 },
    failWith: {},
    partialThenFail: null,
    async open (file, flags, mode) {
      if (c.failWith.open) throw c.failWith.open
      if (flags !== 'r') c.calls.open++
      return nodeFileSystem.open(file, flags, mode)
    },
    async write (fd, buf) {
      c.calls.write++
      if (c.partialThenFail != null) {
        const n = c.partialThenFail
        c.partialThenFail = null
        await nodeFileSystem.write(fd, buf.subarray(0, n))
        c.failWith.write = errno('ENOSPC')
        throw c.failWith.write
      }
      if (c.failWith.write) throw c.failWith.write
      return nodeFileSystem.write(fd, buf)
    },
    async fdatasync (fd) {
      c.calls.fdatasync++
      if (c.failWith.fdatasync) throw c.failWith.fdatasync
      return nodeFileSystem.fdatasync(fd)
    }
  }
  return c
}

export function errno (code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: simulated`), { code })
}

export function readLines (file: string): string[] {
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '')
}
