// The review APIs (authentication.k8s.io TokenReview, SelfSubjectReview;
// authorization.k8s.io SubjectAccessReview, SelfSubjectAccessReview,
// SelfSubjectRulesReview): create-only, answered from the request body.
import type { KObject } from '../../apimachinery/types.ts'
import type { ResourceRequest } from '../context.ts'
import { badRequest, methodNotSupported } from '../../apimachinery/status.ts'
import { PROTOBUF_CONTENT_TYPE } from '../../apimachinery/protobuf.ts'
import { reviewSelfSubjectAccess, reviewSelfSubjectRules, reviewSubjectAccess, reviewToken } from '../../auth/reviews.ts'
import { decodeObject, mediaType, readBody, sendJSON } from '../http-util.ts'

export async function handleReview (r: ResourceRequest): Promise<boolean> {
  const { info } = r
  const known = (info.apiGroup === 'authentication.k8s.io' && (info.resource === 'tokenreviews' || info.resource === 'selfsubjectreviews')) ||
    (info.apiGroup === 'authorization.k8s.io' && (info.resource === 'subjectaccessreviews' || info.resource === 'selfsubjectaccessreviews' || info.resource === 'selfsubjectrulesreviews'))
  if (!known || info.apiVersion !== 'v1' || info.namespace || info.parts.length > 1) return false
  if (info.verb !== 'create') throw methodNotSupported(info.resource, info.verb)
  const raw = await readBody(r.req)
  if (info.resource === 'selfsubjectreviews') {
    // `kubectl auth whoami`: the review has no spec; the answer is the requester as authenticated (after impersonation)
    if (mediaType(r.req) === PROTOBUF_CONTENT_TYPE) {
      if (!raw.subarray(0, 4).equals(Buffer.from('k8s\0', 'latin1'))) throw badRequest('provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]')
    } else {
      decodeObject(r.req, raw)
    }
    const userInfo: Record<string, unknown> = { username: r.user.username }
    if (r.user.uid) userInfo.uid = r.user.uid
    userInfo.groups = r.user.groups
    if (r.user.extra && Object.keys(r.user.extra).length) userInfo.extra = r.user.extra
    sendJSON(r.res, 201, { kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1', metadata: { creationTimestamp: null }, status: { userInfo } })
    return true
  }
  const body = decodeObject(r.req, raw)
  let out: KObject
  if (info.resource === 'tokenreviews') out = reviewToken(body, r.ctx.authn)
  else if (info.resource === 'subjectaccessreviews') out = reviewSubjectAccess(body, r.ctx.rbac)
  else if (info.resource === 'selfsubjectrulesreviews') out = reviewSelfSubjectRules(body, r.user, r.ctx.rbac)
  else out = reviewSelfSubjectAccess(body, r.user, r.ctx.rbac)
  sendJSON(r.res, 201, out)
  return true
}
