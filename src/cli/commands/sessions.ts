// kdebug sessions [ID]: debug sessions the gateway created, as a table, JSON or YAML.
import type { Command } from '../command.ts'
import { bool, str } from '../command.ts'
import { oneOf } from '../args.ts'
import { UsageError } from '../errors.ts'
import { EXIT } from '../exit-codes.ts'
import { age, formatData, OUTPUT_FORMATS, remaining, table } from '../output.ts'

export interface SessionView {
  id: string
  kind: string
  namespace: string
  pod: string
  container?: string
  node?: string
  state: string
  requestedBy: string
  verified: boolean
  delegatedBy?: string
  createdAt?: string
  expiresAt?: string
}

/** The sessions table (pure): NAMESPACE only when several namespaces are shown. */
export function sessionsTable (items: SessionView[], now: number, withNamespace: boolean): string {
  const headers = ['id', ...(withNamespace ? ['namespace'] : []), 'kind', 'pod', 'container', 'state', 'requested-by', 'age', 'expires-in']
  return table(headers, items.map(s => [
    s.id,
    ...(withNamespace ? [s.namespace] : []),
    s.kind,
    s.pod,
    s.container,
    s.state,
    s.verified ? s.requestedBy + (s.delegatedBy ? ` (via ${s.delegatedBy})` : '') : '<unverified>',
    age(s.createdAt, now),
    remaining(s.expiresAt, now)
  ]))
}

export const sessionsCommand: Command = {
  spec: {
    name: 'sessions',
    summary: 'List debug sessions (or show one by id)',
    usage: 'sessions [ID] [-A] [--mine] [-o table|json|yaml]',
    options: {
      'all-namespaces': { type: 'boolean', short: 'A', description: 'Sessions in every namespace where you may list pods.' },
      mine: { type: 'boolean', description: 'Only sessions you requested.' },
      output: { type: 'string', short: 'o', value: 'FORMAT', description: 'table (default), json or yaml.' }
    },
    positionals: { names: ['ID'], min: 0 },
    examples: [
      'kdebug sessions -n demo',
      'kdebug sessions -A --mine -o json',
      'kdebug sessions 01jf3k2m -n demo -o yaml'
    ]
  },
  run: async (ctx) => {
    const format = oneOf(str(ctx, 'output') ?? 'table', OUTPUT_FORMATS, 'output')
    const all = bool(ctx, 'all-namespaces')
    if (all && ctx.explicitNamespace()) throw new UsageError('-A and -n exclude each other', 'sessions')
    const client = await ctx.client()
    const id = ctx.args.positionals[0]
    if (id !== undefined) {
      const ns = ctx.explicitNamespace()
      const one = await client.json<SessionView>('GET', `/v1/sessions/${encodeURIComponent(id)}`, { query: { namespace: ns } })
      ctx.io.stdout.write(format === 'table' ? sessionsTable([one], ctx.now(), true) : formatData(one, format))
      return EXIT.ok
    }
    const ns = all ? undefined : await ctx.namespace()
    const list = await client.json<{ items: SessionView[] }>('GET', '/v1/sessions', { query: { namespace: ns, mine: bool(ctx, 'mine') || undefined } })
    if (format !== 'table') ctx.io.stdout.write(formatData(list, format))
    else if (list.items.length === 0) ctx.io.stderr.write(all ? 'No sessions found.\n' : `No sessions found in ${ns ?? ''} namespace.\n`)
    else ctx.io.stdout.write(sessionsTable(list.items, ctx.now(), all))
    return EXIT.ok
  }
}
