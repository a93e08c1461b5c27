// The expiry wrapper of ephemeral containers. Kubernetes cannot remove an
// ephemeral container (the ephemeralcontainers subresource only adds), so a
// debug shell outlives its session unless its own process ends: images that
// ship `timeout` (busybox, alpine, netshoot) run the command under
// `timeout -s KILL <seconds>`, and the process is killed at the session's
// expiry. KILL, not TERM: an interactive shell ignores SIGTERM.
// Without an ENTRYPOINT in those images, `command` replaces only their
// default shell, so a request without a command gets that shell spelled out;
// `args` stay as they were (a request with args only runs `timeout … args`).
import type { Container } from '../../kube/types.ts'

export interface ExpiryWrap {
  /** Seconds until the session expires (at least 1). */
  seconds: number
  /** The image's default command, used when the request names none. */
  defaultCommand: readonly string[]
}

export const EXPIRY_SIGNAL = 'KILL'

export function expiryPrefix (seconds: number): string[] {
  return ['timeout', '-s', EXPIRY_SIGNAL, String(Math.max(1, Math.ceil(seconds)))]
}

export function wrapForExpiry<C extends Container> (container: C, wrap: ExpiryWrap): C & { command: string[] } {
  const hasArgs = (container.args?.length ?? 0) > 0
  const command = container.command !== undefined && container.command.length > 0
    ? container.command
    : hasArgs ? [] : [...wrap.defaultCommand]
  return { ...container, command: [...expiryPrefix(wrap.seconds), ...command] }
}
