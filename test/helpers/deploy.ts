// Shared by the deploy/ tests: render a kustomization with the installed
// kubectl, and check objects against the Kubernetes API schemas offline
// (kubernetes-models' generated validators, plus an unknown-field check read
// from its type declarations, like `kubectl apply --validate=strict`).
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseAllDocuments } from 'yaml'
import { ConfigMap, Namespace, Service, ServiceAccount } from 'kubernetes-models/v1'
import { Deployment } from 'kubernetes-models/apps/v1'
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1'
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2'
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1'
import { ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding } from 'kubernetes-models/admissionregistration.k8s.io/v1'

export const REPO = fileURLToPath(new URL('../../', import.meta.url))
const MODELS = join(REPO, 'node_modules', 'kubernetes-models')
const NODE_MODULES = join(REPO, 'node_modules')

/** A manifest as parsed from YAML; tests narrow what they read. */
export interface KObject {
  apiVersion: string
  kind: string
  metadata: { name: string, namespace?: string, labels?: Record<string, string>, annotations?: Record<string, string> }
  [key: string]: unknown
}

/** Why kubectl-based tests are skipped, or false when kubectl is usable. */
export function kubectlMissing (): string | false {
  try {
    execFileSync('kubectl', ['version', '--client=true', '-o', 'json'], { stdio: 'pipe', timeout: 20_000 })
    return false
  } catch (err) {
    // Only a missing kubectl skips; a kubectl that is there but fails must fail the tests.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'kubectl is not installed (or not on PATH): cannot render the kustomizations; install kubectl ≥ 1.27 to run these tests'
    throw err
  }
}

/** `kubectl kustomize DIR` (offline), parsed. DIR is relative to the repository root. */
export function kustomize (dir: string): KObject[] {
  const out = execFileSync('kubectl', ['kustomize', join(REPO, dir)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 })
  return parseManifests(out)
}

export function parseManifests (text: string): KObject[] {
  return parseAllDocuments(text)
    .map(d => {
      if (d.errors.length > 0) throw d.errors[0]
      return d.toJS() as KObject | null
    })
    .filter((o): o is KObject => o !== null)
}

export function readRepoFile (path: string): string {
  return readFileSync(join(REPO, path), 'utf8')
}

/** The one object of that kind and name; fails the test if there is not exactly one. */
export function only<T = KObject> (objects: KObject[], kind: string, name?: string): T {
  const found = objects.filter(o => o.kind === kind && (name === undefined || o.metadata.name === name))
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`)
  return found[0] as T
}

interface Validatable { validate (): void }
type ModelClass = new (data: never) => Validatable

const MODEL_CLASSES: Record<string, ModelClass> = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy': ValidatingAdmissionPolicy,
  'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding': ValidatingAdmissionPolicyBinding
}

export function typeKey (o: { apiVersion: string, kind: string }): string {
  return `${o.apiVersion}/${o.kind}`
}

/** Schema validation (types, required fields, enums, formats); throws with the JSON path. */
export function validateSchema (o: KObject): void {
  const Model = MODEL_CLASSES[typeKey(o)]
  if (Model === undefined) throw new Error(`no schema registered for ${typeKey(o)} (add it to MODEL_CLASSES)`)
  new Model(o as never).validate()
}

interface InterfaceShape {
  /** property name → the declared type's source text */
  props: Map<string, string>
  /** imported type name → its .d.ts file */
  imports: Map<string, string>
}

function resolveImport (fromFile: string, spec: string): string {
  return spec.startsWith('.') ? join(dirname(fromFile), `${spec}.d.ts`) : join(NODE_MODULES, `${spec}.d.ts`)
}

function readShape (file: string, cache: Map<string, InterfaceShape | null>): InterfaceShape | null {
  if (cache.has(file)) return cache.get(file) ?? null
  let shape: InterfaceShape | null = null
  if (existsSync(file)) {
    const text = readFileSync(file, 'utf8')
    const imports = new Map<string, string>()
    for (const m of text.matchAll(/^import \{ (\w+) \} from "([^"]+)";$/gm)) imports.set(m[1] as string, resolveImport(file, m[2] as string))
    const body = /^export interface \w+(?: extends [\w, ]+)? \{\n([\s\S]*?)^\}/m.exec(text)
    if (body) {
      const props = new Map<string, string>()
      for (const m of (body[1] as string).matchAll(/^ {4}"([^"]+)"\??: (.*)$/gm)) props.set(m[1] as string, (m[2] as string).replace(/;$/, ''))
      shape = { props, imports }
    }
  }
  cache.set(file, shape)
  return shape
}

function walkUnknown (value: unknown, file: string, path: string, out: string[], cache: Map<string, InterfaceShape | null>): void {
  const shape = readShape(file, cache)
  if (shape === null || value === null || typeof value !== 'object' || Array.isArray(value)) return
  for (const [key, child] of Object.entries(value)) {
    const type = shape.props.get(key)
    if (type === undefined) {
      out.push(`${path}.${key}`)
      continue
    }
    const ref = /^(Array<)?(\w+)>?$/.exec(type)
    const target = ref ? shape.imports.get(ref[2] as string) : undefined
    if (target === undefined) continue
    if (ref?.[1] !== undefined && Array.isArray(child)) child.forEach((c, i) => walkUnknown(c, target, `${path}.${key}[${i}]`, out, cache))
    else walkUnknown(child, target, `${path}.${key}`, out, cache)
  }
}

/** Field paths the API schema does not know (typos the API server would drop or reject). */
export function unknownFields (o: KObject): string[] {
  const out: string[] = []
  walkUnknown(o, join(MODELS, o.apiVersion, `${o.kind}.d.ts`), o.kind, out, new Map())
  return out
}
