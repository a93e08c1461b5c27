// GET /v1/audit: reads this replica's audit log back, for gateway admins.
// "Admin" is plain Kubernetes RBAC on a virtual resource: `list` on
// `auditlogs` in API group `kdebug.io` (RBAC does not require the resource to
// exist), so granting it is one ClusterRole, like any other permission.
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { queryAuditFile } from '../audit/query.ts'
import { Problems } from '../errors.ts'
import { problemResponses } from '../schemas/problem.ts'
import { Names } from '../schemas/names.ts'
import type { ResourceAttributes } from '../auth/identity.ts'

export const AUDIT_READ_PERMISSION: ResourceAttributes = { verb: 'list', group: 'kdebug.io', resource: 'auditlogs' }

const Rfc3339 = Type.String({ format: 'date-time' })

export const AuditQuerySchema = Type.Object({
  afterSeq: Type.Optional(Type.Integer({ minimum: 0, description: 'Page forward: the oldest records after this seq.' })),
  beforeSeq: Type.Optional(Type.Integer({ minimum: 1, description: 'Page backward: the newest records before this seq (default: the newest overall).' })),
  user: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'Effective user or delegating actor.' })),
  action: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'e.g. ephemeral.create, attach.start, reaper.delete' })),
  phase: Type.Optional(Type.Union([Type.Literal('request'), Type.Literal('outcome'), Type.Literal('denied'), Type.Literal('event')])),
  namespace: Type.Optional(Names.namespace('Records about this namespace.')),
  requestId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  session: Type.Optional(Type.String({ minLength: 1, maxLength: 63 })),
  since: Type.Optional(Rfc3339),
  until: Type.Optional(Rfc3339),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 }))
}, { additionalProperties: false })

export const AuditPageSchema = Type.Object({
  replica: Type.String({ description: 'The replica whose log this is: each replica keeps its own chain.' }),
  records: Type.Array(Type.Object({}, { additionalProperties: true, description: 'An audit record as written (see README: Audit).' })),
  more: Type.Boolean({ description: 'More matches exist beyond this page in the paging direction.' })
}, { $id: 'AuditPage' })

export interface AuditRouteOptions {
  file: string | null
  replica: string
}

export async function auditRoutes (fastify: FastifyInstance, opts: AuditRouteOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.addSchema(AuditPageSchema)
  app.get('/audit', {
    schema: {
      tags: ['identity'],
      summary: 'Query this replica\'s audit log (needs `list auditlogs.kdebug.io`)',
      querystring: AuditQuerySchema,
      response: { 200: Type.Ref(AuditPageSchema), ...problemResponses(404) }
    }
  }, async (request) => {
    await app.authorize(request, [AUDIT_READ_PERMISSION])
    if (!opts.file) throw Problems.notFound('This replica writes no audit file (audit.file is null); read the audit stream where stdout is collected.')
    const page = await queryAuditFile(opts.file, request.query)
    return { replica: opts.replica, records: page.records as unknown as Array<Record<string, unknown>>, more: page.more }
  })
}
