// Query parameter conversion as the API server does it.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { queryBool } from '../../../src/sim/apiserver/http-util.ts'
import { parseRequestInfo } from '../../../src/sim/apiserver/request-info.ts'

test('boolean query parameters convert as the API server converts them', () => {
  assert.equal(queryBool(null), false)
  for (const f of ['0', 'false', 'False', 'FALSE']) assert.equal(queryBool(f), false, f)
  for (const t of ['true', 'True', '1', '', 'yes']) assert.equal(queryBool(t), true, t)
  assert.equal(parseRequestInfo('GET', new URL('http://x/api/v1/pods?watch=True')).verb, 'watch')
  assert.equal(parseRequestInfo('GET', new URL('http://x/api/v1/pods?watch=0')).verb, 'list')
})
