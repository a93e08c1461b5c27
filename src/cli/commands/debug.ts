// kdebug debug POD: an ephemeral debug container in a running pod (kubectl debug POD --image …).
import type { Command } from '../command.ts'
import { str } from '../command.ts'
import { commonBody, createAndRun, CREATE_OPTIONS, runMode } from '../session-run.ts'

export const debugCommand: Command = {
  spec: {
    name: 'debug',
    summary: 'Add an ephemeral debug container to a running pod',
    usage: 'debug POD --image IMAGE [--target CONTAINER] [--profile P] [--cap CAP]… [--reason TEXT] [--ttl D] [-it] [-- COMMAND…]',
    description: 'Like kubectl debug POD, through the gateway: RBAC and policy are checked and the session audited.\n' +
      'With -it: a terminal in the new container (Ctrl-D ends the shell; the exit code is the container\'s).\n' +
      'With -- COMMAND and no -i: runs COMMAND once, prints its output and exits with its exit code.\n' +
      'Otherwise: prints the new session.',
    options: {
      ...CREATE_OPTIONS,
      target: { type: 'string', value: 'CONTAINER', description: 'Share the process namespace of this container.' }
    },
    positionals: { names: ['POD'], min: 1 },
    command: true,
    examples: [
      'kdebug debug web -n demo --image busybox --target app --reason "strace the app" -it',
      'kdebug debug web -n demo --image nicolaka/netshoot --profile netadmin --reason "connections" -- ss -tanp',
      'kdebug debug web -n demo --image busybox --cap SYS_PTRACE --reason "inspect" --ttl 30m'
    ]
  },
  run: async (ctx) => {
    const pod = ctx.args.positionals[0] as string
    const mode = runMode(ctx)
    const body = commonBody(ctx, mode)
    const target = str(ctx, 'target')
    if (target) body.target = target
    const ns = await ctx.namespace()
    return await createAndRun(ctx, `/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(pod)}/ephemeral-containers`, body, mode)
  }
}
