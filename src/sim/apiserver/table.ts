// meta.k8s.io/v1 Table output (server-side printing) for `kubectl get`, with
// the columns of pkg/printers/internalversion/printers.go for the kinds the sim
// serves and the default Name / Created At table for the rest.
import type { KObject } from '../apimachinery/types.ts'

type Obj = Record<string, unknown>

interface Column { name: string, type: string, format: string, description: string, priority: number }

const col = (name: string, type: string, description: string, priority = 0, format = ''): Column => ({ name, type, format, description, priority })

/** apimachinery duration.HumanDuration (what AGE columns show). */
export function humanDuration (ms: number): string {
  const seconds = Math.floor(ms / 1000)
  if (seconds < -1) return '<invalid>'
  if (seconds < 0) return '0s'
  if (seconds < 120) return `${seconds}s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 10) {
    const s = seconds % 60
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`
  }
  if (minutes < 180) return `${minutes}m`
  const hours = Math.floor(minutes / 60)
  if (hours < 8) {
    const m = minutes % 60
    return m === 0 ? `${hours}h` : `${hours}h${m}m`
  }
  if (hours < 48) return `${hours}h`
  if (hours < 24 * 8) {
    const h = hours % 24
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`
  if (hours < 24 * 365 * 8) {
    const dy = Math.floor(hours / 24) % 365
    const y = Math.floor(hours / 24 / 365)
    return dy === 0 ? `${y}y` : `${y}y${dy}d`
  }
  return `${Math.floor(hours / 24 / 365)}y`
}

function age (ts: unknown, now: Date): string {
  if (typeof ts !== 'string' || !ts) return '<unknown>'
  return humanDuration(now.getTime() - Date.parse(ts))
}

interface Cs { name: string, ready?: boolean, restartCount?: number, state?: Obj, lastState?: Obj }

/** printPod: READY, STATUS (reason logic), RESTARTS. */
function podCells (pod: KObject, now: Date): unknown[] {
  const spec = (pod.spec ?? {}) as Obj
  const st = (pod.status ?? {}) as Obj
  const containers = (spec.containers ?? []) as Obj[]
  const statuses = (st.containerStatuses ?? []) as Cs[]
  let reason = String(st.reason ?? st.phase ?? '')
  let restarts = 0
  let lastRestart: string | undefined
  let ready = 0
  let hasRunning = false
  for (let i = statuses.length - 1; i >= 0; i--) {
    const cs = statuses[i] as Cs
    restarts += cs.restartCount ?? 0
    const lt = cs.lastState?.terminated as Obj | undefined
    if (lt?.finishedAt && (!lastRestart || String(lt.finishedAt) > lastRestart)) lastRestart = String(lt.finishedAt)
    const w = cs.state?.waiting as Obj | undefined
    const t = cs.state?.terminated as Obj | undefined
    if (w?.reason) reason = String(w.reason)
    else if (t?.reason) reason = String(t.reason)
    else if (t) reason = t.signal ? `Signal:${String(t.signal)}` : `ExitCode:${String(t.exitCode)}`
    else if (cs.ready && cs.state?.running) {
      hasRunning = true
      ready++
    }
  }
  if (reason === 'Completed' && hasRunning) reason = 'Running'
  if (pod.metadata.deletionTimestamp) reason = st.reason === 'NodeLost' ? 'Unknown' : 'Terminating'
  const restartCell = lastRestart ? `${restarts} (${humanDuration(now.getTime() - Date.parse(lastRestart))} ago)` : String(restarts)
  const podIP = String(st.podIP ?? '') || '<none>'
  const node = String(spec.nodeName ?? '') || '<none>'
  const nominated = String(st.nominatedNodeName ?? '') || '<none>'
  return [pod.metadata.name, `${ready}/${containers.length}`, reason, restartCell, age(pod.metadata.creationTimestamp, now), podIP, node, nominated, '<none>']
}

function nodeCells (node: KObject, now: Date): unknown[] {
  const st = (node.status ?? {}) as Obj
  const conds = (st.conditions ?? []) as Obj[]
  const ready = conds.find(c => c.type === 'Ready')
  const statuses = [ready?.status === 'True' ? 'Ready' : ready ? 'NotReady' : 'Unknown']
  if ((node.spec as Obj | undefined)?.unschedulable) statuses.push('SchedulingDisabled')
  const roles = Object.keys(node.metadata.labels ?? {}).filter(l => l.startsWith('node-role.kubernetes.io/')).map(l => l.slice('node-role.kubernetes.io/'.length))
  const info = (st.nodeInfo ?? {}) as Obj
  const addrs = (st.addresses ?? []) as Obj[]
  const ip = (t: string): string => String(addrs.find(a => a.type === t)?.address ?? '<none>')
  return [node.metadata.name, statuses.join(','), roles.length ? roles.sort().join(',') : '<none>', age(node.metadata.creationTimestamp, now), info.kubeletVersion ?? '', ip('InternalIP'), ip('ExternalIP'), info.osImage ?? '', info.kernelVersion ?? '', info.containerRuntimeVersion ?? '']
}

function eventCells (ev: KObject, now: Date): unknown[] {
  const io = (ev.involvedObject ?? {}) as Obj
  const last = ev.lastTimestamp ?? ev.eventTime ?? ev.metadata.creationTimestamp
  const count = Number(ev.count ?? 1)
  const first = ev.firstTimestamp ?? last
  const lastSeen = count > 1 ? `${age(last, now)} (x${count} over ${age(first, now)})` : age(last, now)
  const src = (ev.source ?? {}) as Obj
  const source = [src.component, src.host].filter(Boolean).join(', ')
  return [lastSeen, ev.type ?? '', ev.reason ?? '', `${String(io.kind ?? '').toLowerCase()}/${String(io.name ?? '')}`, ev.message ?? '', source, io.fieldPath ?? '', first ? age(first, now) : '', count, ev.metadata.name]
}

const columns: Record<string, Column[]> = {
  pods: [
    col('Name', 'string', 'Name must be unique within a namespace.', 0, 'name'),
    col('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
    col('Status', 'string', 'The aggregate status of the containers in this pod.'),
    col('Restarts', 'string', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
    col('Age', 'string', 'CreationTimestamp is a timestamp representing the server time when this object was created.'),
    col('IP', 'string', 'podIP is the IP address allocated to the pod.', 1),
    col('Node', 'string', 'nodeName indicates in which node this pod is scheduled.', 1),
    col('Nominated Node', 'string', 'nominatedNodeName is set only when this pod preempts other pods on the node.', 1),
    col('Readiness Gates', 'string', 'If specified, all readiness gates will be evaluated for pod readiness.', 1)
  ],
  nodes: [
    col('Name', 'string', 'Name must be unique within a namespace.', 0, 'name'),
    col('Status', 'string', 'The status of the node'),
    col('Roles', 'string', 'The roles of the node'),
    col('Age', 'string', 'CreationTimestamp is a timestamp representing the server time when this object was created.'),
    col('Version', 'string', 'Kubelet Version reported by the node.'),
    col('Internal-IP', 'string', 'List of addresses reachable to the node.', 1),
    col('External-IP', 'string', 'List of addresses reachable to the node.', 1),
    col('OS-Image', 'string', 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).', 1),
    col('Kernel-Version', 'string', 'Kernel Version reported by the node from \'uname -r\' (e.g. 3.16.0-0.bpo.4-amd64).', 1),
    col('Container-Runtime', 'string', 'Container runtime version reported by the node through runtime remote API (e.g. containerd://1.4.2).', 1)
  ],
  namespaces: [
    col('Name', 'string', 'Name must be unique within a namespace.', 0, 'name'),
    col('Status', 'string', 'The status of the namespace'),
    col('Age', 'string', 'CreationTimestamp is a timestamp representing the server time when this object was created.')
  ],
  events: [
    col('Last Seen', 'string', 'The last time that this event was seen.'),
    col('Type', 'string', 'Type of this event (Normal, Warning), new types could be added in the future.'),
    col('Reason', 'string', 'This should be a short, machine understandable string that gives the reason for this event being generated.'),
    col('Object', 'string', 'The object that this event is about.'),
    col('Message', 'string', 'A human-readable description of the status of this operation.'),
    col('Source', 'string', 'The component reporting this event. Should be a short machine understandable string.', 1),
    col('Subobject', 'string', 'The subobject that this event is about.', 1),
    col('First Seen', 'string', 'The first time that this event was seen.', 1),
    col('Count', 'integer', 'The number of times this event has occurred.', 1),
    col('Name', 'string', 'Name must be unique within a namespace.', 1, 'name')
  ]
}

const defaultColumns: Column[] = [
  col('Name', 'string', 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated.', 0, 'name'),
  { name: 'Created At', type: 'date', format: '', description: 'CreationTimestamp is a timestamp representing the server time when this object was created.', priority: 0 }
]

function cells (resource: string, o: KObject, now: Date): unknown[] {
  switch (resource) {
    case 'pods': return podCells(o, now)
    case 'nodes': return nodeCells(o, now)
    case 'namespaces': return [o.metadata.name, (o.status as Obj | undefined)?.phase ?? 'Active', age(o.metadata.creationTimestamp, now)]
    case 'events': return eventCells(o, now)
    default: return [o.metadata.name, o.metadata.creationTimestamp]
  }
}

export type IncludeObject = 'None' | 'Metadata' | 'Object'

/** Builds the Table for objects of one resource (`includeObject` as the query parameter says; default Metadata). */
export function toTable (resource: string, objects: KObject[], opts: { resourceVersion?: string, includeObject?: string | null, now?: Date, noHeaders?: boolean }): object {
  const now = opts.now ?? new Date()
  const include: IncludeObject = opts.includeObject === 'None' || opts.includeObject === 'Object' ? opts.includeObject : 'Metadata'
  const rows = objects.map(o => {
    const row: Obj = { cells: cells(resource, o, now) }
    if (include === 'Object') row.object = o
    else if (include === 'Metadata') row.object = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata }
    return row
  })
  const metadata: Obj = {}
  if (opts.resourceVersion) metadata.resourceVersion = opts.resourceVersion
  // with NoHeaders (watch events after the first) Go leaves the slice nil, which encodes as null
  const columnDefinitions = opts.noHeaders ? null : columns[resource] ?? defaultColumns
  return { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata, columnDefinitions, rows }
}
