// What to ask the API server for when attaching, read from the pod itself.
// The kubelet attaches with the container spec's TTY whatever the request says
// (kubernetes pkg/kubelet/kubelet_pods.go GetAttach), and the CRI streaming
// server then refuses a tty together with stderr (pkg/kubelet/cri/streaming/
// server.go validateAttachRequest: "tty and stderr cannot both be true").
// kubectl therefore reads the container spec first and asks for stderr only
// without a tty (staging/src/k8s.io/kubectl/pkg/cmd/attach/attach.go Run,
// SetupTTY). The client's `tty` is a hint; the spec decides.

interface ContainerSpec { name: string, tty?: boolean, stdin?: boolean }
interface ContainerState {
  running?: unknown
  waiting?: { reason?: string, message?: string }
  terminated?: { reason?: string, message?: string, exitCode?: number }
}
interface ContainerStatus { name: string, state?: ContainerState }

/** The parts of a core/v1 Pod these functions read. */
export interface PodLike {
  metadata?: { deletionTimestamp?: string | Date }
  spec?: { containers?: ContainerSpec[], initContainers?: ContainerSpec[], ephemeralContainers?: ContainerSpec[] }
  status?: { containerStatuses?: ContainerStatus[], initContainerStatuses?: ContainerStatus[], ephemeralContainerStatuses?: ContainerStatus[] }
}

export interface AttachHint {
  /** The client wants to send input. */
  stdin: boolean
  /** The client expects a TTY (ignored: the container spec decides). */
  tty: boolean
  /** The client wants stderr (default: yes, when there is no TTY). */
  stderr?: boolean
}

export interface AttachStreams {
  /** The container the streams are for (defaulted when the pod has exactly one container). */
  container: string
  stdin: boolean
  stdout: boolean
  stderr: boolean
  tty: boolean
  /** The client asked for a TTY the container does not have (kubectl warns "Unable to use a TTY"). */
  ttyUnavailable: boolean
}

/** The container a request names, or the only regular container; undefined when ambiguous or absent. */
export function containerSpecFor (pod: PodLike, name: string | undefined): ContainerSpec | undefined {
  const spec = pod.spec ?? {}
  if (name === undefined) return spec.containers?.length === 1 ? spec.containers[0] : undefined
  for (const list of [spec.containers, spec.initContainers, spec.ephemeralContainers]) {
    const c = list?.find(x => x.name === name)
    if (c) return c
  }
  return undefined
}

/**
 * The attach parameters that work against the kubelet: tty and stdin from the container spec
 * (input to a container without stdin goes nowhere), stdout always, stderr only without a tty.
 * undefined when the container cannot be determined (the API server's 400 then says why).
 */
export function attachStreamsFor (pod: PodLike, container: string | undefined, hint: AttachHint): AttachStreams | undefined {
  const spec = containerSpecFor(pod, container)
  if (!spec) return undefined
  const tty = spec.tty === true
  return {
    container: spec.name,
    stdin: hint.stdin && spec.stdin === true,
    stdout: true,
    stderr: tty ? false : hint.stderr ?? true,
    tty,
    ttyUnavailable: hint.tty && !tty
  }
}

export type Attachability =
  | { attachable: true }
  | { attachable: false, state: 'waiting' | 'terminated' | 'deleting' | 'unknown', reason: string, message?: string, exitCode?: number }

/**
 * Whether the kubelet will attach to the container now: only a running container is found
 * (kubelet_pods.go GetAttach → findContainer over running pods); anything else fails after the
 * API server's upgrade, so the gateway checks first and says why.
 */
export function containerAttachable (pod: PodLike, container: string): Attachability {
  if (pod.metadata?.deletionTimestamp) return { attachable: false, state: 'deleting', reason: 'Terminating', message: 'the pod is being deleted' }
  const st = pod.status ?? {}
  let state: ContainerState | undefined
  for (const list of [st.containerStatuses, st.initContainerStatuses, st.ephemeralContainerStatuses]) {
    const s = list?.find(x => x.name === container)
    if (s) { state = s.state ?? {}; break }
  }
  if (state === undefined) return { attachable: false, state: 'unknown', reason: 'NoStatus', message: 'the kubelet has not reported this container yet' }
  if (state.running) return { attachable: true }
  if (state.terminated) {
    const t = state.terminated
    return { attachable: false, state: 'terminated', reason: t.reason ?? 'Terminated', ...(t.message ? { message: t.message } : {}), ...(t.exitCode !== undefined ? { exitCode: t.exitCode } : {}) }
  }
  const w = state.waiting ?? {}
  return { attachable: false, state: 'waiting', reason: w.reason ?? 'Waiting', ...(w.message ? { message: w.message } : {}) }
}

/** Worth waiting for: a state the container leaves by itself (not terminated, not deleting). */
export function mayBecomeAttachable (a: Attachability): boolean {
  return !a.attachable && (a.state === 'waiting' || a.state === 'unknown')
}
