// GET /v1/audit: reads the audit log back, for gateway admins. "Admin" is
// plain Kubernetes RBAC on a virtual resource: `list` on `auditlogs` in API
// group `kdebug.io` (RBAC does not require the resource to exist), so granting
// it is one ClusterRole, like any other permission.
//
// Each replica keeps its own chain, so an answer says which replica it comes
// from. With `replicas=all` the replica also asks its peers (the addresses of
// a headless Service) the same question with the caller's own credentials:
// every peer authenticates and authorizes the caller itself — there is no
// trusted side channel between replicas.
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { queryAuditLog } from './query.ts'
import type { AuditQuery } from './query.ts'
import { askPeers } from './peers.ts'
import type { AuditPeersConfig, PeerAnswer } from './peers.ts'
import { Problems } from '../errors.ts'
import { problemResponses } from '../schemas/problem.ts'
import { Names } from '../schemas/names.ts'
import type { ResourceAttributes } from '../auth/identity.ts'

export const AUDIT_READ_PERMISSION: ResourceAttributes = { verb: 'list', group: 'kdebug.io', resource: 'auditlogs' }

const Rfc3339 = Type.String({ format: 'date-time' })

export const AuditQuerySchema = Type.Object({
  afterSeq: Type.Optional(Type.Integer({ minimum: 0, description: 'Page forward: the oldest records after this seq (one replica\'s seq: not with replicas=all).' })),
  beforeSeq: Type.Optional(Type.Integer({ minimum: 1, description: 'Page backward: the newest records before this seq (default: the newest overall; not with replicas=all).' })),
  user: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'Effective user or delegating actor.' })),
  action: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'e.g. ephemeral.create, attach.start, reaper.delete' })),
  phase: Type.Optional(Type.Union([Type.Literal('request'), Type.Literal('outcome'), Type.Literal('denied'), Type.Literal('event')])),
  namespace: Type.Optional(Names.namespace('Records about this namespace.')),
  requestId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  session: Type.Optional(Type.String({ minLength: 1, maxLength: 63 })),
  since: Type.Optional(Rfc3339),
  until: Type.Optional(Rfc3339),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'Records per replica.' })),
  replicas: Type.Union([Type.Literal('self'), Type.Literal('all')], { default: 'self', description: 'self: this replica\'s log; all: also every peer behind audit.peers.service, each asked with your credentials.' })
}, { additionalProperties: false })

const ReplicaAnswerSchema = Type.Object({
  replica: Type.Optional(Type.String()),
  address: Type.Optional(Type.String()),
  ok: Type.Boolean(),
  records: Type.Optional(Type.Integer()),
  more: Type.Optional(Type.Boolean()),
  error: Type.Optional(Type.String({ description: 'Why this peer gave no answer (its status and problem title, or the connection error).' }))
})

export const AuditPageSchema = Type.Object({
  replica: Type.String({ description: 'The replica that answered: each replica keeps its own chain.' }),
  records: Type.Array(Type.Object({}, { additionalProperties: true, description: 'An audit record as written (see README: Audit); `replica` and `seq` identify it.' })),
  more: Type.Boolean({ description: 'More matches exist beyond this page in the paging direction (for any replica).' }),
  replicas: Type.Optional(Type.Array(ReplicaAnswerSchema, { description: 'With replicas=all: who answered, and who could not.' })),
  complete: Type.Optional(Type.Boolean({ description: 'With replicas=all: every peer answered.' }))
}, { $id: 'AuditPage' })

export interface AuditRouteOptions {
  file: string | null
  replica: string
  peers: AuditPeersConfig
}

export async function auditRoutes (fastify: FastifyInstance, opts: AuditRouteOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.addSchema(AuditPageSchema)
  app.get('/audit', {
    schema: {
      tags: ['identity'],
      operationId: 'queryAudit',
      summary: 'Query the audit log of this replica, or of all replicas (needs `list auditlogs.kdebug.io`)',
      querystring: AuditQuerySchema,
      response: { 200: Type.Ref(AuditPageSchema), ...problemResponses(400, 404) }
    }
  }, async (request) => {
    await app.authorize(request, [AUDIT_READ_PERMISSION])
    const { replicas, ...query } = request.query
    if (replicas === 'all') {
      if (opts.peers.service === null) throw Problems.badRequest('replicas=all needs audit.peers.service (the headless Service of the replicas); this replica answers for itself only.', { errors: [{ field: '/querystring/replicas', message: 'no peers configured' }] })
      if (query.afterSeq !== undefined || query.beforeSeq !== undefined) {
        throw Problems.badRequest('afterSeq and beforeSeq are one replica\'s seq; with replicas=all page by since/until.', { errors: [{ field: query.afterSeq !== undefined ? '/querystring/afterSeq' : '/querystring/beforeSeq', message: 'not with replicas=all' }] })
      }
    }
    const own = await ownPage(opts, query)
    if (replicas !== 'all') return { replica: opts.replica, ...own }
    const peers = await askPeers(opts.peers, opts.replica, request.raw.url ?? '/v1/audit', request.headers)
    const answers: PeerAnswer[] = [{ replica: opts.replica, ok: true, records: own.records.length, more: own.more }, ...peers.map(({ page: _p, ...a }) => a)]
    const records = [...own.records, ...peers.flatMap((p) => p.page?.records ?? [])]
    records.sort((a, b) => String(a.time).localeCompare(String(b.time)) || String(a.replica).localeCompare(String(b.replica)) || Number(a.seq) - Number(b.seq))
    return {
      replica: opts.replica,
      records,
      more: own.more || peers.some((p) => p.page?.more === true),
      replicas: answers,
      complete: peers.every((p) => p.ok)
    }
  })
}

async function ownPage (opts: AuditRouteOptions, query: AuditQuery): Promise<{ records: Array<Record<string, unknown>>, more: boolean }> {
  if (!opts.file) throw Problems.notFound('This replica writes no audit file (audit.file is null); read the audit stream where stdout is collected.')
  const page = await queryAuditLog(opts.file, query)
  return { records: page.records as unknown as Array<Record<string, unknown>>, more: page.more }
}
