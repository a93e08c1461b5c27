// Configuration of the reference web console, embedded by src/config.ts as `ui`.
import { Type, type Static } from '@sinclair/typebox'

export const UiOidcConfigSchema = Type.Object({
  clientId: Type.Optional(Type.String({ minLength: 1, description: 'OAuth client id the console signs in with (a public client: authorization code + PKCE, no secret); default `authentication.oidc.audience`, since the gateway only accepts ID tokens issued to that audience.' })),
  scopes: Type.Array(Type.String({ minLength: 1, pattern: '^[!#-\\[\\]-~]+$' }), { default: ['openid', 'profile', 'email'], description: 'Scopes the console asks for (add `groups` where the provider needs it for the groups claim).' })
}, { additionalProperties: false, default: {} })

export const UiConfigSchema = Type.Object({
  enabled: Type.Boolean({ default: false, description: 'Serve the web console at /ui/ (built with `npm run build:ui`; the process refuses to start when enabled and the build is missing).' }),
  dir: Type.Optional(Type.String({ minLength: 1, description: 'Directory of the built console; default `ui/dist` of the installation.' })),
  namespaces: Type.Array(Type.String({ minLength: 1, maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' }), { default: [], description: 'Namespaces the console offers in its picker (users may type others); what a user may do in each is still decided per request.' }),
  frameAncestors: Type.Array(Type.String({ minLength: 1, pattern: '^https?://[^\\s/;,]+$' }), { default: [], description: 'Origins (scheme://host[:port]) allowed to embed the console in a frame (CSP frame-ancestors); empty = none but the gateway itself.' }),
  oidc: UiOidcConfigSchema
}, { additionalProperties: false, default: {} })
export type UiConfig = Static<typeof UiConfigSchema>
