// What the API server's handlers share: its components (storage, authentication,
// authorization, the kubelet's pods and processes, faults) and settings, and the
// request being served.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { TokenAuthenticator } from '../auth/authn.ts'
import type { RbacAuthorizer } from '../auth/rbac.ts'
import type { Store } from '../storage/store.ts'
import type { PodLifecycle } from '../kubelet/lifecycle.ts'
import type { ProcessTable } from '../kubelet/process.ts'
import type { StreamTimers } from '../kubelet/attach.ts'
import type { FaultController } from './faults.ts'
import type { UserInfo } from '../apimachinery/types.ts'
import type { RequestInfo } from './request-info.ts'

export interface ServerContext {
  store: Store
  authn: TokenAuthenticator
  rbac: RbacAuthorizer
  lifecycle: PodLifecycle
  processes: ProcessTable
  faults: FaultController
  watchTimeoutMs: number
  bookmarkIntervalMs: number
  /** Requests the sim does not serve (method + path), for finding what clients need. */
  unknownRequests: string[]
  /** User-Agent headers seen per authenticated user (before impersonation), as the API server's audit log shows them. */
  userAgents: Map<string, Set<string>>
  /** The 1.30+ stream translator terminates v5 WebSockets (false: a pre-1.30 server, v4 and older only). */
  streamTranslator: boolean
  /** Attach streams end after this long without data (kubelet --streaming-connection-idle-timeout); 0 = never. */
  streamIdleTimeoutMs: number
  /** Timers of that deadline (default real; tests step them). */
  streamTimers?: StreamTimers
  log: (msg: string) => void
}

/** A resource request that passed authentication, impersonation and authorization. */
export interface ResourceRequest {
  ctx: ServerContext
  req: IncomingMessage
  res: ServerResponse
  url: URL
  info: RequestInfo
  user: UserInfo
  watchClosers: Set<() => void>
}
