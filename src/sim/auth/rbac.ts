// RBAC evaluation as kube-apiserver does it: the privileged-group authorizer
// (system:masters) first, then plugin/pkg/auth/authorizer/rbac/rbac.go over the
// rule resolver of pkg/registry/rbac/validation/rule.go, with the matchers of
// pkg/apis/rbac/v1/evaluation_helpers.go.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseAllDocuments } from 'yaml'
import type { AuthorizationDecision, KObject, NonResourceAttributes, ResourceAttributes, UserInfo } from '../apimachinery/types.ts'

const RBAC_API_VERSION = 'rbac.authorization.k8s.io/v1'
const SYSTEM_MASTERS = 'system:masters'
const SA_PREFIX = 'system:serviceaccount:'

export interface PolicyRule {
  verbs?: string[]
  apiGroups?: string[]
  resources?: string[]
  resourceNames?: string[]
  nonResourceURLs?: string[]
}

export interface Subject {
  kind: string
  name: string
  namespace?: string
  apiGroup?: string
}

export interface RoleRef {
  kind: string
  name: string
  apiGroup?: string
}

interface Binding {
  name: string
  namespace: string
  roleRef: RoleRef
  subjects: Subject[]
}

/** Multi-document YAML → objects; `kind: List` is expanded and empty documents are skipped. */
export function parseManifests (yamlText: string): KObject[] {
  const out: KObject[] = []
  for (const doc of parseAllDocuments(yamlText)) {
    if (doc.errors.length > 0) throw new Error(`invalid YAML: ${doc.errors[0]?.message ?? 'parse error'}`)
    const value: unknown = doc.toJS()
    if (value === null || value === undefined) continue
    collect(value, out)
  }
  return out
}

function collect (value: unknown, out: KObject[]): void {
  if (!isRecord(value)) throw new Error('manifest document is not an object')
  if (value.kind === 'List' || (typeof value.kind === 'string' && value.kind.endsWith('List') && Array.isArray(value.items))) {
    for (const item of (value.items as unknown[] | undefined) ?? []) collect(item, out)
    return
  }
  const metadata = isRecord(value.metadata) ? value.metadata : {}
  out.push({ ...value, metadata } as KObject)
}

