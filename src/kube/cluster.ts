// Connection to the Kubernetes API server: the KubeConfig (file, context or
// in-cluster), and the typed API clients built from it. Everything that talks
// to the API server gets its client from here, so tests can point it at the sim.
import { existsSync } from 'node:fs'
import { KubeConfig, CoreV1Api, VersionApi, AuthenticationV1Api, AuthorizationV1Api } from '@kubernetes/client-node'
import { toProblem } from './errors.ts'
import { useGatewayUserAgent } from './user-agent.ts'

const IN_CLUSTER_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token'

export interface KubeConnectionOptions {
  /** kubeconfig file; unset = in-cluster when running in a pod, else the default loading rules. */
  kubeconfig?: string
  /** kubeconfig YAML text (tests and the demo hand over the sim's). */
  kubeconfigText?: string
  context?: string
  /** Environment used by the default loading rules ($KUBECONFIG, $HOME). */
  env?: Record<string, string | undefined>
}

export function loadKubeConfig (opts: KubeConnectionOptions): KubeConfig {
  const kc = new KubeConfig()
  if (opts.kubeconfigText) kc.loadFromString(opts.kubeconfigText)
  else if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig)
  else if (opts.env?.KUBERNETES_SERVICE_HOST && existsSync(IN_CLUSTER_TOKEN)) kc.loadFromCluster()
  else kc.loadFromDefault()
  if (opts.context) kc.setCurrentContext(opts.context)
  if (!kc.getCurrentCluster()) throw new Error('kubeconfig has no current cluster')
  return useGatewayUserAgent(kc)
}

export class Cluster {
  readonly kubeConfig: KubeConfig
  readonly core: CoreV1Api
  readonly authentication: AuthenticationV1Api
  readonly authorization: AuthorizationV1Api
  private readonly version: VersionApi

  constructor (kubeConfig: KubeConfig) {
    this.kubeConfig = useGatewayUserAgent(kubeConfig)
    this.core = kubeConfig.makeApiClient(CoreV1Api)
    this.authentication = kubeConfig.makeApiClient(AuthenticationV1Api)
    this.authorization = kubeConfig.makeApiClient(AuthorizationV1Api)
    this.version = kubeConfig.makeApiClient(VersionApi)
  }

  get server (): string {
    return this.kubeConfig.getCurrentCluster()?.server ?? ''
  }

  /** Readiness probe: the API server answers /version. Resolves with the git version, rejects with a ProblemError. */
  async ping (): Promise<string> {
    try {
      const info = await this.version.getCode()
      return info.gitVersion
    } catch (err) {
      throw toProblem(err)
    }
  }
}
