// Debug sessions (config key `sessions`), embedded by src/config.ts: where node
// debug pods go, default TTL, the reaper's interval and the per-user leases.
import { Type, type Static } from '@sinclair/typebox'

export const SessionsConfigSchema = Type.Object({
  nodeDebugNamespace: Type.String({ default: 'kdebug', description: 'Namespace for node debug pods when the request names none.' }),
  defaultTtlSeconds: Type.Integer({ minimum: 60, default: 3600, description: 'TTL of a debug session when the request names none (policy may cap it).' }),
  reaperIntervalSeconds: Type.Integer({ minimum: 1, default: 30, description: 'How often each replica deletes expired copies and node pods.' }),
  userLeaseNamespace: Type.Union([Type.String({ minLength: 1, maxLength: 63 }), Type.Null()], { default: 'kdebug', description: 'Namespace of the per-user coordination.k8s.io Leases holding each user\'s signed session ledger, which every replica reserves creates in (so the session limit holds across replicas); the gateway needs get/list/watch/create/update leases there (deploy/lease-role.yaml; each replica watches the ledgers so another replica\'s write reaches its cache). null: the ledgers live in the process (a single replica).' }),
  userLeaseSeconds: Type.Integer({ minimum: 5, maximum: 600, default: 60, description: 'How long a reservation in a user\'s session ledger that the cluster does not show yet is kept when the ledger is rebuilt (its create may be in flight); a create must be sent within half of it. Must exceed the longest create (audit write + one API call: kube.requestTimeoutMs).' })
}, { additionalProperties: false, default: {} })
export type SessionsConfig = Static<typeof SessionsConfigSchema>
