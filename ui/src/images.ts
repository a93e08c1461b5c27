// Which images the debug dialog offers and accepts: the policy's own
// normalisation and pattern matcher (src/policy/image-ref.ts), so the form
// agrees with what the gateway decides. The gateway still decides.
import { compileImagePattern, normalizeImage } from '../../src/policy/image-ref.ts'

export type ImageCheck = { ok: true, canonical: string } | { ok: false, message: string }

/** Is `image` allowed by one of the rule's patterns? */
export function checkImage (image: string, patterns: readonly string[]): ImageCheck {
  const canonical = normalizeImage(image.trim())
  if (canonical === null) return { ok: false, message: `"${image}" is not a valid image reference` }
  for (const p of patterns) {
    let match: (c: string) => boolean
    try { match = compileImagePattern(p) } catch { continue }
    if (match(canonical)) return { ok: true, canonical }
  }
  return { ok: false, message: patterns.length === 0 ? 'no image is allowed here' : `${canonical} matches none of the allowed patterns` }
}

/**
 * Concrete images to suggest for tag patterns: `docker.io/library/busybox:*` →
 * `busybox:latest`, `docker.io/nicolaka/netshoot:*` → `nicolaka/netshoot:latest`.
 * Digest and catch-all patterns suggest nothing (a digest cannot be guessed).
 */
export function suggestImages (patterns: readonly string[]): string[] {
  const out: string[] = []
  for (const p of patterns) {
    const m = /^(.+):\*$/.exec(p.trim())
    if (!m || /[*?@]/.test(m[1] as string)) continue
    const short = (m[1] as string).replace(/^docker\.io\/library\//, '').replace(/^docker\.io\//, '')
    const image = `${short}:latest`
    if (!out.includes(image)) out.push(image)
  }
  return out
}

/** The repositories a rule allows, short: `docker.io/library/busybox:*` and `…@sha256:*` → `busybox`. */
export function allowedRepositories (patterns: readonly string[]): string[] {
  const out: string[] = []
  for (const p of patterns) {
    const repo = p.trim().replace(/(@sha256)?:\*$/, '').replace(/^docker\.io\/library\//, '').replace(/^docker\.io\//, '')
    if (!out.includes(repo)) out.push(repo)
  }
  return out
}
