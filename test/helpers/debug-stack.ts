// A stack (sim + gateway) with the debug routes, a test policy and a readable audit log.
import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import { startStack, type Stack, type StackOptions } from './stack.ts'
import { defaultPolicy } from '../../src/policy/default.ts'
import type { Policy } from '../../src/policy/config-schema.ts'
import type { AuditRecord } from '../../src/audit/types.ts'

/** The default policy, plus: carol may not debug node-2; sre may use the sim's never-pulling registry. */
export function testPolicy (overrides: { developersMaxSessions?: number } = {}): Policy {
  const rules = structuredClone(defaultPolicy.rules) as Policy['rules']
  const sre = rules.find(r => r.name === 'sre')
  const dev = rules.find(r => r.name === 'developers')
  if (!sre || !dev) throw new Error('default policy changed')
  sre.allow.images.push('unreachable.invalid/**')
  dev.allow.maxSessionsPerUser = overrides.developersMaxSessions ?? 100
  return {
    rules: [
      { name: 'no-node-2', match: { users: ['carol'], nodes: ['node-2'] }, allow: { ...structuredClone(sre.allow), nodeDebug: false } },
      ...rules
    ]
  }
}

export interface DebugStack extends Stack {
  audit: () => AuditRecord[]
  post: (path: string, as: string, body: unknown, headers?: Record<string, string>) => Promise<{ status: number, body: any, headers: Headers }>
}

export async function startDebugStack (opts: StackOptions & { policy?: Policy } = {}): Promise<DebugStack> {
  const config = { policy: opts.policy ?? testPolicy(), ...opts.config }
  const stack = await startStack({
    ...opts,
    config,
    extend: async (app: FastifyInstance) => { await opts.extend?.(app) }
  })
  return {
    ...stack,
    audit: () => readFileSync(stack.auditFile, 'utf8').split('\n').filter(Boolean).map(l => JSON.parse(l) as AuditRecord),
    post: async (path, as, body, headers = {}) => {
      const res = await stack.request(path, { as, method: 'POST', body: JSON.stringify(body), headers })
      return { status: res.status, body: await res.json(), headers: res.headers }
    }
  }
}
