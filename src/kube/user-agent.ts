// Who the gateway is on the wire. Every request to the API server carries
// `User-Agent: kdebug-gateway/<version>` (the API server's audit log records
// it; client-go sends `<binary>/<version> (<os>/<arch>) kubernetes/<commit>`,
// rest.DefaultKubernetesUserAgent), and every write names its field manager:
// without `fieldManager` the API server derives it from the User-Agent's
// first segment (apiserver endpoints/handlers/rest.go managerOrUserAgent,
// prefixFromUserAgent), and with neither managedFields show `manager: ""`.
import { readFileSync } from 'node:fs'
import { createConfiguration, ServerConfiguration, setHeaderMiddleware, type KubeConfig } from '@kubernetes/client-node'

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

const marked = new WeakSet<KubeConfig>()

/**
 * Makes client-node's generated API clients (CoreV1Api, VersionApi, the review APIs) send the
 * gateway's User-Agent. KubeConfig.makeApiClient installs a middleware that sets client-node's
 * own ("kubernetes-client-javascript/<version>") after authentication, so the clients are built
 * here the same way with the gateway's value instead.
 */
export function useGatewayUserAgent (kc: KubeConfig): KubeConfig {
  if (marked.has(kc)) return kc
  marked.add(kc)
  kc.makeApiClient = function <T> (ApiClient: new (config: ReturnType<typeof createConfiguration>) => T): T {
    const cluster = kc.getCurrentCluster()
    if (!cluster) throw new Error('No active cluster!')
    return new ApiClient(createConfiguration({
      baseServer: new ServerConfiguration(cluster.server, {}),
      authMethods: { default: kc },
      middleware: [setHeaderMiddleware('User-Agent', USER_AGENT)]
    }))
  } as KubeConfig['makeApiClient']
  return kc
}
