// What of an error goes into the log: its type, code, message and stack — the
// stack is what makes a 5xx debuggable — with the care secrets need.
// @kubernetes/client-node's ApiException message embeds the response headers
// and body (client-node src/gen/apis/exception.ts), and the stack's first
// line repeats the message, so for those only the HTTP code is kept. Other
// messages pass through the audit redactor's credential masking. Causes are
// followed a few levels (Problems wrap the error that caused them).
import { redactSecrets } from '../audit/redact.ts'

export interface LoggedError {
  /** `name`, not `type`: pino's err serializer sets its own `type` from the constructor. */
  name: string
  message: string
  stack: string
  code?: string | number
  cause?: LoggedError
}

const MAX_CAUSES = 4

function isApiException (err: Error): boolean {
  return err.name === 'ApiException' || err.constructor?.name === 'ApiException'
}

/** The stack frames without the first line (which repeats the message). */
function frames (stack: string | undefined): string {
  if (!stack) return ''
  const lines = stack.split('\n')
  const first = lines.findIndex(l => /^\s+at /.test(l))
  return first === -1 ? '' : lines.slice(first).join('\n')
}

export function loggableError (err: unknown, depth = 0): LoggedError {
  if (!(err instanceof Error)) return { name: typeof err, message: redactSecrets(String(err)).slice(0, 1024), stack: '' }
  const api = isApiException(err)
  const code = (err as { code?: unknown }).code
  const message = api ? `HTTP-Code: ${String(code)}` : redactSecrets(err.message)
  const out: LoggedError = { name: err.name, message, stack: `${err.name}: ${message}\n${frames(err.stack)}` }
  if (typeof code === 'string' || typeof code === 'number') out.code = code
  if (err.cause !== undefined && depth < MAX_CAUSES) out.cause = loggableError(err.cause, depth + 1)
  return out
}
