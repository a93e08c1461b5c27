// The pod strategy's checks for the streaming subresources (log, attach):
// which container, whether the pod has a host, whether the container started
// (pkg/registry/core/pod/strategy.go; kubelet wording where it answers).
import type { KObject } from '../apimachinery/types.ts'
import { badRequest } from '../apimachinery/status.ts'

type Obj = Record<string, unknown>

interface ContainerLike { name: string }

function names (list: unknown): string[] {
  return (Array.isArray(list) ? list as ContainerLike[] : []).map(c => c.name)
}

/** validateContainer of pkg/registry/core/pod/strategy.go. */
export function pickContainer (pod: KObject, requested: string | null): string {
  const spec = (pod.spec ?? {}) as Obj
  const regular = names(spec.containers)
  const init = names(spec.initContainers)
  const eph = names(spec.ephemeralContainers)
  const podName = pod.metadata.name ?? ''
  if (!requested) {
    if (regular.length === 1 && regular[0]) return regular[0]
    if (regular.length === 0) throw badRequest(`a container name must be specified for pod ${podName}`)
    let msg = `a container name must be specified for pod ${podName}, choose one of: [${regular.join(' ')}]`
    if (init.length) msg += ` or one of the init containers: [${init.join(' ')}]`
    if (eph.length) msg += ` or one of the ephemeral containers: [${eph.join(' ')}]`
    throw badRequest(msg)
  }
  if (![...regular, ...init, ...eph].includes(requested)) throw badRequest(`container ${requested} is not valid for pod ${podName}`)
  return requested
}

/** The container's status `state` (regular, init or ephemeral); undefined when it has no status yet. */
export function containerState (pod: KObject, container: string): Obj | undefined {
  const st = (pod.status ?? {}) as Obj
  for (const k of ['containerStatuses', 'initContainerStatuses', 'ephemeralContainerStatuses']) {
    const cs = ((st[k] ?? []) as Array<{ name: string, state?: Obj, lastState?: Obj }>).find(s => s.name === container)
    if (cs) return cs.state ?? {}
  }
  return undefined
}

/** The container's spec (regular, init or ephemeral). */
export function containerSpecOf (pod: KObject, container: string): Obj | undefined {
  const spec = (pod.spec ?? {}) as Obj
  for (const k of ['containers', 'initContainers', 'ephemeralContainers']) {
    const c = ((spec[k] ?? []) as Obj[]).find(x => x.name === container)
    if (c) return c
  }
  return undefined
}

/** strategy.go streamLocation: a pod not yet scheduled has no kubelet to stream from. */
export function requireHost (pod: KObject): void {
  if (!(pod.spec as Obj | undefined)?.nodeName) throw badRequest(`pod ${pod.metadata.name ?? ''} does not have a host assigned`)
}

/** The kubelet refuses streams for containers that never started. */
export function requireStarted (pod: KObject, container: string): Obj {
  const state = containerState(pod, container)
  const waiting = state?.waiting as Obj | undefined
  if (!state || (waiting && !state.running && !state.terminated)) {
    // kubelet validateContainerLogStatus wording
    const reason = String(waiting?.reason ?? 'ContainerCreating')
    const why = reason === 'ErrImagePull' ? "image can't be pulled" : reason === 'ImagePullBackOff' ? 'trying and failing to pull image' : reason
    throw badRequest(`container "${container}" in pod "${pod.metadata.name ?? ''}" is waiting to start: ${why}`)
  }
  return state
}
