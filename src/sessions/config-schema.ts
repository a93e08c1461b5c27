// Debug sessions (config key `sessions`), embedded by src/config.ts: where node
// debug pods go, default TTL, the reaper's interval and the per-user leases.
import { Type, type Static } from '@sinclair/typebox'

export const SessionsConfigSchema = Type.Object({
  nodeDebugNamespace: Type.String({ default: 'kdebug', description: 'Namespace for node debug pods when the request names none.' }),
  defaultTtlSeconds: Type.Integer({ minimum: 60, default: 3600, description: 'TTL of a debug session when the request names none (policy may cap it).' }),
  reaperIntervalSeconds: Type.Integer({ minimum: 1, default: 30, description: 'How often each replica deletes expired copies and node pods.' }),
  userLeaseNamespace: Type.Union([Type.String({ minLength: 1, maxLength: 63 }), Type.Null()], { default: 'kdebug', description: 'Namespace of the per-user coordination.k8s.io Leases that serialize one user\'s creates across replicas (so the session limit holds); the gateway needs get/create/update/delete leases there (deploy/lease-role.yaml). null: only per replica (a single replica).' }),
  userLeaseSeconds: Type.Integer({ minimum: 5, maximum: 600, default: 60, description: 'Lifetime of a per-user lease a crashed replica left behind; must exceed the longest count+create (audit write + one API call: kube.requestTimeoutMs).' })
}, { additionalProperties: false, default: {} })
export type SessionsConfig = Static<typeof SessionsConfigSchema>
