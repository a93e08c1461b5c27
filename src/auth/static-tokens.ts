// A tokens file for small setups and demos. Entries may hold the SHA-256 of a
// token instead of the token, so the file itself holds no secret. Lookups hash
// the presented token and compare against every entry in constant time.
import { readFileSync } from 'node:fs'
import { createHash, timingSafeEqual } from 'node:crypto'
import { parse as parseYaml } from 'yaml'
import { withAuthenticatedGroup, type Authenticator } from './authenticator.ts'
import type { Principal } from './identity.ts'

export interface StaticTokenEntry {
  /** The token itself (dev only) … */
  token?: string
  /** … or its SHA-256 as 64 hex digits (`printf %s "$TOKEN" | sha256sum`). */
  tokenSha256?: string
  user: string
  uid?: string
  groups?: string[]
}

export interface CompiledStaticToken {
  digest: Buffer
  principal: Principal
}

function isStringArray (v: unknown): v is string[] {
  return Array.isArray(v) && v.every(x => typeof x === 'string')
}

/** Validates entries; errors name the entry by index and user, never by token. */
export function compileStaticTokens (entries: unknown, source = 'static tokens'): CompiledStaticToken[] {
  const list = Array.isArray(entries) ? entries : (entries as { tokens?: unknown } | null)?.tokens
  if (!Array.isArray(list)) throw new Error(`${source}: expected a list of entries (or {tokens: [...]})`)
  const seen = new Set<string>()
  return list.map((raw: unknown, i) => {
    const where = `${source}: entry ${i}`
    if (typeof raw !== 'object' || raw === null) throw new Error(`${where}: must be an object`)
    const e = raw as Record<string, unknown>
    if (typeof e.user !== 'string' || e.user === '') throw new Error(`${where}: "user" must be a non-empty string`)
    const hasToken = typeof e.token === 'string' && e.token !== ''
    const hasHash = typeof e.tokenSha256 === 'string'
    if (hasToken === hasHash) throw new Error(`${where} (${e.user}): give exactly one of "token" or "tokenSha256"`)
    if (hasHash && !/^[0-9a-fA-F]{64}$/.test(e.tokenSha256 as string)) throw new Error(`${where} (${e.user}): "tokenSha256" must be 64 hex digits`)
    if (e.groups !== undefined && !isStringArray(e.groups)) throw new Error(`${where} (${e.user}): "groups" must be a list of strings`)
    if (e.uid !== undefined && typeof e.uid !== 'string') throw new Error(`${where} (${e.user}): "uid" must be a string`)
    const digest = hasHash
      ? Buffer.from(e.tokenSha256 as string, 'hex')
      : createHash('sha256').update(e.token as string).digest()
    const key = digest.toString('hex')
    if (seen.has(key)) throw new Error(`${where} (${e.user}): the same token appears twice`)
    seen.add(key)
    const principal: Principal = { user: e.user, groups: withAuthenticatedGroup((e.groups as string[] | undefined) ?? []) }
    if (e.uid) principal.uid = e.uid
    return { digest, principal }
  })
}

export function loadStaticTokensFile (file: string): CompiledStaticToken[] {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new Error(`static tokens file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'cannot be read'}`)
  }
  let parsed: unknown
  try {
    parsed = parseYaml(text) // JSON is YAML too
  } catch {
    // The parser's message may quote a line of the file, i.e. a token.
    throw new Error(`static tokens file ${file}: not valid YAML or JSON`)
  }
  return compileStaticTokens(parsed, `static tokens file ${file}`)
}

export class StaticTokenAuthenticator implements Authenticator {
  readonly method = 'static' as const
  private readonly entries: CompiledStaticToken[]

  constructor (entries: StaticTokenEntry[] | CompiledStaticToken[]) {
    this.entries = entries.length > 0 && 'digest' in (entries[0] as object)
      ? entries as CompiledStaticToken[]
      : compileStaticTokens(entries)
  }

  static fromFile (file: string): StaticTokenAuthenticator {
    return new StaticTokenAuthenticator(loadStaticTokensFile(file))
  }

  async authenticate (token: string): Promise<Principal | undefined> {
    const digest = createHash('sha256').update(token).digest()
    let found: Principal | undefined
    // No early exit: the time taken does not depend on which entry matched.
    for (const e of this.entries) {
      if (timingSafeEqual(e.digest, digest) && !found) found = e.principal
    }
    return found ? structuredClone(found) : undefined
  }
}
