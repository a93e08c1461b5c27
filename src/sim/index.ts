// Programmatic entry of the simulated Kubernetes API server.
import { readFileSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import type { KObject } from './apimachinery/types.ts'
import { TokenAuthenticator } from './auth/authn.ts'
import { RbacAuthorizer, loadBootstrapRbac } from './auth/rbac.ts'
import { ProcessTable } from './kubelet/process.ts'
import type { StreamTimers } from './kubelet/attach.ts'
import { Store, rfc3339 } from './storage/store.ts'
import { PodLifecycle } from './kubelet/lifecycle.ts'
import { FaultController } from './apiserver/faults.ts'
import type { FaultConfig } from './apiserver/faults.ts'
import { createSimServer } from './apiserver/server.ts'
import { buildKubeconfig } from './worlds/kubeconfig.ts'
import { isRbacObject, loadWorld } from './worlds/world.ts'
import type { World } from './worlds/world.ts'
import { defaultPod } from './admission/pod-defaults.ts'
import { createDropWriters } from './networking/drop-events.ts'
import type { CorrelatorOptions, DropWriters } from './networking/drop-events.ts'
import { resourceDefinitions } from './registry/definitions.ts'

export type { World, WorldUser } from './worlds/world.ts'
export type { FaultConfig } from './apiserver/faults.ts'
export { FaultController } from './apiserver/faults.ts'
export { Store } from './storage/store.ts'

export interface SimOptions {
  /** A World or the path of a world YAML (default: worlds/demo.yaml). */
  world?: World | string
  faults?: Partial<FaultConfig>
  port?: number
  host?: string
  /** Also write the kubeconfig to this file. */
  kubeconfigPath?: string
  /** ContainerCreating → Running delay (default 20 ms). */
  startDelayMs?: number
  /** Processes may run a real local shell (demo only). */
  realShell?: boolean
  /** Server-side watch timeout when the client sets none (default 30 min, like --min-request-timeout). */
  watchTimeoutMs?: number
  /** Bookmark interval for watches with allowWatchBookmarks=true (default 60 s). */
  bookmarkIntervalMs?: number
  /** Change events kept for watch resumption (default 1000). */
  historySize?: number
  /** Kubelet stop time on graceful pod delete, capped by the grace period (default max(50 ms, 2×startDelayMs)). */
  terminationDelayMs?: number
  pullBackOffMs?: number
  restartDelayMs?: number
  /** PacketDrop writers: Cilium's --hubble-drop-events-interval (default 120 s), tailer correlator overrides. */
  drops?: { ciliumIntervalSeconds?: number, tailerCorrelator?: CorrelatorOptions }
  /**
   * The API server's stream translator for `v5.channel.k8s.io` (1.30+, TranslateStreamCloseWebsocketRequests;
   * default true). false behaves like an older server: attach WebSockets are proxied to the kubelet (v4 at most).
   */
  streamTranslator?: boolean
  /**
   * etcd compaction as kube-apiserver schedules it (--etcd-compaction-interval, default 5 min):
   * every interval the revision seen one interval earlier is compacted, so resourceVersions older
   * than that get 410 (watch, Exact list, continue token). 0 / unset = only /__sim/compact.
   */
  compactionIntervalMs?: number
  /** Attach streams end after this long without data (kubelet --streaming-connection-idle-timeout, default 4 h); 0 = never. */
  streamIdleTimeoutMs?: number
  /** Timers of the stream idle deadline (default real): tests step a manual clock instead of waiting. */
  streamTimers?: StreamTimers
  log?: (msg: string) => void
}

export interface Sim {
  /** Plain HTTP base URL (the same port also speaks HTTPS). */
  url: string
  /** HTTPS base URL (what the kubeconfig uses: kubectl never sends tokens over plain HTTP). */
  httpsUrl: string
  /** PEM of the CA that signed the sim's serving certificate. */
  caPem: string
  kubeconfig: string
  kubeconfigPath?: string
  /** world user name → token (alice → alice-token, gateway → gateway-token, ...). */
  tokens: Record<string, string>
  faults: FaultController
  /** Direct storage access for fixtures (no HTTP, no RBAC). */
  store: Store
  drops: DropWriters
  authn: TokenAuthenticator
  rbac: RbacAuthorizer
  processes: ProcessTable
  lifecycle: PodLifecycle
  world: World
  /** Requests the sim answered with 404 for an unknown path. */
  unknownRequests: string[]
  /** User-Agent headers seen per authenticated user ('' = none sent). */
  userAgents: Map<string, Set<string>>
  /** Adds objects like the world does at start (defaults applied; pods are Running at once). RBAC kinds go to the authorizer. */
  seed (objects: KObject[]): void
  close (): Promise<void>
}

const kindToResource = new Map(resourceDefinitions.map(d => [`${d.group ? `${d.group}/${d.version}` : d.version}/${d.kind}`, d]))

function fillNodeTimes (node: KObject, now: string): void {
  const st = (node.status ?? {}) as { conditions?: Array<Record<string, unknown>> }
  for (const c of st.conditions ?? []) {
    c.lastHeartbeatTime ??= now
    c.lastTransitionTime ??= now
  }
}

/** Loads objects into the store as they exist at start; pods start Running at once. */
function seed (objects: KObject[], store: Store, lifecycle: PodLifecycle): void {
  const now = rfc3339(store.now())
  const rank = (o: KObject): number => o.kind === 'Namespace' ? 0 : o.kind === 'Node' ? 1 : o.kind === 'Pod' ? 3 : 2
  for (const raw of [...objects].sort((a, b) => rank(a) - rank(b))) {
    const d = kindToResource.get(`${raw.apiVersion ?? ''}/${raw.kind ?? ''}`)
    if (!d) throw new Error(`world: unsupported object ${String(raw.apiVersion)}/${String(raw.kind)}`)
    let o = structuredClone(raw)
    if (d.namespaced) o.metadata.namespace ??= 'default'
    if (d.resource === 'nodes') fillNodeTimes(o, now)
    if (d.resource === 'namespaces') o.status ??= { phase: 'Active' }
    if (d.resource === 'pods') {
      o = defaultPod(o)
      o.status = { phase: 'Pending' }
    }
    const stored = store.create(d.resource, o)
    if (d.resource === 'pods') lifecycle.podCreated(stored, { immediate: true })
  }
}

export async function startSim (opts: SimOptions = {}): Promise<Sim> {
  const world = typeof opts.world === 'object' ? opts.world : loadWorld(opts.world)
  const log = opts.log ?? (() => {})
  const store = new Store({ historySize: opts.historySize })
  const authn = new TokenAuthenticator(world.users.map(u => ({ token: u.token, user: { username: u.username, uid: u.uid, groups: u.groups } })))
  const rbac = new RbacAuthorizer()
  const rbacObjects = [...loadBootstrapRbac(), ...world.rbac]
  rbac.load(rbacObjects)
  const processes = new ProcessTable({ realShell: opts.realShell })
  const lifecycle = new PodLifecycle({
    store,
    processes,
    startDelayMs: opts.startDelayMs,
    terminationDelayMs: opts.terminationDelayMs,
    pullBackOffMs: opts.pullBackOffMs,
    restartDelayMs: opts.restartDelayMs,
    onError: (err) => log(`sim lifecycle: ${err instanceof Error ? err.message : String(err)}`)
  })
  const faults = new FaultController(opts.faults)
  const unknownRequests: string[] = []
  const userAgents = new Map<string, Set<string>>()

  // RBAC objects are readable through the API like on a real cluster
  for (const o of rbacObjects.filter(isRbacObject)) {
    const d = kindToResource.get(`${o.apiVersion ?? ''}/${o.kind ?? ''}`)
    if (!d) continue
    const copy = structuredClone(o)
    if (d.namespaced) copy.metadata.namespace ??= 'default'
    else delete copy.metadata.namespace
    try { store.create(d.resource, copy) } catch { /* same object listed twice */ }
  }
  seed(world.objects, store, lifecycle)

  const { server, shutdown } = createSimServer({
    store,
    authn,
    rbac,
    lifecycle,
    processes,
    faults,
    watchTimeoutMs: opts.watchTimeoutMs ?? 30 * 60_000,
    bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 60_000,
    unknownRequests,
    userAgents,
    streamTranslator: opts.streamTranslator ?? true,
    streamIdleTimeoutMs: opts.streamIdleTimeoutMs ?? 4 * 3600_000,
    ...(opts.streamTimers ? { streamTimers: opts.streamTimers } : {}),
    log
  }, { cert: readFileSync(new URL('./tls/server.crt', import.meta.url)), key: readFileSync(new URL('./tls/server.key', import.meta.url)) })
  const caPem = readFileSync(new URL('./tls/ca.crt', import.meta.url), 'utf8')
  const host = opts.host ?? '127.0.0.1'
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const addr = server.address() as AddressInfo
  const hostPart = host.includes(':') ? `[${host}]` : host
  const url = `http://${hostPart}:${addr.port}`
  const httpsUrl = `https://${hostPart}:${addr.port}`
  const kubeconfig = buildKubeconfig({ server: httpsUrl, caPem, users: world.users, current: world.currentContext })
  if (opts.kubeconfigPath) writeFileSync(opts.kubeconfigPath, kubeconfig, { mode: 0o600 })
  const tokens = Object.fromEntries(world.users.map(u => [u.name, u.token]))
  const tokenOf = (username: string): string => world.users.find(u => u.username === username)?.token ?? ''
  const drops = createDropWriters({
    url,
    store,
    tailerToken: tokenOf('system:serviceaccount:kube-system:kube-iptables-tailer'),
    ciliumToken: tokenOf('system:serviceaccount:kube-system:cilium'),
    ciliumIntervalSeconds: opts.drops?.ciliumIntervalSeconds,
    tailerCorrelator: opts.drops?.tailerCorrelator
  })

  // kube-apiserver's compactor (storage/etcd3 compact.go): each tick compacts to the revision of the previous tick
  let compactor: NodeJS.Timeout | undefined
  if ((opts.compactionIntervalMs ?? 0) > 0) {
    let previous = store.resourceVersion
    compactor = setInterval(() => {
      store.compactTo(previous)
      previous = store.resourceVersion
    }, opts.compactionIntervalMs)
    compactor.unref()
  }

  let closed = false
  return {
    url,
    httpsUrl,
    caPem,
    kubeconfig,
    kubeconfigPath: opts.kubeconfigPath,
    tokens,
    faults,
    store,
    drops,
    authn,
    rbac,
    processes,
    lifecycle,
    world,
    unknownRequests,
    userAgents,
    seed (objects: KObject[]) {
      const rbacKinds = objects.filter(isRbacObject)
      rbac.load(rbacKinds)
      for (const o of rbacKinds) {
        const d = kindToResource.get(`${o.apiVersion ?? ''}/${o.kind ?? ''}`)
        if (d) store.create(d.resource, { ...structuredClone(o), metadata: { ...o.metadata, namespace: d.namespaced ? o.metadata.namespace ?? 'default' : undefined } })
      }
      seed(objects.filter(o => !isRbacObject(o)), store, lifecycle)
    },
    async close () {
      if (closed) return
      closed = true
      if (compactor) clearInterval(compactor)
      lifecycle.close()
      shutdown()
      try { processes.closeAll() } catch { /* F's table may be partial */ }
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
}
