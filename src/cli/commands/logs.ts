// kdebug logs POD -c CONTAINER: a container's output through the gateway (kubectl logs).
import type { Command } from '../command.ts'
import { bool, str } from '../command.ts'
import { parseCount, parseSeconds } from '../args.ts'
import { UsageError } from '../errors.ts'
import { EXIT } from '../exit-codes.ts'

export const logsCommand: Command = {
  spec: {
    name: 'logs',
    summary: 'Print a container\'s output (-f to follow)',
    usage: 'logs POD -c CONTAINER [-f] [--tail N] [--since D] [--timestamps]',
    options: {
      container: { type: 'string', short: 'c', value: 'NAME', description: 'Container (required).' },
      follow: { type: 'boolean', short: 'f', description: 'Keep streaming until the container exits.' },
      tail: { type: 'string', value: 'N', description: 'Only the last N lines.' },
      since: { type: 'string', value: 'DURATION', description: 'Only output newer than this, e.g. 10m.' },
      timestamps: { type: 'boolean', description: 'Prefix each line with its time.' },
      'limit-bytes': { type: 'string', value: 'N', description: 'At most N bytes.' }
    },
    positionals: { names: ['POD'], min: 1 },
    examples: [
      'kdebug logs web -n demo -c debugger-abcde',
      'kdebug logs web -n demo -c debugger-abcde -f --since 5m'
    ]
  },
  run: async (ctx) => {
    const pod = ctx.args.positionals[0] as string
    const container = str(ctx, 'container')
    if (!container) throw new UsageError('-c CONTAINER is required', 'logs')
    const tail = str(ctx, 'tail')
    const since = str(ctx, 'since')
    const limit = str(ctx, 'limit-bytes')
    const ns = await ctx.namespace()
    const client = await ctx.client()
    const res = await client.request('GET', `/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(pod)}/containers/${encodeURIComponent(container)}/logs`, {
      query: {
        follow: bool(ctx, 'follow') || undefined,
        tailLines: tail === undefined ? undefined : parseCount(tail, 'tail'),
        sinceSeconds: since === undefined ? undefined : parseSeconds(since, 'since'),
        timestamps: bool(ctx, 'timestamps') || undefined,
        limitBytes: limit === undefined ? undefined : parseCount(limit, 'limit-bytes')
      }
    })
    if (res.body) {
      for await (const chunk of res.body) {
        if (!ctx.io.stdout.write(chunk)) await new Promise(resolve => ctx.io.stdout.once('drain', resolve))
      }
    }
    return EXIT.ok
  }
}
