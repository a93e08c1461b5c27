// `wait`: kubectl's waitForContainer on a watch (not polling): until the
// container runs, terminates or fails to pull/start, or the time runs out.
import type { CallOptions, DebugClient } from '../kube/debug-client.ts'
import type { Pod } from '../kube/types.ts'
import { containerView, isSettled } from '../sessions/state.ts'

export interface WaitArgs {
  namespace: string
  pod: string
  container: string
  /** The pod as the create/patch returned it; the watch starts at its resourceVersion. */
  from: Pod
  seconds: number
  callOpts: CallOptions
  /** Ends the wait early (the client went away). */
  signal?: AbortSignal
}

/** The latest pod seen, and whether the container settled (false = timed out, deleted or aborted). */
export async function waitForContainer (client: DebugClient, a: WaitArgs): Promise<{ pod: Pod, settled: boolean }> {
  let latest = a.from
  if (isSettled(containerView(latest, a.container))) return { pod: latest, settled: true }
  const ac = new AbortController()
  const timer = setTimeout(() => ac.abort(), a.seconds * 1000)
  const onAbort = (): void => ac.abort()
  a.signal?.addEventListener('abort', onAbort, { once: true })
  let settled = false
  try {
    const rv = (a.from.metadata as { resourceVersion?: string }).resourceVersion ?? '0'
    await client.watchPod(a.namespace, a.pod, { resourceVersion: rv, timeoutSeconds: a.seconds, signal: ac.signal }, (event) => {
      if (event.type === 'BOOKMARK') return false
      latest = event.object
      if (event.type === 'DELETED') return true
      settled = isSettled(containerView(latest, a.container))
      return settled
    }, { ...a.callOpts, signal: ac.signal })
  } catch {
    // A broken watch (e.g. 410 Gone) is not the create failing: report the state as it is now.
    latest = await client.getPod(a.namespace, a.pod, a.callOpts).catch(() => latest)
    settled = isSettled(containerView(latest, a.container))
  } finally {
    clearTimeout(timer)
    a.signal?.removeEventListener('abort', onAbort)
  }
  return { pod: latest, settled }
}
