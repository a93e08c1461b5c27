// The scheduler and kubelet of the simulated cluster: binds new pods to a Ready
// node, then moves containers Waiting(ContainerCreating) → Running with the
// status fields a real kubelet (containerd runtime) reports; image pulls from
// `unreachable.invalid/` fail like an unresolvable registry; exits become
// `terminated`; deletion honours the grace period.
import { containerEnv } from './container-env.ts'
import { createHash } from 'node:crypto'
import type { KObject } from '../apimachinery/types.ts'
import type { Store } from '../storage/store.ts'
import { rfc3339 } from '../storage/store.ts'
import type { ContainerProcess, ProcessTable } from './process.ts'
import { StatusError } from '../apimachinery/status.ts'

export const UNREACHABLE_REGISTRY = 'unreachable.invalid/'

export interface LifecycleOptions {
  store: Store
  processes: ProcessTable
  /** ContainerCreating → Running. */
  startDelayMs?: number
  /** ErrImagePull → ImagePullBackOff. */
  pullBackOffMs?: number
  /** Back-off before a restartPolicy Always/OnFailure container is restarted. */
  restartDelayMs?: number
  /** How long the kubelet needs to stop a pod's containers on graceful delete (capped by the grace period). */
  terminationDelayMs?: number
  onError?: (err: unknown) => void
}

type Obj = Record<string, unknown>
interface Container { name: string, image?: string, command?: string[], args?: string[], stdin?: boolean, stdinOnce?: boolean, tty?: boolean, readinessProbe?: unknown }
interface ContainerStatus {
  name: string
  image: string
  imageID: string
  containerID?: string
  ready: boolean
  started?: boolean
  restartCount: number
  state: Obj
  lastState: Obj
}
type Kind = 'containers' | 'ephemeralContainers'
const statusField: Record<Kind, 'containerStatuses' | 'ephemeralContainerStatuses'> = {
  containers: 'containerStatuses',
  ephemeralContainers: 'ephemeralContainerStatuses'
}

function sha (s: string): string {
  return createHash('sha256').update(s).digest('hex')
}

/** Docker-style normalisation the CRI reports: `nginx:1.27` → `docker.io/library/nginx:1.27`. */
export function normalizeImage (image: string): string {
  let ref = image
  const first = ref.split('/')[0] ?? ''
  const hasRegistry = ref.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost')
  if (!hasRegistry) ref = (ref.includes('/') ? 'docker.io/' : 'docker.io/library/') + ref
  const lastPart = ref.slice(ref.lastIndexOf('/') + 1)
  if (!lastPart.includes(':') && !lastPart.includes('@')) ref += ':latest'
  return ref
}

function imageID (image: string): string {
  const n = normalizeImage(image)
  const repo = n.replace(/[:@][^/]*$/, '')
  return `${repo}@sha256:${sha(n)}`
}

function pullFailure (image: string): string {
  const n = normalizeImage(image)
  const host = n.split('/')[0] ?? ''
  const rest = n.slice(host.length + 1)
  const repo = rest.replace(/:[^:]*$/, '')
  const tag = rest.slice(repo.length + 1) || 'latest'
  // kubelet evalCRIPullErr: the CRI (gRPC) error text as is
  return `rpc error: code = Unknown desc = failed to pull and unpack image "${n}": failed to resolve reference "${n}": failed to do request: Head "https://${host}/v2/${repo}/manifests/${tag}": dial tcp: lookup ${host.replace(/:\d+$/, '')} on 10.96.0.10:53: no such host`
}

function containersOf (pod: KObject, kind: Kind): Container[] {
  const spec = (pod.spec ?? {}) as Obj
  return (Array.isArray(spec[kind]) ? spec[kind] : []) as Container[]
}

function statusOf (pod: KObject): Obj {
  if (!pod.status || typeof pod.status !== 'object') pod.status = {}
  return pod.status as Obj
}

export class PodLifecycle {
  readonly #store: Store
  readonly #processes: ProcessTable
  readonly #startDelayMs: number
  readonly #pullBackOffMs: number
  readonly #restartDelayMs: number
  readonly #terminationDelayMs: number
  readonly #onError: (err: unknown) => void
  readonly #timers = new Set<NodeJS.Timeout>()
  readonly #ipCounters = new Map<string, number>()
  readonly #exitUnsubs = new Map<string, () => void>()
  #closed = false

