// Request options of the three debug actions (the API's request field names)
// and the checks kubectl's Validate does on them, as 400s naming the JSON field.
import { normalizeCustom } from './custom.ts'
import { RESERVED_ENV_PREFIX, type Attribution } from '../../sessions/attribution.ts'
import { checkProfile, type KeepFlags, type ProfileName } from './profiles.ts'
import { SpecError } from './spec-error.ts'
import type { EnvVar, RandomSource } from '../../kube/types.ts'
import type { ExpiryWrap } from './expiry.ts'

export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never'
export const PULL_POLICIES: readonly PullPolicy[] = ['Always', 'IfNotPresent', 'Never']

/** The default (kubectl ≥ 1.36 also defaults to general; earlier kubectl defaulted to legacy). */
export const DEFAULT_PROFILE: ProfileName = 'general'

export interface CapabilitiesOption {
  add?: string[]
  drop?: string[]
}

/** Fields every action accepts. */
export interface CommonOptions {
  image?: string
  /** Debug container name (`-c`); default `debugger-xxxxx` (node pods: `debugger`). */
  container?: string
  command?: string[]
  args?: string[]
  env?: EnvVar[]
  imagePullPolicy?: PullPolicy
  /** Default `general`. */
  profile?: string
  /** Partial container spec, same restrictions as kubectl --custom. */
  custom?: Record<string, unknown>
  capabilities?: CapabilitiesOption
  privileged?: boolean
  runAsUser?: number
  /** Default true. */
  stdin?: boolean
  /** Default: the value of stdin (so true). */
  tty?: boolean
}

export interface EphemeralOptions extends CommonOptions {
  image: string
  target?: string
}

export interface CopyOptions extends CommonOptions {
  /** Name of the copy (`--copy-to`); default `<pod>-debug-xxxxx`. */
  name?: string
  sameNode?: boolean
  /** Default true; when given explicitly it is written to spec.shareProcessNamespace as is. */
  shareProcesses?: boolean
  /** Delete the original after creating the copy; the route does that, the builder ignores it. */
  replace?: boolean
  /** `{container: image}`, `*` = every regular container; a named entry wins over `*`. */
  setImage?: Record<string, string>
  keep?: Partial<KeepFlags>
}

export interface NodePodOptions extends CommonOptions {
  image: string
  /** Namespace of the node debug pod; the route fills the configured default. */
  namespace?: string
}

/** What the route adds to a request; none of it comes from the body. */
export interface BuildContext {
  /** Without it no attribution is written (plain kubectl behaviour, used by tests). */
  attribution?: Attribution
  /** Random source for generated names; Math.random by default. */
  rand?: RandomSource
  /** Ephemeral containers: end the process at the session's expiry (expiry.ts). */
  expiry?: ExpiryWrap
}

/** distribution/reference ReferenceRegexp (what kubectl checks --image and --set-image with). */
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])'
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[(?:[a-fA-F0-9:]+)\\])(?::[0-9]+)?`
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*'
const NAME = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`
const TAG = '[\\w][\\w.-]{0,127}'
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}'
const REFERENCE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`)
/** Bounds the regexp's work on hostile input; real references are far shorter. */
const MAX_IMAGE_LENGTH = 1024

export function isImageReference (image: string): boolean {
  return image.length <= MAX_IMAGE_LENGTH && REFERENCE.test(image)
}

/** Checks shared by all three actions, in kubectl's order where it has one. Returns the profile. */
export function checkCommon (opts: CommonOptions): ProfileName {
  const profile = checkProfile(opts.profile ?? DEFAULT_PROFILE)
  if (opts.image !== undefined && opts.image !== '' && !isImageReference(opts.image)) {
    throw new SpecError('image', `invalid image name "${opts.image}": invalid reference format`)
  }
  if (opts.imagePullPolicy !== undefined && !PULL_POLICIES.includes(opts.imagePullPolicy)) {
    throw new SpecError('imagePullPolicy', `invalid image pull policy: ${String(opts.imagePullPolicy)}`)
  }
  const { stdin, tty } = streams(opts)
  if (tty && !stdin) throw new SpecError('tty', 'stdin is required for containers with tty=true')
  checkEnv(opts.env)
  if (opts.custom !== undefined) normalizeCustom(opts.custom)
  checkSecurityOptions(opts)
  return profile
}

/** stdin defaults to true; tty defaults to stdin, so `stdin: false` alone is enough to switch both off. */
export function streams (opts: CommonOptions): { stdin: boolean, tty: boolean } {
  const stdin = opts.stdin ?? true
  return { stdin, tty: opts.tty ?? stdin }
}

/** kubectl: "--replace may only be used with --copy-to." and friends, for bodies a schema let through. */
export function rejectFields (opts: object, fields: readonly string[], why: string): void {
  for (const field of fields) {
    if ((opts as Record<string, unknown>)[field] !== undefined) throw new SpecError(field, `${field} ${why}`)
  }
}

export const COPY_ONLY_FIELDS = ['name', 'sameNode', 'shareProcesses', 'replace', 'setImage', 'keep'] as const

function checkEnv (env: EnvVar[] | undefined): void {
  env?.forEach((e, i) => {
    if (typeof e.name !== 'string' || e.name === '') throw new SpecError(`env[${i}].name`, 'env entries need a name')
    if (e.name.startsWith(RESERVED_ENV_PREFIX)) {
      throw new SpecError(`env[${i}].name`, `env names starting with ${RESERVED_ENV_PREFIX} are reserved for attribution`)
    }
  })
}

const CAPABILITY = /^[A-Z][A-Z0-9_]*$/

/**
 * `cap_net_admin`, `CAP_NET_ADMIN` and `NET_ADMIN` are the same capability to the runtime
 * (containerd upper-cases and prefixes CAP_); one spelling keeps policy matching honest.
 */
export function normalizeCapability (name: string): string {
  const upper = name.trim().toUpperCase()
  return upper.startsWith('CAP_') ? upper.slice(4) : upper
}

function checkSecurityOptions (opts: CommonOptions): void {
  for (const list of ['add', 'drop'] as const) {
    opts.capabilities?.[list]?.forEach((cap, i) => {
      if (typeof cap !== 'string' || !CAPABILITY.test(normalizeCapability(cap))) {
        throw new SpecError(`capabilities.${list}[${i}]`, `invalid capability name "${String(cap)}"`)
      }
    })
  }
  const uid = opts.runAsUser
  // pkg/apis/core/validation: runAsUser must be between 0 and 2147483647
  if (uid !== undefined && (!Number.isInteger(uid) || uid < 0 || uid > 2147483647)) {
    throw new SpecError('runAsUser', 'runAsUser must be an integer between 0 and 2147483647')
  }
}
