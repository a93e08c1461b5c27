// Every name the gateway puts into an API server URL goes through here.
// Percent-encoding alone is no defence: `..` and `.` survive
// encodeURIComponent unchanged and are resolved as path steps (by URL
// normalisation on the way or by the server's router), so the gateway's own
// credentials would call another API path. Routes validate names first (see
// src/schemas/names.ts); this is the second line, and it fails closed.
// Upstream: k8s.io/apimachinery/pkg/api/validation/path/name.go
// (ValidatePathSegmentName, IsValidPathSegmentName).
import { Problems } from '../errors.ts'
import { isDns1123Label, isDns1123Subdomain } from '../schemas/names.ts'

export type NameKind = 'namespace' | 'pod' | 'node' | 'container'

/** IsValidPathSegmentName: never `.`/`..`, never a `/` or `%`. */
export function isValidPathSegmentName (name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('%')
}

function validName (kind: NameKind, name: string): boolean {
  if (!isValidPathSegmentName(name)) return false
  return kind === 'namespace' || kind === 'container' ? isDns1123Label(name) : isDns1123Subdomain(name)
}

/** The encoded path segment for a name; a 400 problem (no upstream call) when it is not a valid name of its kind. */
export function nameSegment (kind: NameKind, name: string): string {
  if (typeof name !== 'string' || !validName(kind, name)) {
    throw Problems.validation(`Invalid ${kind} name.`, { errors: [{ field: kind, message: `not a valid ${kind} name` }] })
  }
  return encodeURIComponent(name)
}

/** Same check for a name sent as a query parameter (e.g. `?container=`). */
export function checkName (kind: NameKind, name: string): string {
  nameSegment(kind, name)
  return name
}
