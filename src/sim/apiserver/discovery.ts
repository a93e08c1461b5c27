// Legacy (aggregated-less) discovery documents: /version, /api, /api/v1, /apis,
// /apis/<group>/<version>. kubectl 1.32 asks for the v2 aggregated form first
// but accepts these plain APIVersions / APIGroupList / APIResourceList answers.

export const VERSION_INFO = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.3',
  gitCommit: '32cc146f75aad04beaaa245a7157eb35063a9f99',
  gitTreeState: 'clean',
  buildDate: '2025-03-11T19:52:21Z',
  goVersion: 'go1.23.6',
  compiler: 'gc',
  platform: 'linux/amd64'
}

export interface ResourceDef {
  name: string
  singularName: string
  namespaced: boolean
  kind: string
  verbs: string[]
  shortNames?: string[]
  categories?: string[]
  group?: string
  version?: string
}

const rw = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']

export const coreResources: ResourceDef[] = [
  { name: 'events', singularName: 'event', namespaced: true, kind: 'Event', verbs: rw, shortNames: ['ev'] },
  { name: 'namespaces', singularName: 'namespace', namespaced: false, kind: 'Namespace', verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], shortNames: ['ns'] },
  { name: 'nodes', singularName: 'node', namespaced: false, kind: 'Node', verbs: rw, shortNames: ['no'] },
  { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: rw, shortNames: ['po'], categories: ['all'] },
  { name: 'pods/attach', singularName: '', namespaced: true, kind: 'PodAttachOptions', verbs: ['create', 'get'] },
  { name: 'pods/ephemeralcontainers', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get', 'patch', 'update'] },
  { name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] },
  { name: 'pods/status', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get', 'patch', 'update'] }
]

export const groupResources: Record<string, ResourceDef[]> = {
  'authentication.k8s.io/v1': [
    { name: 'selfsubjectreviews', singularName: 'selfsubjectreview', namespaced: false, kind: 'SelfSubjectReview', verbs: ['create'] },
    { name: 'tokenreviews', singularName: 'tokenreview', namespaced: false, kind: 'TokenReview', verbs: ['create'] }
  ],
  'authorization.k8s.io/v1': [
    { name: 'selfsubjectaccessreviews', singularName: 'selfsubjectaccessreview', namespaced: false, kind: 'SelfSubjectAccessReview', verbs: ['create'] },
    { name: 'selfsubjectrulesreviews', singularName: 'selfsubjectrulesreview', namespaced: false, kind: 'SelfSubjectRulesReview', verbs: ['create'] },
    { name: 'subjectaccessreviews', singularName: 'subjectaccessreview', namespaced: false, kind: 'SubjectAccessReview', verbs: ['create'] }
  ],
  'rbac.authorization.k8s.io/v1': [
    { name: 'clusterrolebindings', singularName: 'clusterrolebinding', namespaced: false, kind: 'ClusterRoleBinding', verbs: ['get', 'list', 'watch'] },
    { name: 'clusterroles', singularName: 'clusterrole', namespaced: false, kind: 'ClusterRole', verbs: ['get', 'list', 'watch'] },
    { name: 'rolebindings', singularName: 'rolebinding', namespaced: true, kind: 'RoleBinding', verbs: ['get', 'list', 'watch'] },
    { name: 'roles', singularName: 'role', namespaced: true, kind: 'Role', verbs: ['get', 'list', 'watch'] }
  ]
}

/** Finds the definition of a (group, version, resource[/subresource]). */
export function findResource (group: string, version: string, resource: string): ResourceDef | undefined {
  if (group === '') return version === 'v1' ? coreResources.find(r => r.name === resource) : undefined
  return groupResources[`${group}/${version}`]?.find(r => r.name === resource)
}

export function apiVersions (serverAddress: string): object {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] }
}

function resourceList (groupVersion: string, defs: ResourceDef[]): object {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion,
    resources: defs.map(d => {
      const r: Record<string, unknown> = { name: d.name, singularName: d.singularName, namespaced: d.namespaced, kind: d.kind, verbs: d.verbs }
      if (d.shortNames) r.shortNames = d.shortNames
      if (d.categories) r.categories = d.categories
      return r
    })
  }
}

export function coreV1 (): object {
  return resourceList('v1', coreResources)
}

