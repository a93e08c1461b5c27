// The Impersonate-* headers of a request the gateway makes as someone else,
// exactly as client-go's impersonating round tripper sends them
// (k8s.io/client-go/transport/round_trippers.go impersonatingRoundTripper).
import { ALL_AUTHENTICATED, type Principal } from './user-info.ts'

// RFC 9110 token characters, as client-go's transport (legalHeaderKeyBytes).
const TCHAR = /^[!#$&'*+\-.^_`|~0-9A-Za-z]$/

/** client-go's headerKeyEscape: %-encode bytes not allowed in a header name, and '%' itself. */
export function headerKeyEscape (key: string): string {
  let out = ''
  for (const b of Buffer.from(key, 'utf8')) {
    const c = String.fromCharCode(b)
    out += b < 0x80 && TCHAR.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

/**
 * Impersonate-* headers that make the API server see `who` (authorization mode
 * `impersonate`), as [name, value] pairs: repeated names must go out as separate
 * header lines — fetch's Headers would join them into one comma-separated line,
 * which the API server reads as ONE group. system:authenticated is left out
 * because the API server adds it itself.
 */
export function impersonationHeadersFor (who: Principal): Array<[string, string]> {
  const out: Array<[string, string]> = [['Impersonate-User', who.user]]
  if (who.uid) out.push(['Impersonate-Uid', who.uid])
  for (const g of who.groups) if (g !== ALL_AUTHENTICATED) out.push(['Impersonate-Group', g])
  for (const [k, vs] of Object.entries(who.extra ?? {})) {
    for (const v of vs) out.push([`Impersonate-Extra-${headerKeyEscape(k)}`, v])
  }
  return out
}
