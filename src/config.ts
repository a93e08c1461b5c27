// The gateway's configuration: one TypeBox schema is the source of the
// defaults, the validation, the environment variable names and the README
// table. Only src/main.ts reads process.env / argv; it hands them to
// loadConfig(), which is pure apart from reading the optional config file.
import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { Type, type Static, type TSchema, type TObject } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { parse as parseYaml } from 'yaml'
import { AuthenticationConfigSchema, AuthorizationConfigSchema } from './auth/config-schema.ts'
import { PolicySchema } from './policy/config-schema.ts'
import { validatePolicy } from './policy/policy.ts'
import { defaultPolicy } from './policy/default.ts'
import { DropsConfigSchema } from './drops/config-schema.ts'
import { AttachConfigSchema } from './attach/config-schema.ts'
import { LimitsConfigSchema } from './budgets/config-schema.ts'
import { UiConfigSchema } from './ui/config-schema.ts'
import { AuditConfigSchema, auditConfigProblem } from './audit/config-schema.ts'
import { SessionsConfigSchema } from './sessions/config-schema.ts'

export const ServerConfigSchema = Type.Object({
  host: Type.String({ default: '0.0.0.0', description: 'Address to listen on.' }),
  port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080, description: 'TCP port to listen on.' }),
  publicUrl: Type.Optional(Type.String({ description: 'External base URL (e.g. https://kdebug.example.com) used in attach links; derived from the request when unset.' })),
  bodyLimitBytes: Type.Integer({ minimum: 1024, default: 65536, description: 'Largest accepted request body; larger bodies get 413.' }),
  requestTimeoutMs: Type.Integer({ minimum: 0, default: 330000, description: 'Hard limit for one HTTP request (covers `wait` of up to 300 s). 0 disables.' }),
  keepAliveTimeoutMs: Type.Integer({ minimum: 1000, default: 72000, description: 'Idle keep-alive; longer than common load balancer idle timeouts (60 s) so the LB closes first.' }),
  shutdownGraceMs: Type.Integer({ minimum: 100, default: 10000, description: 'Time to finish in-flight requests on SIGTERM before exiting.' }),
  trustProxy: Type.Boolean({ default: false, description: 'Trust X-Forwarded-* headers (only behind a proxy you control).' })
}, { additionalProperties: false, default: {} })

export const LoggingConfigSchema = Type.Object({
  level: Type.Union([
    Type.Literal('fatal'), Type.Literal('error'), Type.Literal('warn'),
    Type.Literal('info'), Type.Literal('debug'), Type.Literal('trace'), Type.Literal('silent')
  ], { default: 'info', description: 'pino log level.' }),
  requests: Type.Boolean({ default: false, description: 'Log every request (costs ~40 % throughput; the audit log is the record).' })
}, { additionalProperties: false, default: {} })

export const KubeConfigSchema = Type.Object({
  kubeconfig: Type.Optional(Type.String({ description: 'Path to a kubeconfig; unset = in-cluster service account, else $KUBECONFIG / ~/.kube/config.' })),
  context: Type.Optional(Type.String({ description: 'kubeconfig context to use (default: current-context).' })),
  requestTimeoutMs: Type.Integer({ minimum: 100, default: 15000, description: 'Timeout for one non-streaming call to the API server.' })
}, { additionalProperties: false, default: {} })

export const SecurityConfigSchema = Type.Object({
  signingKey: Type.Optional(Type.String({ minLength: 32, description: 'HMAC-SHA256 key (at least 32 characters, e.g. `openssl rand -hex 32`) that signs the gateway\'s metadata on pods and ephemeral containers (attribution, idempotency, expiry); every replica needs the same one. Set it from a Secret, never in the config file. Required unless `security.allowEphemeralKey`.' })),
  verificationKeys: Type.Array(Type.String({ minLength: 32 }), { default: [], description: 'Former signing keys that still verify (key rotation: put the new key in `signingKey`, the old one here until its sessions have ended).' }),
  allowEphemeralKey: Type.Boolean({ default: false, description: 'Development only: without `signingKey`, sign with a random key per process. Sessions made by another replica or before a restart then show as unverified (not counted, not replayed, not reaped).' })
}, { additionalProperties: false, default: {} })

export const DocsConfigSchema = Type.Object({
  enabled: Type.Boolean({ default: false, description: 'Serve Swagger UI at /docs (the spec is always at /openapi.json).' })
}, { additionalProperties: false, default: {} })

export const ConfigSchema = Type.Object({
  server: ServerConfigSchema,
  logging: LoggingConfigSchema,
  kube: KubeConfigSchema,
  authentication: AuthenticationConfigSchema,
  authorization: AuthorizationConfigSchema,
  policy: Type.Unsafe<Static<typeof PolicySchema>>({ ...PolicySchema, default: defaultPolicy, description: 'Gateway policy (rules evaluated after RBAC). Set in the config file.' }),
  audit: AuditConfigSchema,
  sessions: SessionsConfigSchema,
  attach: AttachConfigSchema,
  drops: DropsConfigSchema,
  security: SecurityConfigSchema,
  limits: LimitsConfigSchema,
  docs: DocsConfigSchema,
  ui: UiConfigSchema
}, { additionalProperties: false })

export type Config = Static<typeof ConfigSchema>

export class ConfigError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'ConfigError'
  }
}

const ENV_PREFIX = 'KDEBUG_'

function toEnvSegment (key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()
}

export interface ConfigKey {
  path: string
  env: string
  type: string
  default: unknown
  description: string
}

function isObjectSchema (s: TSchema): s is TObject {
  return s.type === 'object' && s.properties !== undefined
}

