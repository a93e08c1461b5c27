// Errors the CLI reports as one line on stderr plus an exit code. Text that
// comes from the server is stripped of control characters first: a hostile or
// broken gateway must not be able to drive the user's terminal.
import { EXIT, exitCodeForStatus } from './exit-codes.ts'

export class CliError extends Error {
  readonly exitCode: number
  constructor (message: string, exitCode: number = EXIT.failed) {
    super(message)
    this.name = 'CliError'
    this.exitCode = exitCode
  }
}

/** Bad flags or arguments; `command` points the help hint at the right page. */
export class UsageError extends CliError {
  readonly command: string | undefined
  constructor (message: string, command?: string) {
    super(message, EXIT.usage)
    this.name = 'UsageError'
    this.command = command
  }
}

/** An application/problem+json answer (RFC 9457) as the gateway sends it. */
export interface ProblemBody {
  title?: unknown
  status?: unknown
  detail?: unknown
  requestId?: unknown
  rule?: unknown
  field?: unknown
  permission?: unknown
  budget?: unknown
  kubernetesReason?: unknown
  errors?: unknown
}

export class ProblemError extends CliError {
  readonly status: number
  readonly problem: ProblemBody
  constructor (status: number, problem: ProblemBody) {
    super(problemLine(status, problem), exitCodeForStatus(status))
    this.name = 'ProblemError'
    this.status = status
    this.problem = problem
  }
}

// C0 controls (keeping none: the line is one line), DEL and C1 controls.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]+/g

/** Server-supplied text made safe for a terminal: no escape sequences, no line breaks. */
export function sanitize (text: string): string {
  return text.replace(CONTROL, ' ').replace(/ {2,}/g, ' ').trim()
}

function str (v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? sanitize(v) : undefined
}

/**
 * One line: `Forbidden (403): <detail> [rule developers, field capabilities, permission create pods/ephemeralcontainers, request 0b6f…]`.
 * The title and detail say what happened; the bracket says what to ask for.
 */
export function problemLine (status: number, p: ProblemBody): string {
  const title = str(p.title) ?? `HTTP ${status}`
  const detail = str(p.detail)
  const facts: string[] = []
  const rule = str(p.rule)
  if (rule) facts.push(`rule ${rule}`)
  const field = str(p.field)
  if (field) facts.push(`field ${field}`)
  const permission = str(p.permission)
  if (permission) facts.push(`permission ${permission}`)
  const budget = str(p.budget)
  if (budget) facts.push(`budget ${budget}`)
  if (Array.isArray(p.errors)) {
    const fields = p.errors
      .map(e => (typeof e === 'object' && e !== null ? str((e as { field?: unknown }).field) : undefined))
      .filter((f): f is string => f !== undefined && f !== field)
    if (fields.length > 0) facts.push(`fields ${fields.slice(0, 5).join(', ')}${fields.length > 5 ? ', …' : ''}`)
  }
  const requestId = str(p.requestId)
  if (requestId) facts.push(`request ${requestId}`)
  return `${title} (${status})${detail && detail !== title ? `: ${detail}` : ''}${facts.length > 0 ? ` [${facts.join('; ')}]` : ''}`
}
