// The six `kubectl debug --profile` appliers, transcribed from
// staging/src/k8s.io/kubectl/pkg/cmd/debug/profiles.go (newest version, with KeepFlags).
import { SpecError } from './spec-error.ts'
import type { Container, Pod, PodSpec, SecurityContext } from '../../kube/types.ts'

export const PROFILE_NAMES = ['legacy', 'general', 'baseline', 'restricted', 'netadmin', 'sysadmin'] as const
export type ProfileName = typeof PROFILE_NAMES[number]

/** kubectl's getDebugStyle: ephemeral container, copy of a pod, or a pod on a node. */
export type Journey = 'ephemeral' | 'copy' | 'node'

/** Which parts of the original a pod copy keeps (kubectl --keep-*). Only the copy journey reads them. */
export interface KeepFlags {
  labels: boolean
  annotations: boolean
  liveness: boolean
  readiness: boolean
  startup: boolean
  initContainers: boolean
}

/** kubectl's flag defaults: only init containers are kept. */
export const DEFAULT_KEEP_FLAGS: Readonly<KeepFlags> = Object.freeze({
  labels: false,
  annotations: false,
  liveness: false,
  readiness: false,
  startup: false,
  initContainers: true
})

export const HOST_ROOT_VOLUME = 'host-root'
export const HOST_ROOT_MOUNT_PATH = '/host'

export function isProfileName (name: unknown): name is ProfileName {
  return typeof name === 'string' && (PROFILE_NAMES as readonly string[]).includes(name)
}

/** NewProfileApplier's check, as a 400 on the `profile` field. */
export function checkProfile (name: string): ProfileName {
  if (!isProfileName(name)) throw new SpecError('profile', `unknown profile: ${name}`)
  return name
}

export interface ApplyProfileOptions {
  profile: string
  journey: Journey
  keep?: Partial<KeepFlags>
}

/**
 * Applies a profile to the container `containerName` of `pod` and returns the changed copy
 * (the input is not modified). For the ephemeral journey the container is one of
 * `spec.ephemeralContainers`; for copy and node it is a regular (or init) container.
 */
export function applyProfile (pod: Pod, containerName: string, options: ApplyProfileOptions): Pod {
  const profile = checkProfile(options.profile)
  const keep: KeepFlags = { ...DEFAULT_KEEP_FLAGS, ...options.keep }
  // The appliers change the spec and delete top-level metadata fields (labels, annotations); they
  // never touch status or nested metadata (managedFields can be most of a live pod). So the spec
  // is copied deeply, metadata one level, and status is shared: a deep copy of the whole pod was
  // the largest cost of building a debug container.
  // For the ephemeral journey the appliers change only the named container (they reach it
  // through findContainer and touch nothing pod-level), so only that container is copied.
  const spec = options.journey === 'ephemeral' ? withCopiedContainer(pod.spec, containerName) : structuredClone(pod.spec)
  const out: Pod = { ...pod, metadata: { ...pod.metadata }, spec }
  APPLIERS[profile](out, containerName, options.journey, keep)
  return out
}

/** A shallow copy of `spec` whose container `name` (the one findContainer finds) is a deep copy in a copied list. */
function withCopiedContainer (spec: PodSpec, name: string): PodSpec {
  const out: PodSpec = { ...spec }
  for (const key of ['initContainers', 'containers', 'ephemeralContainers'] as const) {
    const list = spec[key] as Container[] | undefined
    const i = list?.findIndex(c => c.name === name) ?? -1
    if (list !== undefined && i >= 0) {
      const copy = list.slice()
      copy[i] = structuredClone(list[i] as Container)
      ;(out as Record<string, unknown>)[key] = copy
      return out
    }
  }
  return out
}

type Applier = (pod: Pod, name: string, journey: Journey, keep: KeepFlags) => void

