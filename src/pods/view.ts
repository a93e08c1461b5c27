// A pod as the picker shows it. Pure: the same pod and keys give the same view
// on every replica. Our debug sessions are recognised by their signed metadata
// (src/debug/sessions.ts); unverified metadata is shown as a claim without a requester.
import type { Pod } from '../kube/types.ts'
import { ephemeralSessions, podSession, type FoundSession, type VerifyFn } from '../sessions/found.ts'
import type { PodItem } from './schemas.ts'

type ContainerState = PodItem['containers'][number]['state']

interface RawStatus {
  name: string
  ready?: boolean
  restartCount?: number
  state?: { running?: unknown, waiting?: unknown, terminated?: unknown }
}

interface RawContainer { name: string, image?: string, tty?: boolean, stdin?: boolean, targetContainerName?: string }

function stateOf (status: RawStatus | undefined): ContainerState {
  if (status?.state?.running) return 'running'
  if (status?.state?.terminated) return 'terminated'
  return 'waiting'
}

function sessionRef (found: FoundSession): NonNullable<PodItem['session']> {
  const s = found.session
  const ref: NonNullable<PodItem['session']> = { id: s.id, verified: found.verified }
  if (found.verified) ref.requester = s.requestedBy
  if (s.reason !== undefined) ref.reason = s.reason
  if (s.expiresAt !== undefined) ref.expiresAt = s.expiresAt
  return ref
}

export function podItem (pod: Pod, nowMs: number, verify: VerifyFn): PodItem {
  const status = (pod.status ?? {}) as { phase?: string, containerStatuses?: RawStatus[], ephemeralContainerStatuses?: RawStatus[] }
  const meta = pod.metadata as { name?: string, creationTimestamp?: string }
  const byName = (list: RawStatus[] | undefined, name: string): RawStatus | undefined => list?.find(s => s.name === name)
  const sessions = new Map(ephemeralSessions(pod, nowMs, verify).map(f => [f.session.container, f]))
  const item: PodItem = {
    name: meta.name ?? '',
    phase: status.phase ?? 'Pending',
    containers: (pod.spec.containers as RawContainer[]).map(c => {
      const st = byName(status.containerStatuses, c.name)
      return {
        name: c.name,
        ...(c.image ? { image: c.image } : {}),
        state: stateOf(st),
        ready: st?.ready === true,
        restarts: st?.restartCount ?? 0,
        tty: c.tty === true,
        stdin: c.stdin === true
      }
    }),
    ephemeralContainers: ((pod.spec.ephemeralContainers ?? []) as RawContainer[]).map(c => {
      const found = sessions.get(c.name)
      return {
        name: c.name,
        ...(c.image ? { image: c.image } : {}),
        state: stateOf(byName(status.ephemeralContainerStatuses, c.name)),
        tty: c.tty === true,
        stdin: c.stdin === true,
        ...(c.targetContainerName ? { targetContainer: c.targetContainerName } : {}),
        ...(found ? { session: sessionRef(found) } : {})
      }
    })
  }
  if (pod.spec.nodeName) item.node = pod.spec.nodeName
  if (meta.creationTimestamp) item.createdAt = meta.creationTimestamp
  const own = podSession(pod, nowMs, verify)
  if (own) item.session = sessionRef(own)
  return item
}
