// Appends under load (32 concurrent appenders) and prints "<seq> <requestId>"
// for every acknowledged record; the audit scenario SIGKILLs it at random.
import { createAuditLog } from '../../src/audit/writer.ts'

const file = process.argv[2]
const run = process.argv[3] ?? '0'
if (!file) throw new Error('usage: audit-kill-loop.ts FILE RUN')
const log = await createAuditLog({ file, replica: `kill-${run}` })
process.stdout.write('ready\n')
let i = 0
async function appender (): Promise<void> {
  for (;;) {
    const requestId = `${run}-${i++}`
    const r = await log.append({ requestId, action: 'ephemeral.create', phase: 'request', actor: { user: 'alice', groups: ['dev'] }, request: { image: 'busybox:1.36', reason: 'bench' } })
    process.stdout.write(`${r.seq} ${requestId}\n`) // synchronous for pipes on Linux
  }
}
await Promise.all(Array.from({ length: 32 }, appender))
