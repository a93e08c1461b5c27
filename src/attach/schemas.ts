// The attach route's parameters (validation, types and the hand-written openapi/attach.md).
import { Type, type Static } from '@sinclair/typebox'
import { TicketParam } from '../schemas/stream.ts'
import { Names } from '../schemas/names.ts'

export const AttachParamsSchema = Type.Object({
  namespace: Names.namespace(),
  pod: Names.pod()
})
export type AttachParams = Static<typeof AttachParamsSchema>

const Size = Type.Integer({ minimum: 1, maximum: 65535 })
export const AttachQuerySchema = Type.Object({
  container: Type.Optional(Names.container('Container to attach to (required when the pod has several).')),
  stdin: Type.Boolean({ default: true, description: 'Send input to the container (it must have stdin: true).' }),
  tty: Type.Boolean({ default: false, description: 'A hint only: the container spec decides whether the session has a TTY (stderr merged into stdout, resize applies), as the kubelet does.' }),
  stderr: Type.Optional(Type.Boolean({ description: 'Receive stderr (default: true without tty).' })),
  stderrText: Type.Boolean({ default: false, description: 'kdebug.v1: stderr as {"type":"stderr","data":…} text frames instead of binary frames.' }),
  wait: Type.Optional(Type.Integer({ minimum: 0, maximum: 60, description: 'Seconds to wait for the container to be running before attaching (0 = refuse at once with 409 when it is not).' })),
  cols: Type.Optional(Size),
  rows: Type.Optional(Size),
  ticket: TicketParam
}, { additionalProperties: false })
export type AttachQuery = Static<typeof AttachQuerySchema>
