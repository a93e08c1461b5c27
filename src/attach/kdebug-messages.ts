// The kdebug.v1 attach protocol's JSON control messages (text frames), as
// schemas: the AsyncAPI document (openapi/asyncapi.yaml) is generated from
// them, so portals can generate types for the socket as for the HTTP API.
// Binary frames carry raw stdin (client → gateway) and stdout, plus stderr
// unless `stderrText` (gateway → client). Semantics: openapi/attach.md.
import { Type, type Static } from '@sinclair/typebox'

const Size = Type.Integer({ minimum: 1, maximum: 65535 })

export const ResizeMessageSchema = Type.Object({
  type: Type.Literal('resize'),
  cols: Size,
  rows: Size
}, { $id: 'KdebugResize', description: 'Terminal size; applies to sessions with a TTY.' })

export const CloseStdinMessageSchema = Type.Object({
  type: Type.Literal('close-stdin')
}, { $id: 'KdebugCloseStdin', description: 'stdin EOF. With a v4.channel.k8s.io API server the answer is an `error` with status 501 and the session goes on.' })

export const ReadyMessageSchema = Type.Object({
  type: Type.Literal('ready')
}, { $id: 'KdebugReady', description: 'Attached; the first message of every session.' })

export const StderrMessageSchema = Type.Object({
  type: Type.Literal('stderr'),
  data: Type.String({ description: 'UTF-8 text.' })
}, { $id: 'KdebugStderr', description: 'stderr as text, with `stderrText=true` (else stderr is binary, like stdout).' })

export const ExitMessageSchema = Type.Object({
  type: Type.Literal('exit'),
  code: Type.Integer({ description: 'The process\'s exit code (from the pod status: attach itself reports none).' })
}, { $id: 'KdebugExit', description: 'The process exited; the gateway closes with 1000 next.' })

export const DetachedMessageSchema = Type.Object({
  type: Type.Literal('detached')
}, { $id: 'KdebugDetached', description: 'The stream ended but the container still runs; close 1000 next.' })

export const ErrorMessageSchema = Type.Object({
  type: Type.Literal('error'),
  status: Type.Integer({ description: 'HTTP-like status: 400/501 a refused control message (the session goes on), 408 a limit (before 4000/4001), 502 the upstream vanished, else the API server Status code (then close 1011).' }),
  message: Type.String(),
  reason: Type.Optional(Type.String({ description: 'The API server Status reason, when it sent one.' }))
}, { $id: 'KdebugError' })

/** Text frames a client sends. */
export const KDEBUG_CLIENT_MESSAGES = [ResizeMessageSchema, CloseStdinMessageSchema]
/** Text frames the gateway sends. */
export const KDEBUG_SERVER_MESSAGES = [ReadyMessageSchema, StderrMessageSchema, ExitMessageSchema, DetachedMessageSchema, ErrorMessageSchema]

export type KdebugServerMessage = Static<typeof ReadyMessageSchema> | Static<typeof StderrMessageSchema> | Static<typeof ExitMessageSchema> |
  Static<typeof DetachedMessageSchema> | Static<typeof ErrorMessageSchema>
