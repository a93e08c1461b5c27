// The attach subresource ends with a plain Success whatever the process's
// exit status (the kubelet's ServeAttach reports none), so — like `kubectl
// run -i` — the exit code is read from the pod status once the streams end.
// The kubelet updates the status a moment after the exit, hence the short poll.

interface Terminated { exitCode?: number }
interface ContainerStatus { name: string, state?: { terminated?: Terminated, waiting?: unknown }, lastState?: { terminated?: Terminated } }

/** The parts of a core/v1 Pod (wire JSON or client-node's V1Pod) the lookup reads. */
export interface PodStatusLike {
  spec?: { containers: Array<{ name: string }> }
  status?: { containerStatuses?: ContainerStatus[], initContainerStatuses?: ContainerStatus[], ephemeralContainerStatuses?: ContainerStatus[] }
}

/** Exit code of a container that has terminated; undefined while it runs (or is unknown). */
export function exitCodeFromPod (pod: PodStatusLike, container: string | undefined): number | undefined {
  const st = pod.status
  const all: ContainerStatus[] = [
    ...(st?.containerStatuses ?? []),
    ...(st?.initContainerStatuses ?? []),
    ...(st?.ephemeralContainerStatuses ?? [])
  ]
  const name = container ?? (pod.spec?.containers.length === 1 ? pod.spec.containers[0]?.name : undefined)
  const cs = all.find(s => s.name === name)
  if (!cs) return undefined
  if (cs.state?.terminated) return cs.state.terminated.exitCode
  // Restarting (restartPolicy Always/OnFailure): the run we were attached to is lastState.
  if (cs.state?.waiting && cs.lastState?.terminated) return cs.lastState.terminated.exitCode
  return undefined
}

export interface ExitCodeLookup {
  readPod: () => Promise<PodStatusLike>
  container: string | undefined
  timeoutMs: number
  intervalMs?: number
}

/** Polls the pod until the container shows an exit code or the timeout passes. */
export async function lookupExitCode (o: ExitCodeLookup): Promise<number | undefined> {
  const deadline = Date.now() + o.timeoutMs
  const interval = o.intervalMs ?? 100
  for (;;) {
    const code = exitCodeFromPod(await o.readPod(), o.container)
    if (code !== undefined) return code
    if (Date.now() + interval > deadline) return undefined
    await new Promise(resolve => setTimeout(resolve, interval))
  }
}