  constructor (opts: LifecycleOptions) {
    this.#store = opts.store
    this.#processes = opts.processes
    this.#startDelayMs = opts.startDelayMs ?? 20
    this.#pullBackOffMs = opts.pullBackOffMs ?? Math.max(50, (opts.startDelayMs ?? 20) * 5)
    this.#restartDelayMs = opts.restartDelayMs ?? 1000
    this.#terminationDelayMs = opts.terminationDelayMs ?? Math.max(50, (opts.startDelayMs ?? 20) * 2)
    this.#onError = opts.onError ?? (() => {})
  }

  #later (ms: number, fn: () => void): void {
    if (this.#closed) return
    const t = setTimeout(() => {
      this.#timers.delete(t)
      if (this.#closed) return
      try { fn() } catch (err) {
        if (!(err instanceof StatusError && err.code === 404)) this.#onError(err)
      }
    }, ms)
    t.unref()
    this.#timers.add(t)
  }

  /** Read-modify-write of a pod that is still the same object (uid) — no-op if it is gone. */
  #edit (ns: string, name: string, uid: string | undefined, fn: (pod: KObject) => boolean | void): KObject | undefined {
    const pod = this.#store.get('pods', ns, name)
    if (!pod || (uid && pod.metadata.uid !== uid)) return undefined
    if (fn(pod) === false) return undefined
    recomputePodStatus(pod)
    return this.#store.update('pods', pod)
  }

