// Where an audit log's files are. The active file is `audit.file`; when it is
// rotated it is renamed to `<file>.<seq of its first record, 16 digits>`, so
// names sort in chain order and a file's last seq is the next file's first
// seq − 1 (the chain and seq continue across files). Forwarders keep their
// cursors beside them as `<file>.<sink>.cursor`.
import { readdir } from 'node:fs/promises'
import path from 'node:path'

const SEQ_DIGITS = 16

export function rotatedName (activeFile: string, firstSeq: number): string {
  return `${activeFile}.${String(firstSeq).padStart(SEQ_DIGITS, '0')}`
}

export function cursorFile (activeFile: string, sink: string): string {
  return `${activeFile}.${sink}.cursor`
}

export interface RotatedFile {
  file: string
  firstSeq: number
}

export interface AuditFiles {
  /** Rotated files, oldest first. */
  rotated: RotatedFile[]
  active: string
}

/** The rotated files beside `activeFile`, oldest first (the active file may or may not exist). */
export async function listAuditFiles (activeFile: string): Promise<AuditFiles> {
  const dir = path.dirname(activeFile)
  const base = path.basename(activeFile)
  let names: string[]
  try {
    names = await readdir(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { rotated: [], active: activeFile }
    throw err
  }
  const rotated: RotatedFile[] = []
  for (const name of names) {
    if (name.length !== base.length + 1 + SEQ_DIGITS || !name.startsWith(base + '.')) continue
    const digits = name.slice(base.length + 1)
    if (!/^\d+$/.test(digits)) continue
    rotated.push({ file: path.join(dir, name), firstSeq: Number(digits) })
  }
  rotated.sort((a, b) => a.firstSeq - b.firstSeq)
  return { rotated, active: activeFile }
}

/** Every file of the log in chain order: the rotated ones, then the active one. */
export function inOrder (files: AuditFiles): string[] {
  return [...files.rotated.map((r) => r.file), files.active]
}

/**
 * The logs in a directory, by active file: every file with rotated siblings,
 * and otherwise files ending in .log or .jsonl. Used by the verifier when it
 * is given a directory.
 */
export async function activeFilesIn (dir: string): Promise<string[]> {
  const names = await readdir(dir)
  const bases = new Set<string>()
  const rotatedRe = new RegExp(`^(.+)\\.\\d{${SEQ_DIGITS}}$`)
  for (const name of names) {
    const m = rotatedRe.exec(name)
    if (m) bases.add(m[1] as string)
  }
  if (bases.size === 0) {
    for (const name of names) if (/\.(log|jsonl)$/.test(name)) bases.add(name)
  }
  return [...bases].sort().map((b) => path.join(dir, b))
}
