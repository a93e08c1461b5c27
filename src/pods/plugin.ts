// The pod picker feature. Register with prefix /v1; needs the auth plugin's
// authorizer and app.cluster (decorated by buildApp).
import type { FastifyInstance } from 'fastify'
import { kubeDebugClient, type PodPager } from '../kube/debug-client.ts'
import type { VerifyFn } from '../sessions/found.ts'
import { podRoutes } from './routes.ts'
import { PodService } from './service.ts'
import { PODS_SHARED_SCHEMAS } from './schemas.ts'

export interface PodsPluginOptions {
  /** Verifies the gateway's signed session metadata (the app's one signer). */
  verify: VerifyFn
  impersonate: boolean
  requestTimeoutMs: number
  /** Default: the raw REST client on app.cluster's kubeconfig. */
  pager?: PodPager
  clock?: () => number
}

export async function podsPlugin (app: FastifyInstance, opts: PodsPluginOptions): Promise<void> {
  const pods = new PodService({
    pager: opts.pager ?? kubeDebugClient(app.cluster.kubeConfig, { requestTimeoutMs: opts.requestTimeoutMs }),
    authorizer: app.authorizer,
    verify: opts.verify,
    impersonate: opts.impersonate,
    ...(opts.clock ? { clock: opts.clock } : {})
  })
  for (const schema of PODS_SHARED_SCHEMAS) app.addSchema(schema)
  await app.register(podRoutes, { pods })
}
