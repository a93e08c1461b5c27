// RequestInfo from method and path (apiserver endpoints/request/requestinfo.go).
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { parseRequestInfo } from '../../../src/sim/apiserver/request-info.ts'

describe('request info', () => {
  const info = (method: string, path: string): ReturnType<typeof parseRequestInfo> => parseRequestInfo(method, new URL(path, 'http://x'))
  test('verbs from methods and collections', () => {
    assert.equal(info('GET', '/api/v1/namespaces/demo/pods').verb, 'list')
    assert.equal(info('GET', '/api/v1/namespaces/demo/pods?watch=true').verb, 'watch')
    assert.equal(info('GET', '/api/v1/watch/namespaces/demo/pods').verb, 'watch')
    assert.equal(info('DELETE', '/api/v1/namespaces/demo/pods').verb, 'deletecollection')
    const p = info('PATCH', '/api/v1/namespaces/demo/pods/web/ephemeralcontainers')
    assert.deepEqual([p.verb, p.namespace, p.resource, p.name, p.subresource], ['patch', 'demo', 'pods', 'web', 'ephemeralcontainers'])
    const n = info('GET', '/api/v1/namespaces/demo')
    assert.deepEqual([n.verb, n.resource, n.name, n.namespace], ['get', 'namespaces', 'demo', 'demo'])
    const g = info('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews')
    assert.deepEqual([g.verb, g.apiGroup, g.apiVersion, g.resource], ['create', 'authorization.k8s.io', 'v1', 'selfsubjectaccessreviews'])
  })
  test('non-resource paths and fieldSelector names', () => {
    assert.equal(info('GET', '/api/v1').isResourceRequest, false)
    assert.equal(info('GET', '/apis/rbac.authorization.k8s.io/v1').isResourceRequest, false)
    assert.equal(info('GET', '/version').verb, 'get')
    const w = info('GET', '/api/v1/namespaces/demo/pods?watch=1&fieldSelector=metadata.name%3Dweb')
    assert.deepEqual([w.verb, w.name], ['watch', 'web'])
  })
})
