// `custom`: a partial container spec strategic-merged onto the debug container after the
// profile, like kubectl debug --custom (debug.go: Validate, applyCustomProfile*).
import { applyCustomContainerSpec } from './custom-marshal.ts'
import { SpecError } from './spec-error.ts'
import { RESERVED_ENV_PREFIX } from '../../sessions/attribution.ts'
import { Value } from '@sinclair/typebox/value'
import type { TSchema } from '@sinclair/typebox'
import { CustomContainerSchema } from '../../schemas/container.ts'
import { exceedsDepth } from '../../lib/depth.ts'
import type { Container } from '../../kube/types.ts'

/** kubectl's Validate message, word for word. */
export const CUSTOM_FORBIDDEN_MESSAGE = 'name, command, image, lifecycle and volume devices are not modifiable via custom profile'

type Kind = 'string' | 'boolean' | 'array' | 'object'

/** corev1.Container's JSON fields. kubectl decodes --custom into this struct, so anything else never reaches the patch. */
const CONTAINER_FIELDS: Record<string, Kind> = Object.fromEntries(
  Object.entries(CustomContainerSchema.properties).map(([k, v]) => [k, kindOf(v)])
)

/** Nesting a Container can reach (probe → httpGet → httpHeaders → header) with room to spare; deeper is never valid. */
export const MAX_CUSTOM_DEPTH = 8

function kindOf (schema: TSchema): Kind {
  const t = (schema as { type?: unknown }).type
  return t === 'array' || t === 'object' || t === 'boolean' ? t : 'string'
}

/**
 * Checks `custom` and returns it the way kubectl would send it: decoded into a corev1.Container
 * and encoded again. That round trip drops nulls and `omitempty` zero values (`stdin: false`,
 * `""`, `[]`), so e.g. custom cannot switch stdin/tty off, exactly as with kubectl.
 * Stricter than kubectl (which silently drops them): unknown fields and `$patch`-style
 * directives are rejected, so a typo is a 400 instead of a no-op.
 */
export function normalizeCustom (custom: unknown): Record<string, unknown> {
  if (!isPlainObject(custom)) throw new SpecError('custom', 'custom must be a partial container spec (a JSON object)')
  // Before anything recursive runs over it.
  if (exceedsDepth(custom, MAX_CUSTOM_DEPTH)) throw new SpecError('custom', `custom is nested deeper than ${MAX_CUSTOM_DEPTH} levels, which no container field needs`)
  rejectDirectives(custom, 'custom')
  const out: Record<string, unknown> = {}
  for (const [key, raw] of Object.entries(custom)) {
    const kind = CONTAINER_FIELDS[key]
    if (kind === undefined) throw new SpecError(`custom.${key}`, `unknown container field "${key}" in custom`)
    const value = stripNulls(raw)
    if (value === undefined) continue
    if (!hasKind(value, kind)) throw new SpecError(`custom.${key}`, `custom.${key} must be ${kind === 'array' ? 'an array' : `a ${kind}`}`)
    checkSchema(key, value)
    if (value === false || value === '' || (Array.isArray(value) && value.length === 0)) continue
    out[key] = value
  }
  // kubectl: Name != "" || len(Command) > 0 || Image != "" || Lifecycle != nil || len(VolumeDevices) > 0
  for (const key of ['name', 'command', 'image', 'lifecycle', 'volumeDevices']) {
    if (key in out) throw new SpecError(`custom.${key}`, CUSTOM_FORBIDDEN_MESSAGE)
  }
  if (Array.isArray(out.env)) {
    out.env.forEach((e: unknown, i: number) => {
      if (!isPlainObject(e) || typeof e.name !== 'string') throw new SpecError(`custom.env[${i}].name`, 'each env entry needs a name')
      if (e.name.startsWith(RESERVED_ENV_PREFIX)) {
        throw new SpecError(`custom.env[${i}].name`, `env names starting with ${RESERVED_ENV_PREFIX} are reserved for attribution`)
      }
    })
  }
  return out
}

/**
 * applyCustomProfile / applyCustomProfileEphemeral: the custom spec gets the container's name
 * (so the merge keys match) and is strategic-merged with corev1.Container's patch metadata.
 * `custom` must come from normalizeCustom.
 */
export function applyCustom<T extends Container> (container: T, custom: Record<string, unknown>): T {
  return applyCustomContainerSpec(container, { ...custom, name: container.name })
}

/**
 * The field's Kubernetes type (src/schemas/container.ts). The HTTP layer has
 * already checked it; this keeps every other caller from reaching the policy
 * or the API server with, say, a number where a capability name goes.
 */
function checkSchema (key: string, value: unknown): void {
  const schema = CustomContainerSchema.properties[key as keyof typeof CustomContainerSchema.properties]
  const first = Value.Errors(schema, value).First()
  if (first === undefined) return
  throw new SpecError(`custom.${key}${pointerToPath(first.path)}`, `custom.${key}${pointerToPath(first.path)}: ${first.message}`)
}

/** `/ports/0/hostPort` → `.ports[0].hostPort` (SpecError field syntax). */
function pointerToPath (pointer: string): string {
  return pointer.split('/').slice(1).map(p => /^\d+$/.test(p) ? `[${p}]` : `.${p.replaceAll('~1', '/').replaceAll('~0', '~')}`).join('')
}

function isPlainObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function hasKind (value: unknown, kind: Kind): boolean {
  if (kind === 'array') return Array.isArray(value)
  if (kind === 'object') return isPlainObject(value)
  if (kind === 'boolean') return typeof value === 'boolean'
  return typeof value === 'string'
}

/** Go decodes a JSON null into a nil pointer/map/slice, which encodes as nothing. */
function stripNulls (value: unknown): unknown {
  if (value === null) return undefined
  if (Array.isArray(value)) return value.map(stripNulls)
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) {
      const kept = stripNulls(v)
      if (kept !== undefined) out[k] = kept
    }
    return out
  }
  return value
}

function rejectDirectives (value: unknown, path: string): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => { rejectDirectives(v, `${path}[${i}]`) })
    return
  }
  if (!isPlainObject(value)) return
  for (const [k, v] of Object.entries(value)) {
    if (k.startsWith('$')) throw new SpecError(`${path}.${k}`, `patch directive "${k}" is not allowed in custom`)
    rejectDirectives(v, `${path}.${k}`)
  }
}
