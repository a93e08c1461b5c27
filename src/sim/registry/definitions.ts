// The resources the sim serves (core/v1 pods, events, nodes, namespaces;
// read-only RBAC objects; leases) and how each appears on the wire.
import type { KObject } from '../apimachinery/types.ts'
import type { PatchMeta } from '../../lib/strategic-merge.ts'
import { podPatchMeta } from './patch-meta.ts'

export interface ResourceDefinition {
  group: string
  version: string
  resource: string
  kind: string
  listKind: string
  namespaced: boolean
  readOnly?: boolean
  patchMeta: PatchMeta
  /** The update strategy's AllowCreateOnUpdate: a PUT of a missing object creates it. */
  allowCreateOnUpdate?: boolean
  /** The update strategy's AllowUnconditionalUpdate is false: a PUT must carry a resourceVersion. */
  requireResourceVersionOnUpdate?: boolean
}

const nodePatchMeta: PatchMeta = {
  fields: {
    metadata: { fields: { ownerReferences: { mergeKey: 'uid' }, finalizers: {} } },
    status: { fields: { conditions: { mergeKey: 'type' }, addresses: { mergeKey: 'type' } } }
  }
}
const plainPatchMeta: PatchMeta = { fields: { metadata: { fields: { ownerReferences: { mergeKey: 'uid' } } } } }

function def (group: string, resource: string, kind: string, namespaced: boolean, extra: Partial<ResourceDefinition> = {}): ResourceDefinition {
  return { group, version: 'v1', resource, kind, listKind: `${kind}List`, namespaced, patchMeta: plainPatchMeta, ...extra }
}

const RBAC = 'rbac.authorization.k8s.io'
export const resourceDefinitions: ResourceDefinition[] = [
  def('', 'pods', 'Pod', true, { patchMeta: podPatchMeta }),
  def('', 'events', 'Event', true),
  def('', 'nodes', 'Node', false, { patchMeta: nodePatchMeta }),
  def('', 'namespaces', 'Namespace', false),
  def(RBAC, 'roles', 'Role', true, { readOnly: true }),
  def(RBAC, 'rolebindings', 'RoleBinding', true, { readOnly: true }),
  def(RBAC, 'clusterroles', 'ClusterRole', false, { readOnly: true }),
  def(RBAC, 'clusterrolebindings', 'ClusterRoleBinding', false, { readOnly: true }),
  // the gateway's per-user session ledgers and audit anchors; the lease strategy
  // (kubernetes pkg/registry/coordination/lease/strategy.go) allows create on update
  // and no unconditional update
  def('coordination.k8s.io', 'leases', 'Lease', true, { allowCreateOnUpdate: true, requireResourceVersionOnUpdate: true })
]

export function findDefinition (group: string, version: string, resource: string): ResourceDefinition | undefined {
  return resourceDefinitions.find(d => d.group === group && d.version === version && d.resource === resource)
}

export function apiVersionOf (d: ResourceDefinition): string {
  return d.group ? `${d.group}/${d.version}` : d.version
}

/** The object as the wire shows it: kind and apiVersion first. */
export function present (d: ResourceDefinition, o: KObject): KObject {
  const { kind: _k, apiVersion: _a, ...rest } = o
  return { kind: d.kind, apiVersion: apiVersionOf(d), ...rest } as KObject
}

/** List items carry no kind/apiVersion (typed lists in Go leave TypeMeta empty). */
export function listItem (o: KObject): KObject {
  const { kind: _k, apiVersion: _a, ...rest } = o
  return rest as KObject
}
