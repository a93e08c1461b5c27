// Where a gateway debug session's attach recordings live: attach writes them
// (src/attach/recording.ts), GET /v1/sessions/{id}/recording reads the newest.
// Files on the replica that relayed the attach.
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'

/** Only names the gateway makes (session ids): nothing that could walk out of the recordings directory. */
const SAFE_SESSION_ID = /^[A-Za-z0-9][A-Za-z0-9_-]*$/

/**
 * Where an attach session records: under its gateway debug session's id when it
 * has one (so GET /v1/sessions/{id}/recording can find it), else at the top.
 */
export function recordingDir (dir: string, gatewaySession: string | undefined): string {
  return gatewaySession !== undefined && SAFE_SESSION_ID.test(gatewaySession) ? join(dir, 'sessions', gatewaySession) : dir
}

/** The newest recording of a gateway debug session on this replica, or undefined. */
export async function latestRecording (dir: string, gatewaySession: string): Promise<string | undefined> {
  if (!SAFE_SESSION_ID.test(gatewaySession)) return undefined
  const sessionDir = join(dir, 'sessions', gatewaySession)
  const names = await readdir(sessionDir).catch(() => [] as string[])
  let newest: { file: string, mtimeMs: number } | undefined
  for (const name of names.filter(n => n.endsWith('.cast'))) {
    const file = join(sessionDir, name)
    const st = await stat(file).catch(() => undefined)
    if (st?.isFile() === true && (newest === undefined || st.mtimeMs > newest.mtimeMs)) newest = { file, mtimeMs: st.mtimeMs }
  }
  return newest?.file
}
