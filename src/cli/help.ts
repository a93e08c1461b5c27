// Help text, kubectl style: what the command does, examples, its flags, the global flags.
import { GLOBAL_OPTIONS, type CommandSpec, type OptionSpecs } from './args.ts'
import { EXIT } from './exit-codes.ts'

function flagLines (specs: OptionSpecs): string[] {
  const rows = Object.entries(specs).map(([name, s]) => {
    const short = s.short ? `-${s.short}, ` : '    '
    const value = s.type === 'string' ? ` ${s.value ?? 'VALUE'}` : ''
    return [`  ${short}--${name}${value}${s.multiple ? ' (repeatable)' : ''}`, s.description] as const
  })
  const width = Math.max(...rows.map(r => r[0].length)) + 2
  return rows.map(([left, text]) => left.padEnd(width) + text)
}

export function commandHelp (program: string, spec: CommandSpec): string {
  const lines = [spec.summary, '']
  if (spec.description) lines.push(spec.description, '')
  lines.push('Usage:', `  ${program} ${spec.usage}`, '')
  if (spec.examples.length > 0) lines.push('Examples:', ...spec.examples.map(e => `  ${e.replaceAll('kdebug ', `${program} `)}`), '')
  if (Object.keys(spec.options).length > 0) lines.push('Options:', ...flagLines(spec.options), '')
  lines.push('Global options:', ...flagLines(GLOBAL_OPTIONS))
  return lines.join('\n') + '\n'
}

export function mainHelp (program: string, commands: readonly CommandSpec[]): string {
  const width = Math.max(...commands.map(c => c.name.length)) + 3
  return [
    'kdebug: Kubernetes debugging through the kdebug gateway (every action checked by RBAC and policy, and audited).',
    '',
    'Usage:',
    `  ${program} COMMAND [options]`,
    '',
    'Commands:',
    ...commands.map(c => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'Global options:',
    ...flagLines(GLOBAL_OPTIONS),
    '    --version             Print the version.',
    '',
    'Exit codes:',
    `  ${EXIT.ok} success; commands that run a process exit with its exit code`,
    `  ${EXIT.failed} the gateway refused the request (400, 404, 409, 410, 422, 429) or a session ended abnormally`,
    `  ${EXIT.usage} bad flags or arguments, no --server`,
    `  ${EXIT.unauthenticated} not authenticated (401, or no credentials)`,
    `  ${EXIT.forbidden} forbidden (403: RBAC permission or policy rule, named on stderr)`,
    `  ${EXIT.unavailable} gateway or cluster unavailable (5xx, connection failed)`,
    '',
    `Use "${program} COMMAND --help" for a command's options.`
  ].join('\n') + '\n'
}
