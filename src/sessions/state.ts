// Where a container stands, from the pod's status, in the terms sessions use. Pure.
import type { Pod } from '../kube/types.ts'
import type { ContainerStatusView, SessionState } from '../schemas/debug.ts'

/** Waiting reasons after which the container will not start without a change (kubelet images/types.go, kuberuntime). */
export const PULL_FAILURE_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull', 'RegistryUnavailable', 'SignatureValidationFailed'])
const START_FAILURE_REASONS = new Set(['CreateContainerConfigError', 'CreateContainerError', 'RunContainerError', 'PreCreateHookError', 'PreStartHookError'])

interface RawState {
  waiting?: { reason?: string, message?: string }
  running?: { startedAt?: string }
  terminated?: { exitCode?: number, reason?: string, message?: string, startedAt?: string, finishedAt?: string }
}

interface RawContainerStatus { name: string, state?: RawState }

interface RawPodStatus {
  phase?: string
  containerStatuses?: RawContainerStatus[]
  initContainerStatuses?: RawContainerStatus[]
  ephemeralContainerStatuses?: RawContainerStatus[]
}

export interface ContainerView {
  state: SessionState
  status?: ContainerStatusView
}

/** The container's status by name across regular, init and ephemeral statuses (as kubectl's waitForContainer looks it up). */
export function findContainerStatus (pod: Pod, name: string): RawContainerStatus | undefined {
  const st = (pod.status ?? {}) as RawPodStatus
  for (const list of [st.containerStatuses, st.initContainerStatuses, st.ephemeralContainerStatuses]) {
    const found = list?.find(s => s.name === name)
    if (found) return found
  }
  return undefined
}

function clean (v: ContainerStatusView): ContainerStatusView | undefined {
  const out = Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined && x !== '')) as ContainerStatusView
  return Object.keys(out).length > 0 ? out : undefined
}

function withStatus (state: SessionState, status: ContainerStatusView): ContainerView {
  const s = clean(status)
  return s === undefined ? { state } : { state, status: s }
}

export function containerView (pod: Pod, name: string): ContainerView {
  if ((pod.metadata as { deletionTimestamp?: string }).deletionTimestamp) return { state: 'deleting' }
  const state = findContainerStatus(pod, name)?.state
  if (state === undefined) return { state: 'pending' }
  if (state.running) return withStatus('running', { startedAt: state.running.startedAt })
  if (state.terminated) {
    const t = state.terminated
    return withStatus('terminated', { reason: t.reason, message: t.message, exitCode: t.exitCode, startedAt: t.startedAt, finishedAt: t.finishedAt })
  }
  const w = state.waiting ?? {}
  const failed = w.reason !== undefined && PULL_FAILURE_REASONS.has(w.reason)
  return withStatus(failed ? 'image-pull-failed' : 'waiting', { reason: w.reason, message: w.message })
}

/** What `wait` waits for: running, terminated, or a state it will not leave by itself. */
export function isSettled (view: ContainerView): boolean {
  if (view.state === 'running' || view.state === 'terminated' || view.state === 'image-pull-failed') return true
  return view.state === 'waiting' && view.status?.reason !== undefined && START_FAILURE_REASONS.has(view.status.reason)
}
