// A KubeConfig for a test's own HTTP server: one cluster (TLS checks off, so
// http:// is accepted), one user with a bearer token (or none).
import { KubeConfig } from '@kubernetes/client-node'

export function kubeConfigFor (server: string, token?: string): KubeConfig {
  const kc = new KubeConfig()
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, skipTLSVerify: true }],
    users: [token === undefined ? { name: 'u' } : { name: 'u', token }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x'
  })
  return kc
}
