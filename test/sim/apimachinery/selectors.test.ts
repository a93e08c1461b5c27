// Label and field selectors as apimachinery parses and matches them.
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { parseLabelSelector, parseFieldSelector, exactName } from '../../../src/sim/apimachinery/selectors.ts'
import type { StatusError } from '../../../src/sim/apimachinery/status.ts'

const pod = (name: string, labels: Record<string, string> = {}): any => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ns', labels }, spec: { nodeName: 'n1' }, status: { phase: 'Running' } })

describe('selectors', () => {
  test('label selector operators', () => {
    const m = (sel: string, labels: Record<string, string>): boolean => parseLabelSelector(sel)(labels)
    assert.ok(m('app=web', { app: 'web' }))
    assert.ok(m('app==web', { app: 'web' }))
    assert.ok(!m('app!=web', { app: 'web' }))
    assert.ok(m('app!=web', {}))
    assert.ok(m('app in (web, api)', { app: 'api' }))
    assert.ok(!m('app notin (web,api)', { app: 'api' }))
    assert.ok(m('app notin (web)', {}))
    assert.ok(m('app', { app: '' }))
    assert.ok(!m('!app', { app: 'x' }))
    assert.ok(m('app=web,tier in (fe),!canary', { app: 'web', tier: 'fe' }))
    assert.ok(!m('app=web,tier in (fe),!canary', { app: 'web', tier: 'fe', canary: 'y' }))
    assert.throws(() => parseLabelSelector('app=(bad'), (e: StatusError) => e.code === 400)
  })

  test('field selectors per kind; unknown field → 400 field label not supported', () => {
    const ev = { metadata: { name: 'e1', namespace: 'demo' }, reason: 'PacketDrop', type: 'Warning', source: { component: 'kube-iptables-tailer' }, involvedObject: { kind: 'Pod', name: 'web', namespace: 'demo' } } as any
    assert.ok(parseFieldSelector('reason=PacketDrop', 'events')(ev))
    assert.ok(parseFieldSelector('reason==PacketDrop,type=Warning,involvedObject.name=web', 'events')(ev))
    assert.ok(!parseFieldSelector('source!=kube-iptables-tailer', 'events')(ev))
    assert.ok(parseFieldSelector('source=cilium', 'events')({ ...ev, source: {}, reportingComponent: 'cilium' }))
    assert.ok(parseFieldSelector('spec.nodeName=n1,status.phase=Running,metadata.name=a', 'pods')(pod('a')))
    assert.ok(parseFieldSelector('spec.hostNetwork=false', 'pods')(pod('a')))
    assert.throws(() => parseFieldSelector('spec.foo=bar', 'pods'), (e: StatusError) => e.code === 400 && e.message === 'field label not supported: spec.foo')
    assert.throws(() => parseFieldSelector('metadata.namespace=x', 'nodes'), (e: StatusError) => e.message === 'field label not supported: metadata.namespace')
    assert.equal(exactName('metadata.name=web,status.phase=Running'), 'web')
    assert.equal(exactName('status.phase=Running'), undefined)
  })
})
