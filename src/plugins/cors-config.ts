// `server.cors`: which browser origins may use the API from their own pages.
// Pure schema + validation (src/config.ts embeds it); the plugin is ./cors.ts.
import { Type, type Static } from '@sinclair/typebox'

export const CorsConfigSchema = Type.Object({
  origins: Type.Array(Type.String({ minLength: 1, pattern: '^(\\*|https?://[^/?#\\s]+)$' }), {
    default: [],
    description: 'Browser origins (`scheme://host[:port]`, as the browser sends them: no path, no trailing slash) whose pages may call the API (CORS) and open WebSockets; `*` = any origin (not with `credentials`). Empty: none. Requests without Origin (CLIs, bots) and from the gateway\'s own origin are not affected.'
  }),
  credentials: Type.Boolean({ default: false, description: 'Answer with Access-Control-Allow-Credentials, for a proxy in front that authenticates with cookies. The gateway\'s bearer tokens and stream tickets do not need it. Not allowed with `*`.' }),
  maxAgeSeconds: Type.Integer({ minimum: 0, maximum: 86400, default: 600, description: 'How long a browser may cache a preflight answer (Access-Control-Max-Age).' })
}, { additionalProperties: false, default: {} })
export type CorsConfig = Static<typeof CorsConfigSchema>

/** Problems the schema cannot express; run at config load. Empty = fine. */
export function validateCorsConfig (config: CorsConfig): string[] {
  const problems: string[] = []
  for (const [i, o] of config.origins.entries()) {
    if (o === '*') continue
    // Browsers send the serialised origin (WHATWG URL "origin"): lower-case host, no default port.
    let serialised: string | undefined
    try { serialised = new URL(o).origin } catch { serialised = undefined }
    if (serialised !== o) problems.push(`server.cors.origins[${i}] "${o}" is not an origin as browsers send it${serialised && serialised !== 'null' ? ` (did you mean "${serialised}"?)` : ''}`)
  }
  if (config.credentials && config.origins.includes('*')) {
    problems.push('server.cors.credentials cannot be combined with origin "*": list the origins')
  }
  return problems
}
