// kdebug end ID: ends a session (deletes its copy or node pod; ephemeral containers cannot be removed).
import type { Command } from '../command.ts'
import { println } from '../command.ts'
import { EXIT } from '../exit-codes.ts'

export const endCommand: Command = {
  spec: {
    name: 'end',
    summary: 'End a session: delete its copy or node pod',
    usage: 'end ID',
    description: 'Ephemeral containers cannot be removed from a pod (Kubernetes has no API for it): the gateway answers 409 and the container stays until it exits or its expiry wrapper ends it.',
    options: {},
    positionals: { names: ['ID'], min: 1 },
    examples: ['kdebug end 01jf3k2m -n demo']
  },
  run: async (ctx) => {
    const id = ctx.args.positionals[0] as string
    const client = await ctx.client()
    const s = await client.json<{ id: string, kind: string, namespace: string, pod: string, state: string }>('DELETE', `/v1/sessions/${encodeURIComponent(id)}`, { query: { namespace: ctx.explicitNamespace() } })
    println(ctx.io.stdout, `session ${s.id} ended: ${s.kind} pod ${s.namespace}/${s.pod} ${s.state}`)
    return EXIT.ok
  }
}