  /** A pod was created through the API: schedule it, then let the kubelet start it. */
  podCreated (pod: KObject, opts: { immediate?: boolean } = {}): void {
    const ns = pod.metadata.namespace ?? ''
    const name = pod.metadata.name ?? ''
    const uid = pod.metadata.uid
    const bind = (): void => {
      this.#edit(ns, name, uid, p => {
        const spec = (p.spec ?? {}) as Obj
        if (!spec.nodeName) {
          const node = this.#pickNode()
          if (!node) {
            setCondition(p, 'PodScheduled', 'False', 'Unschedulable', '0/0 nodes are available: no nodes available to schedule pods.')
            statusOf(p).phase = 'Pending'
            return
          }
          spec.nodeName = node
          setCondition(p, 'PodScheduled', 'True')
        }
        this.#kubeletAdmit(p)
      })
    }
    if (opts.immediate) {
      bind()
      this.#startContainers(ns, name, uid, 'containers', true)
      return
    }
    bind()
    this.#later(this.#startDelayMs, () => this.#startContainers(ns, name, uid, 'containers', false))
  }

  /** New ephemeral containers were added through the subresource. */
  ephemeralAdded (pod: KObject): void {
    const ns = pod.metadata.namespace ?? ''
    const name = pod.metadata.name ?? ''
    const uid = pod.metadata.uid
    this.#edit(ns, name, uid, p => {
      if (!(p.spec as Obj | undefined)?.nodeName) return false
      const st = statusOf(p)
      const have = new Set(((st.ephemeralContainerStatuses ?? []) as ContainerStatus[]).map(s => s.name))
      const fresh = containersOf(p, 'ephemeralContainers').filter(c => !have.has(c.name))
      if (fresh.length === 0) return false
      st.ephemeralContainerStatuses = [...((st.ephemeralContainerStatuses ?? []) as ContainerStatus[]), ...fresh.map(c => waiting(c, 'ContainerCreating'))]
    })
    this.#later(this.#startDelayMs, () => this.#startContainers(ns, name, uid, 'ephemeralContainers', false))
  }

  /** Graceful delete: stop the containers, then remove the object (the kubelet's final delete). */
  podDeleting (pod: KObject, graceSeconds: number): void {
    const ns = pod.metadata.namespace ?? ''
    const name = pod.metadata.name ?? ''
    const uid = pod.metadata.uid
    const stopMs = Math.min(graceSeconds * 1000, this.#terminationDelayMs)
    this.#later(stopMs, () => {
      // exits are recorded with their real codes (the listeners stay), then the kubelet's final delete
      try { this.#processes.killPod(ns, name) } catch (err) { this.#onError(err) }
      this.#later(0, () => {
        this.#stopProcesses(ns, name)
        this.#edit(ns, name, uid, p => {
          const st = statusOf(p)
          const now = rfc3339(this.#store.now())
          for (const k of ['containerStatuses', 'ephemeralContainerStatuses'] as const) {
            for (const cs of (st[k] ?? []) as ContainerStatus[]) {
              const running = cs.state.running as Obj | undefined
              if (!running) continue
              cs.state = { terminated: { exitCode: 0, reason: 'Completed', startedAt: running.startedAt, finishedAt: now, containerID: cs.containerID } }
              cs.ready = false
              cs.started = false
            }
          }
        })
        try { this.#store.delete('pods', ns, name) } catch { /* already gone */ }
      })
    })
  }

  /** A pod was removed from storage (immediate delete): stop what runs for it. */
  podRemoved (pod: KObject): void {
    this.#stopProcesses(pod.metadata.namespace ?? '', pod.metadata.name ?? '')
  }

  #stopProcesses (ns: string, name: string): void {
    for (const [k, unsub] of this.#exitUnsubs) {
      if (k.startsWith(`${ns}/${name}/`)) {
        unsub()
        this.#exitUnsubs.delete(k)
      }
    }
    try { this.#processes.killPod(ns, name) } catch (err) { this.#onError(err) }
  }

  close (): void {
    this.#closed = true
    for (const t of this.#timers) clearTimeout(t)
    this.#timers.clear()
    for (const u of this.#exitUnsubs.values()) u()
    this.#exitUnsubs.clear()
  }

  #pickNode (): string | undefined {
    const nodes = this.#store.list('nodes').filter(n => isNodeReady(n) && !(n.spec as Obj | undefined)?.unschedulable)
    if (nodes.length === 0) return undefined
    const pods = this.#store.list('pods')
    const load = (n: string): number => pods.filter(p => (p.spec as Obj | undefined)?.nodeName === n).length
    return nodes.map(n => n.metadata.name ?? '').sort((a, b) => load(a) - load(b) || a.localeCompare(b))[0]
  }

  /** The kubelet's first status: Pending, IPs, conditions, containers ContainerCreating. */
  #kubeletAdmit (p: KObject): void {
    const spec = (p.spec ?? {}) as Obj
    const st = statusOf(p)
    const now = rfc3339(this.#store.now())
    const node = this.#store.get('nodes', undefined, String(spec.nodeName))
    // a pod pinned to a node that does not exist is seen by no kubelet: it stays as created
    if (!node) return
    setCondition(p, 'PodScheduled', 'True')
    const hostIP = nodeInternalIP(node)
    const podIP = spec.hostNetwork === true ? hostIP : this.#nextPodIP(node)
    st.phase = 'Pending'
    st.hostIP = hostIP
    st.hostIPs = [{ ip: hostIP }]
    st.podIP = podIP
    st.podIPs = [{ ip: podIP }]
    st.startTime = now
    st.qosClass = qosClass(p)
    setCondition(p, 'PodReadyToStartContainers', 'True')
    setCondition(p, 'Initialized', 'True')
    st.containerStatuses = containersOf(p, 'containers').map(c => waiting(c, 'ContainerCreating'))
  }

  #nextPodIP (node: KObject): string {
    const name = node.metadata.name ?? ''
    const cidr = String((node.spec as Obj | undefined)?.podCIDR ?? '')
    const m = /^10\.244\.(\d+)\./.exec(cidr)
    const nodes = this.#store.list('nodes').map(n => n.metadata.name)
    const octet = m ? Number(m[1]) : nodes.indexOf(name) + 1
    const n = (this.#ipCounters.get(name) ?? 1) + 1
    this.#ipCounters.set(name, n)
    return `10.244.${octet}.${n}`
  }

  #startContainers (ns: string, name: string, uid: string | undefined, kind: Kind, immediate: boolean): void {
    const started: Container[] = []
    const pulls: string[] = []
    this.#edit(ns, name, uid, p => {
      if (p.metadata.deletionTimestamp) return false
      const spec = (p.spec ?? {}) as Obj
      if (!spec.nodeName || !this.#store.get('nodes', undefined, String(spec.nodeName))) return false
      const st = statusOf(p)
      const field = statusField[kind]
      const statuses = (st[field] ?? []) as ContainerStatus[]
      const now = rfc3339(this.#store.now())
      for (const c of containersOf(p, kind)) {
        let cs = statuses.find(s => s.name === c.name)
        if (!cs) {
          cs = waiting(c, 'ContainerCreating')
          statuses.push(cs)
        }
        if (!cs.state.waiting || (cs.state.waiting as Obj).reason !== 'ContainerCreating') continue
        if ((c.image ?? '').startsWith(UNREACHABLE_REGISTRY)) {
          cs.state = { waiting: { reason: 'ErrImagePull', message: pullFailure(c.image ?? '') } }
          pulls.push(c.name)
          continue
        }
        Object.assign(cs, running(c, ns, name, cs.restartCount, now, kind))
        started.push(c)
      }
      st[field] = statuses
    })
    if (pulls.length) {
      const backOff = (): void => {
        this.#edit(ns, name, uid, p => {
          const statuses = (statusOf(p)[statusField[kind]] ?? []) as ContainerStatus[]
          for (const cs of statuses) {
            if (!pulls.includes(cs.name)) continue
            const img = containersOf(p, kind).find(c => c.name === cs.name)?.image ?? cs.image
            cs.state = { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image ${JSON.stringify(img)}` } }
          }
        })
      }
      if (immediate) backOff()
      else this.#later(this.#pullBackOffMs, backOff)
    }
    for (const c of started) this.#runProcess(ns, name, uid, kind, c)
  }

  #runProcess (ns: string, name: string, uid: string | undefined, kind: Kind, c: Container): void {
    let proc: ContainerProcess
    try {
      const pod = this.#store.get('pods', ns, name)
      const env = pod ? containerEnv(pod as unknown as Record<string, unknown>, c as unknown as Record<string, unknown>) : undefined
      proc = this.#processes.start({ namespace: ns, pod: name, container: c.name, image: c.image ?? '', command: c.command, args: c.args, stdin: c.stdin === true, stdinOnce: c.stdinOnce === true, tty: c.tty === true, ...(env ? { env } : {}) })
    } catch (err) {
      this.#onError(err)
      return
    }
    const k = `${ns}/${name}/${c.name}`
    this.#exitUnsubs.get(k)?.()
    const unsub = proc.onExit(code => {
      this.#exitUnsubs.delete(k)
      // the exit is reported from the process table's own callback stack
      queueMicrotask(() => this.#containerExited(ns, name, uid, kind, c, code))
    })
    this.#exitUnsubs.set(k, unsub)
    if (proc.exited && proc.exitCode !== undefined) {
      unsub()
      this.#exitUnsubs.delete(k)
      this.#containerExited(ns, name, uid, kind, c, proc.exitCode)
    }
  }

  #containerExited (ns: string, name: string, uid: string | undefined, kind: Kind, c: Container, code: number): void {
    let restart = false
    let backoffMs = this.#restartDelayMs
    this.#edit(ns, name, uid, p => {
      const statuses = (statusOf(p)[statusField[kind]] ?? []) as ContainerStatus[]
      const cs = statuses.find(s => s.name === c.name)
      const run = cs?.state.running as Obj | undefined
      if (!cs || !run) return false
      const term = { exitCode: code, reason: code === 0 ? 'Completed' : 'Error', startedAt: run.startedAt, finishedAt: rfc3339(this.#store.now()), containerID: cs.containerID }
      const policy = String((p.spec as Obj | undefined)?.restartPolicy ?? 'Always')
      restart = kind === 'containers' && !p.metadata.deletionTimestamp && (policy === 'Always' || (policy === 'OnFailure' && code !== 0))
      cs.ready = false
      cs.started = false
      if (restart) {
        // kubelet back-off: 10s doubling up to 5m (scaled by restartDelayMs here)
        const step = Math.min(cs.restartCount, 5)
        backoffMs = Math.min(this.#restartDelayMs * 2 ** step, this.#restartDelayMs * 30)
        const shown = Math.min(10 * 2 ** step, 300)
        const label = shown >= 60 ? `${Math.floor(shown / 60)}m${shown % 60 ? `${shown % 60}s` : '0s'}` : `${shown}s`
        cs.lastState = { terminated: term }
        cs.state = { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${label} restarting failed container=${c.name} pod=${name}_${ns}(${p.metadata.uid ?? ''})` } }
      } else {
        cs.state = { terminated: term }
      }
    })
    if (!restart) return
    this.#later(backoffMs, () => {
      let again = false
      this.#edit(ns, name, uid, p => {
        if (p.metadata.deletionTimestamp) return false
        const cs = ((statusOf(p).containerStatuses ?? []) as ContainerStatus[]).find(s => s.name === c.name)
        if (!cs) return false
        Object.assign(cs, running(c, ns, name, cs.restartCount + 1, rfc3339(this.#store.now()), kind), { lastState: cs.lastState })
        again = true
      })
      if (again) this.#runProcess(ns, name, uid, kind, c)
    })
  }
}

