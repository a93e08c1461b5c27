// The upstream half of a log stream: GET pods/{pod}/log on the API server,
// through the one API-server transport (src/kube/transport.ts). Refusals
// (404 pod, 400 container …) are problems before the first byte.
import type { IncomingMessage } from 'node:http'
import type { KubeConfig } from '@kubernetes/client-node'
import { Problems } from '../errors.ts'
import { toProblem } from '../kube/errors.ts'
import { checkName, nameSegment } from '../kube/path-segment.ts'
import { failureOf, NoClusterError, openKubeRequest, type HeaderValues } from '../kube/transport.ts'
import type { LogsQuery } from './schemas.ts'

export interface LogTarget { namespace: string, pod: string, container: string }

/** `/api/v1/namespaces/NS/pods/POD/log` and its query (kubectl logs' flags; false ones omitted). */
export function logPath (t: LogTarget, q: Omit<LogsQuery, 'ticket'>): { path: string, query: URLSearchParams } {
  const query = new URLSearchParams({ container: checkName('container', t.container) })
  if (q.follow) query.set('follow', 'true')
  if (q.tailLines !== undefined) query.set('tailLines', String(q.tailLines))
  if (q.sinceSeconds !== undefined) query.set('sinceSeconds', String(q.sinceSeconds))
  if (q.timestamps) query.set('timestamps', 'true')
  if (q.limitBytes !== undefined) query.set('limitBytes', String(q.limitBytes))
  return { path: `/api/v1/namespaces/${nameSegment('namespace', t.namespace)}/pods/${nameSegment('pod', t.pod)}/log`, query }
}

/**
 * The upstream log stream once it answered 200; its refusals as problems. No timeout: a followed
 * log may stay quiet for hours, and the kubelet sends even the response head only with the first
 * output (kubernetes pkg/kubelet/server/server.go getContainerLogs writes through a flushwriter).
 * The client leaving ends it.
 */
export async function openLog (kubeConfig: KubeConfig, t: LogTarget, q: Omit<LogsQuery, 'ticket'>, o: { headers?: HeaderValues } = {}): Promise<IncomingMessage> {
  const { path, query } = logPath(t, q)
  let res: IncomingMessage
  try {
    res = await openKubeRequest(kubeConfig, path, { query, headers: { accept: 'text/plain, */*', ...o.headers }, idleMs: 0 })
  } catch (err) {
    if (err instanceof NoClusterError) throw Problems.internal('No Kubernetes API server is configured.')
    throw toProblem(err)
  }
  if (res.statusCode !== 200) throw await failureOf(res)
  return res
}
