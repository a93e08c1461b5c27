// What a client may leave out, it must be allowed to leave out: in the
// generated document a request field or parameter with a `default` is never
// `required` (the server fills it in: Ajv `useDefaults`). TypeBox marks
// defaulted properties required (they are always present after validation),
// which is right for the handlers but would make generated clients
// (openapi-typescript, openapi-generator) demand every defaulted query
// parameter and body field. Responses keep their `required`: the server always
// sends those fields. Pure: transforms the document, in place.
type Json = Record<string, unknown>

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

function componentOf (doc: Json, ref: string): Json | undefined {
  const m = /^#\/components\/schemas\/(.+)$/.exec(ref)
  const schemas = (doc.components as Json | undefined)?.schemas as Json | undefined
  return m && schemas ? schemas[m[1] as string] as Json | undefined : undefined
}

function relaxSchema (doc: Json, schema: unknown, seen: Set<unknown>): void {
  if (!isObject(schema) || seen.has(schema)) return
  seen.add(schema)
  if (typeof schema.$ref === 'string') relaxSchema(doc, componentOf(doc, schema.$ref), seen)
  const props = schema.properties
  if (isObject(props) && Array.isArray(schema.required)) {
    const required = (schema.required as string[]).filter(name => !(isObject(props[name]) && (props[name] as Json).default !== undefined))
    if (required.length > 0) schema.required = required
    else delete schema.required
  }
  for (const p of Object.values(isObject(props) ? props : {})) relaxSchema(doc, p, seen)
  for (const key of ['items', 'additionalProperties', 'not']) relaxSchema(doc, schema[key], seen)
  for (const key of ['allOf', 'anyOf', 'oneOf']) for (const s of (Array.isArray(schema[key]) ? schema[key] as unknown[] : [])) relaxSchema(doc, s, seen)
}

export function optionalDefaults<T extends object> (document: T): T {
  const doc = document as unknown as Json
  const seen = new Set<unknown>()
  for (const item of Object.values((doc.paths ?? {}) as Json)) {
    if (!isObject(item)) continue
    for (const op of Object.values(item)) {
      if (!isObject(op)) continue
      for (const p of (Array.isArray(op.parameters) ? op.parameters : []) as Json[]) {
        if (p.in !== 'path' && p.required === true && isObject(p.schema) && p.schema.default !== undefined) delete p.required
      }
      const content = isObject(op.requestBody) ? op.requestBody.content : undefined
      for (const media of Object.values(isObject(content) ? content : {})) if (isObject(media)) relaxSchema(doc, media.schema, seen)
    }
  }
  return document
}
