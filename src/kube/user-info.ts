// Kubernetes' user information, as the API server's authentication hands it
// to authorization and impersonation (k8s.io/apiserver/pkg/authentication/user
// user.go DefaultInfo) and as SubjectAccessReview checks resources
// (k8s.io/api/authorization/v1 ResourceAttributes). The gateway's auth builds
// on these; the cluster clients send them.

/** The group the API server adds to every authenticated user (user.AllAuthenticated). */
export const ALL_AUTHENTICATED = 'system:authenticated'

export interface Principal {
  user: string
  uid?: string
  groups: string[]
  extra?: Record<string, string[]>
}

/** Kubernetes resource attributes as checked by SubjectAccessReview. */
export interface ResourceAttributes {
  verb: string
  group?: string
  version?: string
  resource: string
  subresource?: string
  namespace?: string
  name?: string
}