function leafType (s: TSchema): string {
  if (s.anyOf) return [...new Set((s.anyOf as TSchema[]).map(leafType))].join(' | ')
  if (s.const !== undefined) return JSON.stringify(s.const)
  if (s.type === 'array') return `${leafType(s.items as TSchema)}[]`
  return String(s.type ?? 'object')
}

/**
 * Every settable key with its env var, default and description. Objects that
 * are not plain settings groups (policy rules, OIDC claim maps) are one key:
 * they are set in the config file, or as JSON in the env var.
 */
export function describeConfig (schema: TObject = ConfigSchema, prefix = ''): ConfigKey[] {
  const out: ConfigKey[] = []
  for (const [key, sub] of Object.entries(schema.properties)) {
    const path = prefix ? `${prefix}.${key}` : key
    if (isObjectSchema(sub) && sub.additionalProperties === false && key !== 'policy') {
      out.push(...describeConfig(sub, path))
      continue
    }
    out.push({
      path,
      env: ENV_PREFIX + path.split('.').map(toEnvSegment).join('_'),
      type: leafType(sub),
      default: sub.default,
      description: String(sub.description ?? '')
    })
  }
  return out
}

function coerceEnv (raw: string, key: ConfigKey): unknown {
  const t = key.type
  if (t.includes('[]') || t === 'object' || t.startsWith('{')) {
    const trimmed = raw.trim()
    if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
      try { return JSON.parse(trimmed) } catch { throw new ConfigError(`${key.env} (${key.path}): not valid JSON`) }
    }
    if (t.includes('[]')) return trimmed === '' ? [] : trimmed.split(',').map(s => s.trim())
    throw new ConfigError(`${key.env} (${key.path}): expected a JSON object`)
  }
  if (raw === 'null' && t.includes('null')) return null
  if (t.includes('integer') || t.includes('number')) {
    const n = Number(raw)
    if (raw.trim() === '' || !Number.isFinite(n)) throw new ConfigError(`${key.env} (${key.path}): expected a number, got "${raw}"`)
    return n
  }
  if (t.includes('boolean')) {
    if (/^(true|1|yes)$/i.test(raw)) return true
    if (/^(false|0|no)$/i.test(raw)) return false
    throw new ConfigError(`${key.env} (${key.path}): expected true or false, got "${raw}"`)
  }
  return raw
}

function setPath (target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.')
  let node = target
  for (const p of parts.slice(0, -1)) {
    const next = node[p]
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[p] = {}
    node = node[p] as Record<string, unknown>
  }
  node[parts[parts.length - 1] as string] = value
}

function readConfigFile (file: string): Record<string, unknown> {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new ConfigError(`config file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'cannot be read'}`)
  }
  let parsed: unknown
  try {
    // YAML is a superset of JSON, so one parser serves both formats.
    parsed = parseYaml(text)
  } catch (err) {
    throw new ConfigError(`config file ${file}: ${(err as Error).message}`)
  }
  if (parsed === null || parsed === undefined) return {}
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`config file ${file}: the top level must be a mapping`)
  return parsed as Record<string, unknown>
}

/** `--config FILE` / `--config=FILE` from argv, else KDEBUG_CONFIG. */
export function configFileFrom (argv: readonly string[], env: Record<string, string | undefined>): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string
    if (a === '--config') return argv[i + 1]
    if (a.startsWith('--config=')) return a.slice('--config='.length)
  }
  return env.KDEBUG_CONFIG || undefined
}

function pointerToPath (pointer: string): string {
  return pointer.replace(/^\//, '').split('/').join('.') || '(root)'
}

/** Validates and defaults a plain object (what tests build) into a Config. */
export function resolveConfig (input: unknown): Config {
  const withDefaults = Value.Default(ConfigSchema, structuredClone(input ?? {}))
  const errors = [...Value.Errors(ConfigSchema, withDefaults)]
  if (errors.length > 0) {
    const first = errors[0]!
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''
    throw new ConfigError(`invalid config at ${pointerToPath(first.path)}: ${first.message}${more}`)
  }
  const config = withDefaults as Config
  const auditProblem = auditConfigProblem(config.audit)
  if (auditProblem !== null) throw new ConfigError(`invalid config: ${auditProblem}`)
  // Rules that type-check can still be wrong (duplicates, unreachable rules, bad image patterns).
  const policyProblems = validatePolicy(config.policy)
  if (policyProblems.length > 0) throw new ConfigError(`invalid config: ${policyProblems.join('; ')}`)
  return config
}

/**
 * Defaults < config file < environment. Fails with a ConfigError naming the
 * key (and its env var when that is where the bad value came from).
 */
export function loadConfig (env: Record<string, string | undefined>, argv: readonly string[] = []): Config {
  const file = configFileFrom(argv, env)
  const merged: Record<string, unknown> = file ? readConfigFile(file) : {}
  for (const key of describeConfig()) {
    const raw = env[key.env]
    if (raw === undefined) continue
    setPath(merged, key.path, coerceEnv(raw, key))
  }
  return resolveConfig(merged)
}

/**
 * The process entry's check: replicas must share one signing key, or each would treat the
 * others' sessions as unverified (and per-user limits would count per replica). Tests and the
 * demo build the app directly and get a random per-process key.
 */
export function requireSigningKey (config: Config): void {
  if (config.security.signingKey !== undefined || config.security.allowEphemeralKey) return
  throw new ConfigError('security.signingKey (KDEBUG_SECURITY_SIGNING_KEY) is required: every replica must sign and verify session metadata with the same key. ' +
    'Set it from a Secret (openssl rand -hex 32), or set security.allowEphemeralKey=true for a single development process.')
}

/** This replica's name in audit records and audit queries: configured, else the host (pod) name. */
export function replicaName (config: Config): string {
  return config.audit.replica ?? hostname()
}
