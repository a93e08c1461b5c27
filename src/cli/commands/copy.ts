// kdebug copy POD: a debug copy of a pod (kubectl debug POD --copy-to …).
import type { Command } from '../command.ts'
import { bool, list, str } from '../command.ts'
import { parsePairs } from '../args.ts'
import { commonBody, createAndRun, CREATE_OPTIONS, runMode } from '../session-run.ts'

export const copyCommand: Command = {
  spec: {
    name: 'copy',
    summary: 'Create a debug copy of a pod (shared process namespace, a debug container)',
    usage: 'copy POD --image IMAGE [--copy-to NAME] [--set-image C=IMAGE]… [--same-node] [--replace] [-it] [-- COMMAND…]',
    description: 'Like kubectl debug POD --copy-to, through the gateway. The copy is deleted when its TTL ends or with "kdebug end".',
    options: {
      ...CREATE_OPTIONS,
      'copy-to': { type: 'string', value: 'NAME', description: 'Name of the copy (default POD-debug-xxxxx).' },
      'share-processes': { type: 'boolean', description: 'Share one process namespace (default; --no-share-processes to turn off).' },
      'same-node': { type: 'boolean', description: 'Schedule the copy on the original pod\'s node.' },
      replace: { type: 'boolean', description: 'Delete the original pod once the copy exists (needs delete pods).' },
      'set-image': { type: 'string', multiple: true, value: 'C=IMAGE', description: 'Change a container\'s image in the copy (* = all; repeatable).' }
    },
    positionals: { names: ['POD'], min: 1 },
    command: true,
    examples: [
      'kdebug copy api -n demo --image busybox --reason "inspect /proc" --ttl 15m -it',
      'kdebug copy api -n demo --image busybox --set-image app=busybox --reason "crash loop" -- sh -c "ls /"'
    ]
  },
  run: async (ctx) => {
    const pod = ctx.args.positionals[0] as string
    const mode = runMode(ctx)
    const body = commonBody(ctx, mode)
    const name = str(ctx, 'copy-to')
    if (name) body.name = name
    const share = ctx.args.values['share-processes']
    if (typeof share === 'boolean') body.shareProcesses = share
    if (bool(ctx, 'same-node')) body.sameNode = true
    if (bool(ctx, 'replace')) body.replace = true
    const images = parsePairs(list(ctx, 'set-image'), 'set-image')
    if (images.length > 0) body.setImage = Object.fromEntries(images)
    const ns = await ctx.namespace()
    return await createAndRun(ctx, `/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(pod)}/copies`, body, mode)
  }
}
