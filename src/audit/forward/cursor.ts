// A forwarder's cursor: the last seq its sink acknowledged, persisted beside
// the log (`<file>.<sink>.cursor`) the way Fluent Bit's tail input keeps its
// offsets database and Vector its checkpoints: written to a temporary file,
// fsync'd, renamed over the old one and the directory fsync'd, so after a
// crash (SIGKILL included) the cursor is either the old or the new one —
// never ahead of what the sink acknowledged. Resuming from an older cursor
// re-sends records the sink already has: at-least-once, and receivers dedupe
// by (replica, seq).
import { open, readFile, rename } from 'node:fs/promises'
import path from 'node:path'
import { cursorFile } from '../files.ts'

export interface Cursor {
  seq: number
  time?: string
}

export async function loadCursor (activeFile: string, sink: string): Promise<Cursor | null> {
  let text: string
  try {
    text = await readFile(cursorFile(activeFile, sink), 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
  const c = JSON.parse(text) as { seq?: unknown, time?: unknown }
  if (!Number.isSafeInteger(c.seq) || (c.seq as number) < 0) throw new Error(`${cursorFile(activeFile, sink)}: no valid seq`)
  return typeof c.time === 'string' ? { seq: c.seq as number, time: c.time } : { seq: c.seq as number }
}

export async function saveCursor (activeFile: string, sink: string, cursor: Cursor): Promise<void> {
  const file = cursorFile(activeFile, sink)
  const tmp = `${file}.tmp`
  const fh = await open(tmp, 'w', 0o600)
  try {
    await fh.writeFile(JSON.stringify({ sink, ...cursor }) + '\n')
    await fh.datasync()
  } finally {
    await fh.close()
  }
  await rename(tmp, file)
  const dir = await open(path.dirname(file), 'r')
  try {
    await dir.sync().catch(() => {}) // some filesystems refuse fsync on directories
  } finally {
    await dir.close()
  }
}
