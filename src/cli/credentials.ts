// Where the CLI connects and as whom: --server/KDEBUG_SERVER, --token/KDEBUG_TOKEN,
// else the current kubeconfig user through @kubernetes/client-node, so static
// tokens, OIDC auth-provider tokens and exec plugins (aws, gke-gcloud-auth-plugin,
// kubelogin …) give the gateway's TokenReview the same identity kubectl has.
import type { RequestOptions } from 'node:https'
import type { KubeConfig, User } from '@kubernetes/client-node'
import { CliError, UsageError } from './errors.ts'
import { EXIT } from './exit-codes.ts'

export interface Connection {
  server: URL
  /** Authorization and Impersonate-* headers. Never printed. */
  headers: Record<string, string | string[]>
}

export interface ConnectionFlags {
  server?: string
  token?: string
  kubeconfig?: string
  context?: string
  as?: string
  asGroups?: string[]
}

export type Env = Record<string, string | undefined>

/**
 * The kubeconfig, loaded once, only when a token or namespace has to come from
 * it. client-node is imported then too: it is most of the CLI's start-up time.
 */
export class KubeconfigSource {
  readonly #flags: ConnectionFlags
  #kc: KubeConfig | undefined
  constructor (flags: ConnectionFlags) { this.#flags = flags }

  async load (): Promise<KubeConfig> {
    if (this.#kc) return this.#kc
    const { KubeConfig } = await import('@kubernetes/client-node')
    const kc = new KubeConfig()
    try {
      if (this.#flags.kubeconfig) kc.loadFromFile(this.#flags.kubeconfig)
      else kc.loadFromDefault()
    } catch (err) {
      throw new CliError(`cannot read the kubeconfig: ${(err as Error).message}`, EXIT.unauthenticated)
    }
    if (this.#flags.context) {
      if (!kc.getContextObject(this.#flags.context)) throw new UsageError(`no context "${this.#flags.context}" in the kubeconfig`)
      kc.setCurrentContext(this.#flags.context)
    }
    this.#kc = kc
    return kc
  }

  /** The current context's namespace, else `default` (as kubectl); a missing kubeconfig is no error here. */
  async namespace (): Promise<string> {
    try {
      const kc = await this.load()
      return kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default'
    } catch (err) {
      if (err instanceof UsageError) throw err
      return 'default'
    }
  }

  /** The bearer token kubectl would send: client-node's authenticators run exec plugins and refresh tokens. */
  async bearerToken (): Promise<string> {
    const kc = await this.load()
    const user = kc.getCurrentUser()
    if (!user) throw new CliError('no credentials: pass --token, set KDEBUG_TOKEN or use a kubeconfig with a current user', EXIT.unauthenticated)
    const opts: RequestOptions = {}
    try {
      await (await userOnly(user)).applyToHTTPSOptions(opts)
    } catch (err) {
      throw new CliError(`kubeconfig user "${user.name}": getting credentials failed: ${(err as Error).message}`, EXIT.unauthenticated)
    }
    const header = (opts.headers as Record<string, unknown> | undefined)?.Authorization
    const match = typeof header === 'string' ? /^Bearer (\S+)$/.exec(header) : null
    if (!match?.[1]) {
      // Client certificates and basic auth prove nothing to the gateway's TokenReview.
      throw new CliError(`kubeconfig user "${user.name}" has no bearer token (client certificates cannot be passed on): pass --token or set KDEBUG_TOKEN`, EXIT.unauthenticated)
    }
    return match[1]
  }
}

/**
 * The user alone, paired with a placeholder cluster: the gateway is not the
 * kubeconfig's cluster, so that cluster's TLS settings (or its plain-http URL,
 * which client-node refuses) must not matter — only the user's credentials do.
 */
async function userOnly (user: User): Promise<KubeConfig> {
  const { KubeConfig } = await import('@kubernetes/client-node')
  const kc = new KubeConfig()
  kc.loadFromClusterAndUser({ name: 'kdebug-gateway', server: 'https://kdebug-gateway.invalid', skipTLSVerify: false }, user)
  return kc
}

/** The gateway URL, checked: http(s) only, no credentials or query in it. */
export function gatewayUrl (flags: ConnectionFlags, env: Env): URL {
  const text = flags.server ?? env.KDEBUG_SERVER
  if (!text) throw new UsageError('no gateway: pass --server URL or set KDEBUG_SERVER')
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new UsageError(`--server: "${text}" is not a URL`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError('--server must be an http:// or https:// URL')
  if (url.username || url.password) throw new UsageError('--server must not carry credentials: use --token')
  url.search = ''
  url.hash = ''
  if (!url.pathname.endsWith('/')) url.pathname += '/'
  return url
}

export async function resolveConnection (flags: ConnectionFlags, env: Env, kubeconfig: KubeconfigSource): Promise<Connection> {
  const server = gatewayUrl(flags, env)
  const token = flags.token ?? (env.KDEBUG_TOKEN || undefined) ?? await kubeconfig.bearerToken()
  const headers: Record<string, string | string[]> = { authorization: `Bearer ${token}` }
  if (flags.as) headers['impersonate-user'] = flags.as
  if (flags.asGroups && flags.asGroups.length > 0) {
    if (!flags.as) throw new UsageError('--as-group needs --as')
    headers['impersonate-group'] = flags.asGroups
  }
  return { server, headers }
}
