// kdebug node NODE: a node debug pod (kubectl debug node/NODE), host filesystem at /host.
import type { Command } from '../command.ts'
import { commonBody, createAndRun, CREATE_OPTIONS, runMode } from '../session-run.ts'

export const nodeCommand: Command = {
  spec: {
    name: 'node',
    summary: 'Start a debug pod on a node (host filesystem at /host)',
    usage: 'node NODE --image IMAGE [--profile P] [--reason TEXT] [-it] [-- COMMAND…]',
    description: 'Like kubectl debug node/NODE, through the gateway. The pod runs in the gateway\'s node debug namespace unless -n is given.',
    options: { ...CREATE_OPTIONS },
    positionals: { names: ['NODE'], min: 1 },
    command: true,
    examples: [
      'kdebug node node-1 --image busybox --profile sysadmin --reason "kubelet disk" -it',
      'kdebug node node-1 --image busybox --reason "disk usage" -- df -h /host'
    ]
  },
  run: async (ctx) => {
    const node = ctx.args.positionals[0] as string
    const mode = runMode(ctx)
    const body = commonBody(ctx, mode)
    // Only an explicit -n: the kubeconfig's namespace has nothing to do with where node pods go.
    const ns = ctx.explicitNamespace()
    if (ns) body.namespace = ns
    return await createAndRun(ctx, `/v1/nodes/${encodeURIComponent(node)}/debug-pods`, body, mode)
  }
}
