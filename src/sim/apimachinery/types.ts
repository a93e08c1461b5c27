// Shared shapes inside the simulated API server. Objects are kept as the wire
// JSON a real API server would return (camelCase, RFC 3339 timestamps), not as
// client-node class instances, so what the sim stores is exactly what it serves.

export interface ObjectMeta {
  name?: string
  generateName?: string
  namespace?: string
  uid?: string
  resourceVersion?: string
  generation?: number
  creationTimestamp?: string
  deletionTimestamp?: string
  deletionGracePeriodSeconds?: number
  labels?: Record<string, string>
  annotations?: Record<string, string>
  ownerReferences?: unknown[]
  finalizers?: string[]
  managedFields?: unknown[]
  [key: string]: unknown
}

/** Any Kubernetes object as JSON. */
export interface KObject {
  apiVersion?: string
  kind?: string
  metadata: ObjectMeta
  [key: string]: unknown
}

/** The authenticated user, as TokenReview / the authenticator chain returns it. */
export interface UserInfo {
  username: string
  uid?: string
  groups: string[]
  extra?: Record<string, string[]>
}

/** authorization.k8s.io/v1 ResourceAttributes (the fields the sim evaluates). */
export interface ResourceAttributes {
  namespace?: string
  verb: string
  group?: string
  version?: string
  resource: string
  subresource?: string
  name?: string
}

export interface NonResourceAttributes {
  path: string
  verb: string
}

export interface AuthorizationDecision {
  allowed: boolean
  /** Why, in the words the RBAC authorizer uses (`RBAC: allowed by ClusterRoleBinding ...`). */
  reason: string
}

/** metav1.Status as JSON. */
export interface StatusCause {
  reason?: string
  message?: string
  field?: string
}

export interface Status {
  kind: 'Status'
  apiVersion: 'v1'
  metadata: Record<string, unknown>
  status: 'Failure' | 'Success'
  message?: string
  reason?: string
  details?: {
    name?: string
    group?: string
    kind?: string
    uid?: string
    causes?: StatusCause[]
    retryAfterSeconds?: number
  }
  code: number
}