function waiting (c: Container, reason: string): ContainerStatus {
  return { name: c.name, image: c.image ?? '', imageID: '', lastState: {}, ready: false, restartCount: 0, started: false, state: { waiting: { reason } } }
}

function running (c: Container, ns: string, pod: string, restartCount: number, now: string, kind: Kind): ContainerStatus {
  return {
    name: c.name,
    image: normalizeImage(c.image ?? ''),
    imageID: imageID(c.image ?? ''),
    containerID: `containerd://${sha(`${ns}/${pod}/${c.name}/${restartCount}/${now}`)}`,
    lastState: {},
    // ephemeral containers never count as ready; the prober only tracks regular ones
    ready: kind === 'containers',
    started: kind === 'containers',
    restartCount,
    state: { running: { startedAt: now } }
  }
}

export function isNodeReady (node: KObject): boolean {
  const conds = ((node.status as Obj | undefined)?.conditions ?? []) as Array<{ type?: string, status?: string }>
  return conds.some(c => c.type === 'Ready' && c.status === 'True')
}

function nodeInternalIP (node: KObject): string {
  const addrs = ((node.status as Obj | undefined)?.addresses ?? []) as Array<{ type?: string, address?: string }>
  return addrs.find(a => a.type === 'InternalIP')?.address ?? '10.0.0.1'
}

