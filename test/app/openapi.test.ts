// openapi/openapi.json is generated from the route schemas; it must match the
// code (run `npm run openapi` after changing a route) and be a valid document.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import SwaggerParser from '@apidevtools/swagger-parser'
import { generateOpenApi, renderOpenApi } from '../../src/openapi-spec.ts'

const committedPath = new URL('../../openapi/openapi.json', import.meta.url)

test('the committed spec matches the route schemas (no drift)', async () => {
  const generated = renderOpenApi(await generateOpenApi())
  const committed = readFileSync(committedPath, 'utf8')
  assert.equal(committed, generated, 'openapi/openapi.json is stale: run `npm run openapi`')
})

test('the spec validates and every operation is documented', async () => {
  const doc = JSON.parse(readFileSync(committedPath, 'utf8'))
  await SwaggerParser.validate(structuredClone(doc))
  for (const [path, item] of Object.entries<Record<string, Record<string, unknown>>>(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const where = `${method.toUpperCase()} ${path}`
      assert.ok(op.summary, `${where} has a summary`)
      assert.ok(Array.isArray(op.tags) && op.tags.length > 0, `${where} has tags`)
      const responses = op.responses as Record<string, { content?: Record<string, unknown> }>
      assert.ok(Object.keys(responses).some(c => c.startsWith('2')), `${where} documents a 2xx`)
      const isPublic = Array.isArray(op.security) && op.security.length === 0
      if (!isPublic) {
        for (const code of ['401', '403', '500', '503']) assert.ok(responses[code], `${where} documents ${code}`)
      }
    }
  }
})
