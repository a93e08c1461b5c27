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

/** The error responses every authenticated route can give. */
export function problemResponses (...codes: number[]): Record<number, typeof ProblemRef> {
  const out: Record<number, typeof ProblemRef> = {}
  for (const c of [400, 401, 403, 500, 503, ...codes]) out[c] = ProblemRef
  return out
}
