// Who the gateway is on the wire. Every request to the API server carries
// `User-Agent: kdebug-gateway/<version>` (the API server's audit log records
// it; client-go sends `<binary>/<version> (<os>/<arch>) kubernetes/<commit>`,
// rest.DefaultKubernetesUserAgent), and every write names its field manager:
// without `fieldManager` the API server derives it from the User-Agent's
// first segment (apiserver endpoints/handlers/rest.go managerOrUserAgent,
// prefixFromUserAgent), and with neither managedFields show `manager: ""`.
import { readFileSync } from 'node:fs'

function packageVersion (): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown }
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0'
  } catch {
    return '0.0.0'
  }
}

export const GATEWAY_VERSION = packageVersion()
export const USER_AGENT = `kdebug-gateway/${GATEWAY_VERSION}`
/** The `fieldManager` of every create/update/patch the gateway sends. */
export const FIELD_MANAGER = 'kdebug-gateway'

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH'])

/** Adds `fieldManager` to the query of a write (create, update, patch), unless the caller set one. */
export function withFieldManager (method: string, query: URLSearchParams | undefined): URLSearchParams | undefined {
  if (!WRITE_METHODS.has(method.toUpperCase())) return query
  const q = new URLSearchParams(query)
  if (!q.has('fieldManager')) q.set('fieldManager', FIELD_MANAGER)
  return q
}
