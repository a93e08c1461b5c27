// Connection to the Kubernetes API server: the KubeConfig (file, context or
// in-cluster) that every client of the API server is built from, so tests can
// point it at the sim. All calls go through transport.ts (pooled keep-alive
// connections, the gateway's User-Agent); client-node provides the KubeConfig
// (loading rules, credentials, exec plugins) and the types, not the HTTP calls.
import { existsSync } from 'node:fs'
import { KubeConfig } from '@kubernetes/client-node'
import { toProblem } from './errors.ts'
import { NoClusterError, openKubeRequest, readJson } from './transport.ts'
import { Problems } from '../errors.ts'

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
  return kc
}

/** Bounds the readiness probe's call (the probe caches its answer briefly). */
const PING_TIMEOUT_MS = 5_000

export class Cluster {
  readonly kubeConfig: KubeConfig

  constructor (kubeConfig: KubeConfig) {
    this.kubeConfig = kubeConfig
  }

  get server (): string {
    return this.kubeConfig.getCurrentCluster()?.server ?? ''
  }

  /** Readiness probe: the API server answers /version. Resolves with the git version, rejects with a ProblemError. */
  async ping (): Promise<string> {
    try {
      const res = await openKubeRequest(this.kubeConfig, '/version', { signal: AbortSignal.timeout(PING_TIMEOUT_MS), idleMs: PING_TIMEOUT_MS })
      const info = await readJson<{ gitVersion?: unknown }>(res)
      if (typeof info.gitVersion !== 'string') throw Problems.badGateway('The Kubernetes API server answered /version without a gitVersion.')
      return info.gitVersion
    } catch (err) {
      if (err instanceof NoClusterError) throw Problems.upstreamUnavailable(err.message)
      throw toProblem(err)
    }
  }
}
