// A "world" is the starting state of the simulated cluster: users with their
// tokens, RBAC manifests, and the objects (namespaces, nodes, pods) that exist
// at start. It is read from a YAML file (see demo.yaml next to this file).
import { readFileSync, statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse as parseYaml } from 'yaml'
import type { KObject } from '../apimachinery/types.ts'
import { parseManifests } from '../auth/rbac.ts'

export interface WorldUser {
  /** Short name: kubeconfig context/user name and key of Sim.tokens. */
  name: string
  /** The authenticated user name (e.g. system:serviceaccount:ns:sa). */
  username: string
  token: string
  groups: string[]
  uid?: string
}

export interface World {
  users: WorldUser[]
  /** Name of the user whose context is the kubeconfig's current-context. */
  currentContext: string
  /** RBAC objects (Role, ClusterRole, bindings) to load besides the bootstrap policy (from `rbacFiles` and inline `objects`). */
  rbac: KObject[]
  /** Everything else that exists at start (namespaces, nodes, pods, events). */
  objects: KObject[]
}

const RBAC_KINDS = new Set(['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'])

export function isRbacObject (o: KObject): boolean {
  return o.apiVersion === 'rbac.authorization.k8s.io/v1' && RBAC_KINDS.has(String(o.kind))
}

export function demoWorldPath (): string {
  return fileURLToPath(new URL('./demo.yaml', import.meta.url))
}

/** Reads manifests from a file; a kustomization.yaml contributes the files in its `resources` list. */
export function readManifestFile (path: string): KObject[] {
  // a kustomization may list directories (bases): read their kustomization.yaml
  if (statSync(path).isDirectory()) return readManifestFile(resolve(path, 'kustomization.yaml'))
  const text = readFileSync(path, 'utf8')
  if (/(^|\/)kustomization\.ya?ml$/.test(path)) {
    const k = parseYaml(text) as { resources?: unknown }
    const files = Array.isArray(k.resources) ? k.resources.filter((x): x is string => typeof x === 'string') : []
    return files.flatMap(f => readManifestFile(resolve(dirname(path), f)))
  }
  return parseManifests(text)
}

function asUser (u: unknown): WorldUser {
  const o = (u ?? {}) as Record<string, unknown>
  const name = String(o.name ?? '')
  const token = String(o.token ?? '')
  if (!name || !token) throw new Error('world: every user needs name and token')
  return {
    name,
    username: String(o.username ?? name),
    token,
    groups: Array.isArray(o.groups) ? o.groups.map(String) : [],
    uid: typeof o.uid === 'string' ? o.uid : undefined
  }
}

/** Parses a world document; `rbacFiles` are resolved relative to `baseDir`. */
export function parseWorld (text: string, baseDir: string): World {
  const doc = parseYaml(text) as Record<string, unknown> | null
  if (!doc || typeof doc !== 'object') throw new Error('world: empty document')
  const users = (Array.isArray(doc.users) ? doc.users : []).map(asUser)
  const rbacFiles = Array.isArray(doc.rbacFiles) ? doc.rbacFiles.map(String) : []
  // only the RBAC objects of those files count (deploy/ also holds the Namespace, ServiceAccount, Deployment...)
  const rbac = rbacFiles.flatMap(f => readManifestFile(resolve(baseDir, f))).filter(isRbacObject)
  const objects: KObject[] = []
  for (const raw of Array.isArray(doc.objects) ? doc.objects : []) {
    const o = raw as KObject
    if (!o.metadata) o.metadata = {}
    if (isRbacObject(o)) rbac.push(o)
    else objects.push(o)
  }
  const currentContext = typeof doc.currentContext === 'string' ? doc.currentContext : (users[0]?.name ?? '')
  return { users, currentContext, rbac, objects }
}

export function loadWorld (path: string = demoWorldPath()): World {
  return parseWorld(readFileSync(path, 'utf8'), dirname(path))
}
