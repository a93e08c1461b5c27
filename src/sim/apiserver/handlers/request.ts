// What every write handler reads off the request: dry run, and who manages the fields it writes.
import type { ResourceRequest } from '../context.ts'
import { apiVersionOf, type ResourceDefinition } from '../../registry/definitions.ts'
import { managerOrUserAgent, type ManagerWrite } from '../../registry/managed-fields.ts'
import { rfc3339 } from '../../storage/store.ts'

export function isDryRun (url: URL): boolean {
  return url.searchParams.getAll('dryRun').includes('All')
}

/** The field manager of this write (fieldManager, else the User-Agent prefix) and when it happened. */
export function writeOf (r: ResourceRequest, d: ResourceDefinition, subresource?: string): ManagerWrite {
  const manager = managerOrUserAgent(r.url.searchParams.get('fieldManager'), r.req.headers['user-agent'])
  return { manager, apiVersion: apiVersionOf(d), time: rfc3339(r.ctx.store.now()), ...(subresource ? { subresource } : {}) }
}
