import { Type, type Static } from '@sinclair/typebox'

export const FieldProblemSchema = Type.Object({
  field: Type.String({ description: 'Where the problem is, e.g. `/body/capabilities/add/0`.' }),
  message: Type.String()
})

/** RFC 9457 problem details, as every error response of the gateway. */
export const ProblemSchema = Type.Object({
  type: Type.String({ format: 'uri', description: 'Stable identifier of the problem kind.' }),
  title: Type.String(),
  status: Type.Integer(),
  detail: Type.String(),
  requestId: Type.String({ description: 'The x-request-id of the request.' }),
  errors: Type.Optional(Type.Array(FieldProblemSchema)),
  kubernetesReason: Type.Optional(Type.String({ description: 'The Kubernetes Status reason when the API server refused.' })),
  permission: Type.Optional(Type.String({ description: 'The missing Kubernetes permission (403).' })),
  rule: Type.Optional(Type.String({ description: 'The policy rule that denied (403).' }))
}, { $id: 'Problem', additionalProperties: true })

export type Problem = Static<typeof ProblemSchema>

/** `$ref` to the shared problem schema, for route `response` maps. */
export const ProblemRef = Type.Ref(ProblemSchema)

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request (the field is named in `errors[]`)',
  401: 'Missing or invalid bearer token',
  403: 'Forbidden by Kubernetes RBAC (the missing `permission` is named) or by policy (the `rule` is named)',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict',
  410: 'Gone',
  413: 'Request body too large',
  415: 'Unsupported media type',
  422: 'Rejected by Kubernetes validation (`errors[]` carries the causes)',
  429: 'Too many requests or sessions (see Retry-After)',
  500: 'Internal error (no details are exposed)',
  502: 'Unexpected answer from the Kubernetes API server',
  503: 'Kubernetes API server or audit log unavailable (see Retry-After)',
  504: 'Kubernetes API server timeout'
}

export interface ProblemResponse {
  description: string
  content: { 'application/problem+json': { schema: typeof ProblemRef } }
}

/** Problem responses for route `response` maps: the common ones plus `codes`. */
export function problemResponses (...codes: number[]): Record<number, ProblemResponse> {
  const out: Record<number, ProblemResponse> = {}
  for (const c of [400, 401, 403, 500, 503, ...codes].sort((a, b) => a - b)) {
    out[c] = { description: PROBLEM_DESCRIPTIONS[c] ?? 'Error', content: { 'application/problem+json': { schema: ProblemRef } } }
  }
  return out
}
