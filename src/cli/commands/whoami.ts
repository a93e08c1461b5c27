// kdebug whoami: the identity the gateway sees (after TokenReview and delegation) and, with -n, what it may do there.
import type { Command } from '../command.ts'
import { println, str } from '../command.ts'
import { oneOf } from '../args.ts'
import { EXIT } from '../exit-codes.ts'
import { formatData, OUTPUT_FORMATS, table } from '../output.ts'
import { sanitize } from '../errors.ts'

interface Whoami {
  user: string
  groups: string[]
  authenticatedBy: string
  delegated: boolean
  actor?: { user: string }
  namespace?: string
  can?: Record<string, boolean>
}

export const whoamiCommand: Command = {
  spec: {
    name: 'whoami',
    summary: 'Show who the gateway thinks you are (and with -n what you may do there)',
    usage: 'whoami [-n NS] [-o table|json|yaml]',
    options: {
      output: { type: 'string', short: 'o', value: 'FORMAT', description: 'table (default), json or yaml.' }
    },
    positionals: { names: [], min: 0 },
    examples: ['kdebug whoami', 'kdebug whoami -n demo', 'kubectl kdebug whoami -o json']
  },
  run: async (ctx) => {
    const format = oneOf(str(ctx, 'output') ?? 'table', OUTPUT_FORMATS, 'output')
    const client = await ctx.client()
    const me = await client.json<Whoami>('GET', '/v1/whoami', { query: { namespace: ctx.explicitNamespace() } })
    if (format !== 'table') {
      ctx.io.stdout.write(formatData(me, format))
      return EXIT.ok
    }
    const out = ctx.io.stdout
    println(out, `user:    ${sanitize(me.user)}`)
    println(out, `groups:  ${me.groups.map(sanitize).join(', ') || '<none>'}`)
    println(out, `via:     ${sanitize(me.authenticatedBy)}${me.actor ? ` (delegated by ${sanitize(me.actor.user)})` : ''}`)
    if (me.can) {
      println(out)
      out.write(table(['action', `allowed in ${me.namespace ?? ''}`], Object.entries(me.can).map(([a, ok]) => [a, ok ? 'yes' : 'no'])))
    }
    return EXIT.ok
  }
}
