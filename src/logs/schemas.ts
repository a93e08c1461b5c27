// The log route's parameters (validation, types and OpenAPI).
import { Type, type Static } from '@sinclair/typebox'
import { TicketParam } from '../schemas/stream.ts'
import { Names } from '../schemas/names.ts'

export const LogsParamsSchema = Type.Object({
  namespace: Names.namespace(),
  pod: Names.pod(),
  container: Names.container()
})
export type LogsParams = Static<typeof LogsParamsSchema>

export const LogsQuerySchema = Type.Object({
  follow: Type.Boolean({ default: false, description: 'Keep streaming new output until the container exits or the client leaves.' }),
  tailLines: Type.Optional(Type.Integer({ minimum: 0, description: 'Only the last N lines of the existing output.' })),
  sinceSeconds: Type.Optional(Type.Integer({ minimum: 1, description: 'Only output newer than this many seconds.' })),
  timestamps: Type.Boolean({ default: false, description: 'Prefix each line with its RFC 3339 time.' }),
  limitBytes: Type.Optional(Type.Integer({ minimum: 1, description: 'Stop after this many bytes.' })),
  ticket: TicketParam
}, { additionalProperties: false })
export type LogsQuery = Static<typeof LogsQuerySchema>
