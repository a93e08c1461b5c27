// The Kubernetes permissions each gateway action needs, exactly as the API
// server would check them if the caller ran the kubectl equivalent
// (plugin/pkg/auth/authorizer/rbac and kubectl's requests). One table, used by every route and by /v1/whoami.
import type { ResourceAttributes } from './identity.ts'

export type GatewayAction = 'ephemeral' | 'copy' | 'node' | 'attach' | 'logs' | 'drops' | 'sessions.delete' | 'pods.list'

export interface ActionTarget {
  namespace?: string
  pod?: string
  node?: string
}

export function permissionsFor (action: GatewayAction, t: ActionTarget): ResourceAttributes[] {
  const ns = t.namespace
  switch (action) {
    case 'ephemeral':
      return [
        { verb: 'get', resource: 'pods', namespace: ns, name: t.pod },
        { verb: 'patch', resource: 'pods', subresource: 'ephemeralcontainers', namespace: ns, name: t.pod }
      ]
    case 'copy':
      return [
        { verb: 'get', resource: 'pods', namespace: ns, name: t.pod },
        { verb: 'create', resource: 'pods', namespace: ns }
      ]
    case 'node':
      return [
        { verb: 'get', resource: 'nodes', name: t.node },
        { verb: 'create', resource: 'pods', namespace: ns }
      ]
    case 'attach':
      // WebSocket attach is a GET: `get pods/attach`, plus `create` since the
      // 1.35 AuthorizePodWebsocketUpgradeCreatePermission gate.
      return [
        { verb: 'get', resource: 'pods', subresource: 'attach', namespace: ns, name: t.pod },
        { verb: 'create', resource: 'pods', subresource: 'attach', namespace: ns, name: t.pod }
      ]
    case 'logs':
      return [{ verb: 'get', resource: 'pods', subresource: 'log', namespace: ns, name: t.pod }]
    case 'drops':
      return [
        { verb: 'list', resource: 'events', namespace: ns },
        { verb: 'watch', resource: 'events', namespace: ns }
      ]
    case 'sessions.delete':
      return [{ verb: 'delete', resource: 'pods', namespace: ns, name: t.pod }]
    case 'pods.list':
      return [{ verb: 'list', resource: 'pods', namespace: ns }]
  }
}

/** The actions /v1/whoami reports in its `can` map, for a namespace. */
export const WHOAMI_ACTIONS: readonly GatewayAction[] = ['ephemeral', 'copy', 'node', 'attach', 'logs', 'drops']