function isRecord (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function strings (v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []
}

function toRules (v: unknown): PolicyRule[] {
  if (!Array.isArray(v)) return []
  return v.filter(isRecord).map(r => ({
    verbs: strings(r.verbs),
    apiGroups: strings(r.apiGroups),
    resources: strings(r.resources),
    resourceNames: strings(r.resourceNames),
    nonResourceURLs: strings(r.nonResourceURLs)
  }))
}

function toSubjects (v: unknown): Subject[] {
  if (!Array.isArray(v)) return []
  return v.filter(isRecord).map(s => ({
    kind: String(s.kind ?? ''),
    name: String(s.name ?? ''),
    namespace: typeof s.namespace === 'string' ? s.namespace : undefined,
    apiGroup: typeof s.apiGroup === 'string' ? s.apiGroup : undefined
  }))
}

// ---- matchers (evaluation_helpers.go) ----

export function verbMatches (rule: PolicyRule, verb: string): boolean {
  return (rule.verbs ?? []).some(v => v === '*' || v === verb)
}

export function apiGroupMatches (rule: PolicyRule, group: string): boolean {
  return (rule.apiGroups ?? []).some(g => g === '*' || g === group)
}

/** `*`, exact `resource/subresource`, or `*\/subresource`; there is no `pods/*` form. */
export function resourceMatches (rule: PolicyRule, combined: string, subresource: string): boolean {
  for (const r of rule.resources ?? []) {
    if (r === '*' || r === combined) return true
    if (subresource.length === 0) continue
    if (r.length === subresource.length + 2 && r.startsWith('*/') && r.endsWith(subresource)) return true
  }
  return false
}

/** No resourceNames → any name; otherwise the requested name (possibly empty) must be listed. */
export function resourceNameMatches (rule: PolicyRule, name: string): boolean {
  const names = rule.resourceNames ?? []
  if (names.length === 0) return true
  return names.includes(name)
}

export function nonResourceURLMatches (rule: PolicyRule, path: string): boolean {
  for (const u of rule.nonResourceURLs ?? []) {
    if (u === '*' || u === path) return true
    if (u.endsWith('*') && path.startsWith(u.replace(/\*+$/, ''))) return true
  }
  return false
}

function isResourceAttrs (a: ResourceAttributes | NonResourceAttributes): a is ResourceAttributes {
  return 'resource' in a
}

export function ruleAllows (attrs: ResourceAttributes | NonResourceAttributes, rule: PolicyRule): boolean {
  if (isResourceAttrs(attrs)) {
    const sub = attrs.subresource ?? ''
    const combined = sub ? `${attrs.resource}/${sub}` : attrs.resource
    return verbMatches(rule, attrs.verb) &&
      apiGroupMatches(rule, attrs.group ?? '') &&
      resourceMatches(rule, combined, sub) &&
      resourceNameMatches(rule, attrs.name ?? '')
  }
  return verbMatches(rule, attrs.verb) && nonResourceURLMatches(rule, attrs.path)
}

// ---- subjects (rule.go appliesToUser) ----

function appliesToUser (user: UserInfo, subject: Subject, namespace: string): boolean {
  switch (subject.kind) {
    case 'User':
      return user.username === subject.name
    case 'Group':
      return user.groups.includes(subject.name)
    case 'ServiceAccount': {
      // a binding's own namespace is the default for an SA subject without one
      const saNamespace = subject.namespace || namespace
      if (!saNamespace) return false
      return user.username === `${SA_PREFIX}${saNamespace}:${subject.name}`
    }
    default:
      return false
  }
}

function describeSubject (s: Subject, bindingNamespace: string): string {
  if (s.kind === 'ServiceAccount') {
    return `${s.kind} ${JSON.stringify(`${s.name}/${s.namespace || bindingNamespace}`)}`
  }
  return `${s.kind} ${JSON.stringify(s.name)}`
}

/** Holds RBAC objects and answers authorization questions like kube-apiserver's `Node,RBAC` chain minus Node. */
export class RbacAuthorizer {
  readonly #roles = new Map<string, PolicyRule[]>() // `${ns}/${name}`
  readonly #clusterRoles = new Map<string, PolicyRule[]>()
  readonly #roleBindings = new Map<string, Binding>() // `${ns}/${name}`
  readonly #clusterRoleBindings = new Map<string, Binding>()

  /** Adds Role, ClusterRole, RoleBinding, ClusterRoleBinding (rbac.authorization.k8s.io/v1); ignores other kinds; returns how many were taken. */
  load (objects: KObject[]): number {
    let n = 0
    for (const o of objects) {
      if (o.apiVersion !== RBAC_API_VERSION) continue
      const name = o.metadata.name ?? ''
      const ns = o.metadata.namespace ?? 'default'
      switch (o.kind) {
        case 'Role':
          this.#roles.set(`${ns}/${name}`, toRules(o.rules)); n++; break
        case 'ClusterRole':
          this.#clusterRoles.set(name, toRules(o.rules)); n++; break
        case 'RoleBinding':
          this.#roleBindings.set(`${ns}/${name}`, toBinding(o, ns)); n++; break
        case 'ClusterRoleBinding':
          this.#clusterRoleBindings.set(name, toBinding(o, '')); n++; break
        default:
          break
      }
    }
    return n
  }

  /** Removes one RBAC object (tests use it to take rights away). Returns whether it existed. */
  remove (kind: 'Role' | 'ClusterRole' | 'RoleBinding' | 'ClusterRoleBinding', name: string, namespace = 'default'): boolean {
    switch (kind) {
      case 'Role': return this.#roles.delete(`${namespace}/${name}`)
      case 'ClusterRole': return this.#clusterRoles.delete(name)
      case 'RoleBinding': return this.#roleBindings.delete(`${namespace}/${name}`)
      case 'ClusterRoleBinding': return this.#clusterRoleBindings.delete(name)
    }
  }

  authorize (user: UserInfo, attrs: ResourceAttributes | NonResourceAttributes): AuthorizationDecision {
    // authorizerfactory.NewPrivilegedGroups(system:masters) runs before RBAC and gives no reason
    if (user.groups.includes(SYSTEM_MASTERS)) return { allowed: true, reason: '' }

    const errors: string[] = []
    const namespace = isResourceAttrs(attrs) ? (attrs.namespace ?? '') : ''
    for (const b of this.#clusterRoleBindings.values()) {
      const hit = this.#visit(user, attrs, b, '', errors)
      if (hit) return { allowed: true, reason: `RBAC: allowed by ${hit}` }
    }
    if (namespace) {
      for (const b of this.#roleBindings.values()) {
        if (b.namespace !== namespace) continue
        const hit = this.#visit(user, attrs, b, namespace, errors)
        if (hit) return { allowed: true, reason: `RBAC: allowed by ${hit}` }
      }
    }
    // utilerrors.NewAggregate: one error prints bare, several as [a, b]
    const reason = errors.length === 0 ? '' : `RBAC: ${errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`}`
    return { allowed: false, reason }
  }

  /** All rules that apply to `user` in `namespace` (RBAC RulesFor), plus role resolution errors. */
  rulesFor (user: UserInfo, namespace: string): { rules: PolicyRule[], errors: string[] } {
    const rules: PolicyRule[] = []
    const errors: string[] = []
    const collect = (b: Binding, ns: string): void => {
      if (!b.subjects.some(s => appliesToUser(user, s, ns))) return
      rules.push(...(this.#roleRules(b.roleRef, ns, errors) ?? []))
    }
    for (const b of this.#clusterRoleBindings.values()) collect(b, '')
    if (namespace) for (const b of this.#roleBindings.values()) if (b.namespace === namespace) collect(b, namespace)
    return { rules: structuredClone(rules), errors }
  }

  #visit (user: UserInfo, attrs: ResourceAttributes | NonResourceAttributes, b: Binding, namespace: string, errors: string[]): string | undefined {
    const subject = b.subjects.find(s => appliesToUser(user, s, namespace))
    if (!subject) return undefined
    const rules = this.#roleRules(b.roleRef, namespace, errors)
    if (!rules) return undefined
    if (!rules.some(r => ruleAllows(attrs, r))) return undefined
    return namespace
      ? `RoleBinding ${JSON.stringify(`${b.name}/${b.namespace}`)} of ${b.roleRef.kind} ${JSON.stringify(b.roleRef.name)} to ${describeSubject(subject, b.namespace)}`
      : `ClusterRoleBinding ${JSON.stringify(b.name)} of ${b.roleRef.kind} ${JSON.stringify(b.roleRef.name)} to ${describeSubject(subject, '')}`
  }

  #roleRules (ref: RoleRef, namespace: string, errors: string[]): PolicyRule[] | undefined {
    if (ref.kind === 'Role') {
      const rules = namespace ? this.#roles.get(`${namespace}/${ref.name}`) : undefined
      if (!rules) errors.push(`role.rbac.authorization.k8s.io ${JSON.stringify(ref.name)} not found`)
      return rules
    }
    if (ref.kind === 'ClusterRole') {
      const rules = this.#clusterRoles.get(ref.name)
      if (!rules) errors.push(`clusterrole.rbac.authorization.k8s.io ${JSON.stringify(ref.name)} not found`)
      return rules
    }
    errors.push(`unsupported role reference kind: ${JSON.stringify(ref.kind)}`)
    return undefined
  }
}

function toBinding (o: KObject, namespace: string): Binding {
  const ref = isRecord(o.roleRef) ? o.roleRef : {}
  return {
    name: o.metadata.name ?? '',
    namespace,
    roleRef: { kind: String(ref.kind ?? ''), name: String(ref.name ?? ''), apiGroup: typeof ref.apiGroup === 'string' ? ref.apiGroup : undefined },
    subjects: toSubjects(o.subjects)
  }
}

/** Path of the bootstrap RBAC every real cluster has (system:discovery, system:basic-user, system:public-info-viewer, cluster-admin). */
export function bootstrapRbacPath (): string {
  return fileURLToPath(new URL('../worlds/bootstrap-rbac.yaml', import.meta.url))
}

/** Path of the demo users' RBAC (alice, bob, carol, chatbot, kube-iptables-tailer). */
export function demoRbacPath (): string {
  return fileURLToPath(new URL('../worlds/demo-rbac.yaml', import.meta.url))
}

/** The bootstrap RBAC objects, parsed. */
export function loadBootstrapRbac (): KObject[] {
  return parseManifests(readFileSync(bootstrapRbacPath(), 'utf8'))
}
