// Container image references, normalised the way Docker (distribution/
// reference) does, and the image patterns policy rules are written in.
//
// Normalisation: `busybox` ≡ `docker.io/library/busybox:latest`;
// `nicolaka/netshoot` ≡ `docker.io/nicolaka/netshoot:latest`;
// `index.docker.io/…` ≡ `docker.io/…`. The first path component is a
// registry only if it has a `.` or `:` or is `localhost` (or has upper case).
// A reference with a digest is identified by its digest alone
// (`docker.io/library/busybox@sha256:…`): that is what the runtime pulls, and
// the tag next to it is ignored by the runtime, so it is ignored here too.
//
// Patterns:
// - no wildcard: a reference, normalised the same way and compared exactly —
//   `busybox` allows only `busybox:latest`; `busybox@sha256:<hex>` one digest;
// - with `*` (any characters but `/`), `**` (any characters) or `?` (one
//   character but `/`): matched against the normalised reference; familiar
//   names are expanded first, so `busybox:*` means `docker.io/library/busybox:*`
//   (every tag, no digest) and `docker.io/library/busybox@sha256:*` every
//   digest. `*` or `**` alone allows every image, `**@sha256:*` every image
//   pinned by digest. A pattern starting with a wildcard is not expanded.

const DEFAULT_DOMAIN = 'docker.io'
const LEGACY_DOMAIN = 'index.docker.io'
const OFFICIAL_PREFIX = 'library/'

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/
const DOMAIN = /^(?:localhost|(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$/
const TAG = /^[\w][\w.-]{0,127}$/
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/
const SHA256 = /^sha256:[0-9a-f]{64}$/

export interface ImageRef {
  /** Registry host, e.g. `docker.io`. */
  domain: string
  /** Repository path, e.g. `library/busybox`. */
  path: string
  /** Tag; `latest` when the reference had neither tag nor digest. */
  tag?: string
  digest?: string
}

function splitDomain (name: string): { domain: string, path: string } {
  const i = name.indexOf('/')
  const first = i < 0 ? '' : name.slice(0, i)
  let domain: string
  let rest: string
  if (i < 0 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN
    rest = name
  } else {
    domain = first
    rest = name.slice(i + 1)
  }
  if (domain === LEGACY_DOMAIN) domain = DEFAULT_DOMAIN
  if (domain === DEFAULT_DOMAIN && !rest.includes('/')) rest = OFFICIAL_PREFIX + rest
  return { domain, path: rest }
}

/** Parses and normalises a reference; null when it is not a valid image reference. */
export function parseImageRef (ref: string): ImageRef | null {
  if (ref.length === 0 || ref.length > 512 || ref.trim() !== ref) return null
  let rest = ref
  let digest: string | undefined
  const at = rest.indexOf('@')
  if (at >= 0) {
    digest = rest.slice(at + 1)
    rest = rest.slice(0, at)
    if (!DIGEST.test(digest)) return null
    if (digest.startsWith('sha256:') && !SHA256.test(digest)) return null
  }
  let tag: string | undefined
  const colon = rest.lastIndexOf(':')
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1)
    rest = rest.slice(0, colon)
    if (!TAG.test(tag)) return null
  }
  const { domain, path } = splitDomain(rest)
  if (!DOMAIN.test(domain)) return null
  if (path.length === 0 || domain.length + 1 + path.length > 255) return null
  if (!path.split('/').every((c) => PATH_COMPONENT.test(c))) return null
  if (tag === undefined && digest === undefined) tag = 'latest'
  const out: ImageRef = { domain, path }
  if (tag !== undefined) out.tag = tag
  if (digest !== undefined) out.digest = digest
  return out
}

/** The identity used for matching: `domain/path@digest` when pinned, else `domain/path:tag`. */
export function canonicalImage (ref: ImageRef): string {
  const name = `${ref.domain}/${ref.path}`
  return ref.digest !== undefined ? `${name}@${ref.digest}` : `${name}:${ref.tag ?? 'latest'}`
}

/** `busybox` → `docker.io/library/busybox:latest`; null when invalid. */
export function normalizeImage (ref: string): string | null {
  const parsed = parseImageRef(ref)
  return parsed ? canonicalImage(parsed) : null
}

export type ImageMatcher = (canonical: string) => boolean

const GLOB_CHARS = /[*?]/

function globToRegExp (glob: string): RegExp {
  let src = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string
    if (c === '*' && glob[i + 1] === '*') {
      src += '.*'
      i++
    } else if (c === '*') {
      src += '[^/]*'
    } else if (c === '?') {
      src += '[^/]'
    } else {
      src += c.replace(/[.+^${}()|[\]\\]/g, '\\$&')
    }
  }
  return new RegExp(`^${src}$`)
}

/** Expands a familiar-name glob (`busybox:*` → `docker.io/library/busybox:*`). */
export function expandImagePattern (pattern: string): string {
  if (GLOB_CHARS.test(pattern[0] ?? '')) return pattern
  const slash = pattern.indexOf('/')
  if (slash < 0) return `${DEFAULT_DOMAIN}/${OFFICIAL_PREFIX}${pattern}`
  const first = pattern.slice(0, slash)
  if (GLOB_CHARS.test(first)) return pattern
  if (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first) return `${DEFAULT_DOMAIN}/${pattern}`
  const domain = first === LEGACY_DOMAIN ? DEFAULT_DOMAIN : first
  const rest = pattern.slice(slash + 1)
  // `docker.io/busybox:*` is an official image, but `docker.io/**` stays a wildcard over all of Docker Hub.
  const repo = rest.split(/[:@]/)[0] ?? ''
  if (domain === DEFAULT_DOMAIN && !rest.includes('/') && !GLOB_CHARS.test(repo)) return `${domain}/${OFFICIAL_PREFIX}${rest}`
  return `${domain}/${rest}`
}

/** Compiles one policy image pattern; throws with a reason when it can never match. */
export function compileImagePattern (pattern: string): ImageMatcher {
  const p = pattern.trim()
  if (p === '*' || p === '**') return () => true
  if (!GLOB_CHARS.test(p)) {
    const ref = parseImageRef(p)
    if (!ref) throw new Error(`"${pattern}" is not a valid image reference`)
    const want = canonicalImage(ref)
    return (canonical) => canonical === want
  }
  const re = globToRegExp(expandImagePattern(p))
  return (canonical) => re.test(canonical)
}
