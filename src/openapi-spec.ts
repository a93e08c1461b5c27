// Generates the OpenAPI document from the live route schemas, without a
// cluster: the app is built against an unreachable placeholder API server
// (nothing is called while generating) and a no-op audit log.
import { resolveConfig } from './config.ts'
import { createServices } from './services.ts'
import { buildApp } from './app.ts'
import { createNoopAuditLog } from './audit/writer.ts'

const PLACEHOLDER_KUBECONFIG = `apiVersion: v1
kind: Config
clusters: [{ name: spec, cluster: { server: 'https://127.0.0.1:1' } }]
users: [{ name: spec, user: { token: unused } }]
contexts: [{ name: spec, context: { cluster: spec, user: spec } }]
current-context: spec
`

export async function generateOpenApi (): Promise<Record<string, unknown>> {
  const config = resolveConfig({ logging: { level: 'silent' }, audit: { file: null, stdout: false } })
  const services = await createServices(config, { kubeconfigText: PLACEHOLDER_KUBECONFIG, audit: createNoopAuditLog() })
  const app = await buildApp({ ...services, config })
  try {
    await app.ready()
    return app.swagger() as unknown as Record<string, unknown>
  } finally {
    await app.close()
    await services.close()
  }
}

/** Stable text for the committed file (and the drift test). */
export function renderOpenApi (doc: Record<string, unknown>): string {
  return JSON.stringify(doc, null, 2) + '\n'
}