export function apiGroupList (): object {
  const groups = new Map<string, string[]>()
  for (const gv of Object.keys(groupResources)) {
    const [g, v] = gv.split('/') as [string, string]
    groups.set(g, [...(groups.get(g) ?? []), v])
  }
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [...groups].map(([name, versions]) => ({
      name,
      versions: versions.map(v => ({ groupVersion: `${name}/${v}`, version: v })),
      preferredVersion: { groupVersion: `${name}/${versions[0] ?? 'v1'}`, version: versions[0] ?? 'v1' }
    }))
  }
}

export function apiGroup (group: string): object | undefined {
  const versions = Object.keys(groupResources).filter(gv => gv.startsWith(`${group}/`)).map(gv => gv.slice(group.length + 1))
  if (versions.length === 0) return undefined
  return {
    kind: 'APIGroup',
    apiVersion: 'v1',
    name: group,
    versions: versions.map(v => ({ groupVersion: `${group}/${v}`, version: v })),
    preferredVersion: { groupVersion: `${group}/${versions[0] ?? 'v1'}`, version: versions[0] ?? 'v1' }
  }
}

export function groupVersionResources (group: string, version: string): object | undefined {
  const defs = groupResources[`${group}/${version}`]
  return defs ? resourceList(`${group}/${version}`, defs) : undefined
}

/** Group-version paths of the OpenAPI v3 discovery root (`api/v1`, `apis/<g>/<v>`). */
function openapiGroupVersions (): string[] {
  return ['api/v1', ...Object.keys(groupResources).map(gv => `apis/${gv}`)]
}

/**
 * `/openapi/v3`: the root listing one document per group-version. kubectl 1.32 reads it (create/apply
 * `--validate`) to learn whether the server does field validation itself (`fieldValidation` parameter).
 */
export function openapiV3Root (): object {
  const paths: Record<string, { serverRelativeURL: string }> = {}
  for (const gv of openapiGroupVersions()) paths[gv] = { serverRelativeURL: `/openapi/v3/${gv}?hash=${VERSION_INFO.gitCommit.slice(0, 16).toUpperCase()}` }
  return { paths }
}

/**
 * `/openapi/v3/<gv>`: a deliberately small document — the operations with their
 * `x-kubernetes-group-version-kind` and query parameters, no schemas (the sim
 * publishes no models; clients that need them fail the same way as on a server
 * that does not serve them).
 */
export function openapiV3GroupVersion (gv: string): object | undefined {
  if (!openapiGroupVersions().includes(gv)) return undefined
  const [group, version] = gv === 'api/v1' ? ['', 'v1'] : gv.slice('apis/'.length).split('/') as [string, string]
  const defs = group === '' ? coreResources : groupResources[`${group}/${version}`] ?? []
  const prefix = group === '' ? '/api/v1' : `/apis/${group}/${version}`
  const param = (name: string): object => ({ name, in: 'query', schema: { type: 'string', uniqueItems: true } })
  const writeParams = [param('dryRun'), param('fieldManager'), param('fieldValidation')]
  const paths: Record<string, Record<string, object>> = {}
  for (const d of defs) {
    if (d.name.includes('/')) continue
    const gvk = { group, kind: d.kind, version }
    const collection = d.namespaced ? `${prefix}/namespaces/{namespace}/${d.name}` : `${prefix}/${d.name}`
    if (d.verbs.includes('create')) paths[collection] = { post: { 'x-kubernetes-action': 'post', 'x-kubernetes-group-version-kind': gvk, parameters: writeParams } }
    const item: Record<string, object> = {}
    if (d.verbs.includes('get')) item.get = { 'x-kubernetes-action': 'get', 'x-kubernetes-group-version-kind': gvk }
    if (d.verbs.includes('update')) item.put = { 'x-kubernetes-action': 'put', 'x-kubernetes-group-version-kind': gvk, parameters: writeParams }
    if (d.verbs.includes('patch')) item.patch = { 'x-kubernetes-action': 'patch', 'x-kubernetes-group-version-kind': gvk, parameters: [...writeParams, param('force')] }
    if (Object.keys(item).length) paths[`${collection}/{name}`] = item
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: VERSION_INFO.gitVersion }, paths, components: { schemas: {} } }
}