export function qosClass (pod: KObject): string {
  const cs = containersOf(pod, 'containers') as Array<{ resources?: { requests?: Obj, limits?: Obj } }>
  const any = cs.some(c => Object.keys(c.resources?.requests ?? {}).length || Object.keys(c.resources?.limits ?? {}).length)
  if (!any) return 'BestEffort'
  const guaranteed = cs.every(c => {
    const l = c.resources?.limits ?? {}
    const r = c.resources?.requests ?? {}
    return l.cpu !== undefined && l.memory !== undefined && (r.cpu === undefined || r.cpu === l.cpu) && (r.memory === undefined || r.memory === l.memory)
  })
  return guaranteed ? 'Guaranteed' : 'Burstable'
}

const conditionOrder = ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']

function setCondition (pod: KObject, type: string, status: string, reason?: string, message?: string): void {
  const st = statusOf(pod)
  const conds = (Array.isArray(st.conditions) ? st.conditions : []) as Obj[]
  const existing = conds.find(c => c.type === type)
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')
  const next: Obj = { type, status, lastProbeTime: null, lastTransitionTime: existing && existing.status === status ? existing.lastTransitionTime : now }
  if (reason) next.reason = reason
  if (message) next.message = message
  const others = conds.filter(c => c.type !== type)
  st.conditions = [...others, next].sort((a, b) => conditionOrder.indexOf(String(a.type)) - conditionOrder.indexOf(String(b.type)))
}

/** Phase and Ready/ContainersReady from the container statuses (kubelet's getPhase + status generation). */
export function recomputePodStatus (pod: KObject): void {
  const st = statusOf(pod)
  const statuses = (st.containerStatuses ?? []) as ContainerStatus[]
  const specContainers = containersOf(pod, 'containers')
  if (!st.hostIP || statuses.length === 0) return
  const policy = String((pod.spec as Obj | undefined)?.restartPolicy ?? 'Always')
  let waitingN = 0
  let runningN = 0
  let succeeded = 0
  let failed = 0
  for (const c of specContainers) {
    const cs = statuses.find(s => s.name === c.name)
    if (!cs) { waitingN++; continue }
    if (cs.state.running) runningN++
    else if (cs.state.terminated) {
      if ((cs.state.terminated as Obj).exitCode === 0) succeeded++
      else failed++
    } else if (cs.state.waiting) {
      if (cs.lastState.terminated) runningN++ // restarting: kubelet counts it as running
      else waitingN++
    }
  }
  let phase = 'Pending'
  if (waitingN > 0) phase = 'Pending'
  else if (runningN > 0) phase = 'Running'
  else if (succeeded + failed === specContainers.length) {
    if (policy === 'Always') phase = 'Running'
    else if (policy === 'OnFailure') phase = failed > 0 ? 'Running' : 'Succeeded'
    else phase = failed > 0 ? 'Failed' : 'Succeeded'
  }
  st.phase = phase
  const unready = specContainers.filter(c => !statuses.find(s => s.name === c.name)?.ready).map(c => c.name)
  if (phase === 'Succeeded' || phase === 'Failed') {
    setCondition(pod, 'PodReadyToStartContainers', 'False')
    setCondition(pod, 'Ready', 'False', 'PodCompleted')
    setCondition(pod, 'ContainersReady', 'False', 'PodCompleted')
  } else if (unready.length) {
    const msg = `containers with unready status: [${unready.join(' ')}]`
    setCondition(pod, 'Ready', 'False', 'ContainersNotReady', msg)
    setCondition(pod, 'ContainersReady', 'False', 'ContainersNotReady', msg)
  } else {
    setCondition(pod, 'Ready', 'True')
    setCondition(pod, 'ContainersReady', 'True')
  }
}
