// The kubelet's half of pods/attach, for a request the API server has already accepted.
import type { KObject } from '../apimachinery/types.ts'
import { containerSpecOf, containerState } from '../registry/pod-strategy.ts'
import type { AttachOptions, StreamTimers } from './attach.ts'
import type { ContainerProcess, ProcessTable } from './process.ts'

/** What the kubelet answers when it cannot attach: its HTTP status and plain-text body. */
export interface KubeletRefusal { httpStatus: number, text: string }

export type AttachResolution =
  | { proc: ContainerProcess, opts: AttachOptions, refusal?: undefined }
  | { refusal: KubeletRefusal, proc?: undefined, opts?: undefined }

/** The streams the attach request asks for (its stdin/stdout/stderr/tty query parameters). */
export interface RequestedStreams { stdin: boolean, stdout: boolean, stderr: boolean, tty: boolean }

export interface Kubelet {
  processes: ProcessTable
  /** --streaming-connection-idle-timeout in ms; 0 = never. */
  streamIdleTimeoutMs: number
  /** Timers of that deadline (default real; tests step them). */
  streamTimers?: StreamTimers
}

/**
 * - pkg/kubelet/cri/streaming/remotecommand/httpstream.go NewOptions: a requested tty drops
 *   stderr silently; no stream at all is a 400 "you must specify at least 1 of stdin, stdout, stderr".
 * - pkg/kubelet/kubelet_pods.go GetAttach: the container must be running (findContainer looks
 *   only at running containers) — else "container C not found in pod NAME_NAMESPACE" — and the
 *   tty used is the container spec's TTY, never the request's.
 * - pkg/kubelet/cri/streaming/server.go validateAttachRequest (CRI runtime): tty with stderr is
 *   InvalidArgument "tty and stderr cannot both be true".
 * Runtime errors reach the client through streaming.WriteError (errors.go): 500 (404 for
 * codes.NotFound) with err.Error() as a plain-text body.
 */
export function kubeletAttach (kubelet: Kubelet, pod: KObject, container: string, requested: RequestedStreams): AttachResolution {
  const { stdin, stdout } = requested
  let stderr = requested.stderr
  if (requested.tty && stderr) stderr = false
  if (!stdin && !stdout && !stderr) return { refusal: { httpStatus: 400, text: 'you must specify at least 1 of stdin, stdout, stderr' } }
  const ns = pod.metadata.namespace ?? ''
  const name = pod.metadata.name ?? ''
  const state = containerState(pod, container)
  const proc = kubelet.processes.get(ns, name, container)
  if (!state?.running || !proc || proc.exited) return { refusal: { httpStatus: 500, text: `container ${container} not found in pod ${name}_${ns}` } }
  const tty = containerSpecOf(pod, container)?.tty === true
  if (tty && stderr) return { refusal: { httpStatus: 500, text: 'rpc error: code = InvalidArgument desc = tty and stderr cannot both be true' } }
  return { proc, opts: { stdin, stdout, stderr, tty, ...(kubelet.streamIdleTimeoutMs > 0 ? { idleTimeoutMs: kubelet.streamIdleTimeoutMs } : {}), ...(kubelet.streamTimers ? { timers: kubelet.streamTimers } : {}) } }
}