const APPLIERS: Record<ProfileName, Applier> = {
  legacy (pod, name, journey, keep) {
    switch (journey) {
      case 'node':
        mountRootPartition(pod, name)
        useHostNamespaces(pod)
        break
      case 'copy':
        // legacyProfile sets p.Labels = false first: labels go whatever --keep-labels says
        removeLabels(pod, { ...keep, labels: false })
        break
      case 'ephemeral':
        break
    }
  },
  general (pod, name, journey, keep) {
    switch (journey) {
      case 'node':
        mountRootPartition(pod, name)
        clearSecurityContext(pod, name)
        useHostNamespaces(pod)
        break
      case 'copy':
        removeCopiedParts(pod, keep)
        allowProcessTracing(pod, name)
        shareProcessNamespace(pod)
        break
      case 'ephemeral':
        allowProcessTracing(pod, name)
        break
    }
  },
  baseline (pod, name, journey, keep) {
    clearSecurityContext(pod, name)
    if (journey === 'copy') {
      removeCopiedParts(pod, keep)
      shareProcessNamespace(pod)
    }
  },
  restricted (pod, name, journey, keep) {
    clearSecurityContext(pod, name)
    withSecurityContext(pod, name, sc => { sc.runAsNonRoot = true })
    withSecurityContext(pod, name, sc => {
      sc.capabilities ??= {}
      sc.capabilities.drop = ['ALL']
      delete sc.capabilities.add
    })
    withSecurityContext(pod, name, sc => { sc.allowPrivilegeEscalation = false })
    withSecurityContext(pod, name, sc => { sc.seccompProfile = { type: 'RuntimeDefault' } })
    if (journey === 'copy') {
      removeCopiedParts(pod, keep)
      shareProcessNamespace(pod)
    }
  },
  netadmin (pod, name, journey, keep) {
    addCapability(pod, name, 'NET_ADMIN')
    addCapability(pod, name, 'NET_RAW')
    if (journey === 'node') useHostNamespaces(pod)
    if (journey === 'copy') {
      removeCopiedParts(pod, keep)
      shareProcessNamespace(pod)
    }
  },
  sysadmin (pod, name, journey, keep) {
    withSecurityContext(pod, name, sc => { sc.privileged = true })
    if (journey === 'node') {
      useHostNamespaces(pod)
      mountRootPartition(pod, name)
    }
    if (journey === 'copy') {
      removeCopiedParts(pod, keep)
      shareProcessNamespace(pod)
    }
  }
}

function removeCopiedParts (pod: Pod, keep: KeepFlags): void {
  removeLabels(pod, keep)
  if (!keep.annotations) delete pod.metadata.annotations
  for (const c of pod.spec.containers) {
    if (!keep.liveness) delete c.livenessProbe
    if (!keep.readiness) delete c.readinessProbe
    if (!keep.startup) delete c.startupProbe
  }
  if (!keep.initContainers) delete pod.spec.initContainers
}

function removeLabels (pod: Pod, keep: KeepFlags): void {
  if (!keep.labels) delete pod.metadata.labels
}

/**
 * podutils.VisitContainers: init containers, then containers, then ephemeral containers;
 * stops at the first container with the name.
 */
function findContainer (spec: PodSpec, name: string, regularOnly = false): Container | undefined {
  const lists = regularOnly
    ? [spec.containers]
    : [spec.initContainers ?? [], spec.containers, spec.ephemeralContainers ?? []]
  for (const list of lists) {
    const found = list.find(c => c.name === name)
    if (found !== undefined) return found
  }
  return undefined
}

function withSecurityContext (pod: Pod, name: string, change: (sc: SecurityContext) => void): void {
  const c = findContainer(pod.spec, name)
  if (c === undefined) return
  c.securityContext ??= {}
  change(c.securityContext)
}

function clearSecurityContext (pod: Pod, name: string): void {
  const c = findContainer(pod.spec, name)
  if (c !== undefined) delete c.securityContext
}

/** Appends like kubectl's addCapability: no de-duplication. */
function addCapability (pod: Pod, name: string, capability: string): void {
  withSecurityContext(pod, name, sc => {
    sc.capabilities ??= {}
    sc.capabilities.add = [...(sc.capabilities.add ?? []), capability]
  })
}

function allowProcessTracing (pod: Pod, name: string): void {
  addCapability(pod, name, 'SYS_PTRACE')
}

/** The node's root filesystem at /host; the mount goes on regular containers only. */
function mountRootPartition (pod: Pod, name: string): void {
  pod.spec.volumes = [...(pod.spec.volumes ?? []), { name: HOST_ROOT_VOLUME, hostPath: { path: '/' } }]
  const c = findContainer(pod.spec, name, true)
  if (c !== undefined) {
    c.volumeMounts = [...(c.volumeMounts ?? []), { mountPath: HOST_ROOT_MOUNT_PATH, name: HOST_ROOT_VOLUME }]
  }
}

function useHostNamespaces (pod: Pod): void {
  pod.spec.hostNetwork = true
  pod.spec.hostPID = true
  pod.spec.hostIPC = true
}

/** Only when unset, so an explicit shareProcesses: false wins. */
function shareProcessNamespace (pod: Pod): void {
  pod.spec.shareProcessNamespace ??= true
}
