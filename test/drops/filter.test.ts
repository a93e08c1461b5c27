import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Value } from '@sinclair/typebox/value'
import { compileDropFilter, DropFilterSchema, matchesFilter } from '../../src/drops/filter.ts'
import { makeDrop } from './fixtures.ts'

describe('matchesFilter', () => {
  const drop = makeDrop()

  test('empty filter matches everything', () => {
    assert.equal(matchesFilter(drop, {}), true)
    assert.equal(matchesFilter(makeDrop({ pod: null, direction: null, peer: null, port: null, protocol: null }), {}), true)
  })

  test('pod: exact, or glob with * and ?', () => {
    assert.equal(matchesFilter(drop, { pod: 'web-1' }), true)
    assert.equal(matchesFilter(drop, { pod: 'web' }), false)
    assert.equal(matchesFilter(drop, { pod: 'web-*' }), true)
    assert.equal(matchesFilter(drop, { pod: 'web-?' }), true)
    assert.equal(matchesFilter(drop, { pod: 'web-??' }), false)
    assert.equal(matchesFilter(drop, { pod: '*-1' }), true)
    assert.equal(matchesFilter(drop, { pod: 'api-*' }), false)
    // regex metacharacters are literal
    assert.equal(matchesFilter(makeDrop({ pod: 'a.b' }), { pod: 'a.*' }), true)
    assert.equal(matchesFilter(makeDrop({ pod: 'axb' }), { pod: 'a.*' }), false)
    assert.equal(matchesFilter(makeDrop({ pod: null }), { pod: '*' }), false)
  })

  test('direction, source, namespace exact', () => {
    assert.equal(matchesFilter(drop, { direction: 'egress' }), true)
    assert.equal(matchesFilter(drop, { direction: 'ingress' }), false)
    assert.equal(matchesFilter(drop, { source: 'cilium' }), true)
    assert.equal(matchesFilter(drop, { source: 'kube-iptables-tailer' }), false)
    assert.equal(matchesFilter(drop, { namespace: 'demo' }), true)
    assert.equal(matchesFilter(drop, { namespace: 'dem' }), false)
  })

  test('peer: case-insensitive substring of peer or peer IP', () => {
    assert.equal(matchesFilter(drop, { peer: 'payments' }), true)
    assert.equal(matchesFilter(drop, { peer: 'LEDGER' }), true)
    assert.equal(matchesFilter(drop, { peer: 'payments/ledger-0' }), true)
    assert.equal(matchesFilter(drop, { peer: '10.244.2.17' }), true)
    assert.equal(matchesFilter(drop, { peer: '10.244.2' }), true)
    assert.equal(matchesFilter(drop, { peer: 'billing' }), false)
    assert.equal(matchesFilter(makeDrop({ peer: null, peerIP: null }), { peer: 'x' }), false)
  })

  test('port exact', () => {
    assert.equal(matchesFilter(drop, { port: 5432 }), true)
    assert.equal(matchesFilter(drop, { port: 543 }), false)
    assert.equal(matchesFilter(makeDrop({ port: null }), { port: 0 }), false)
  })

  test('protocol: case-insensitive, ICMP covers both versions, numbers allowed', () => {
    assert.equal(matchesFilter(drop, { protocol: 'tcp' }), true)
    assert.equal(matchesFilter(drop, { protocol: '6' }), true)
    assert.equal(matchesFilter(drop, { protocol: 'udp' }), false)
    assert.equal(matchesFilter(makeDrop({ protocol: 'ICMPv6' }), { protocol: 'icmp' }), true)
    assert.equal(matchesFilter(makeDrop({ protocol: 'ICMPv4' }), { protocol: 'ICMP' }), true)
    assert.equal(matchesFilter(makeDrop({ protocol: 'ICMPv4' }), { protocol: 'icmpv6' }), false)
    assert.equal(matchesFilter(makeDrop({ protocol: null }), { protocol: 'tcp' }), false)
  })

  test('all fields are ANDed; a compiled predicate gives the same answers', () => {
    const f = { pod: 'web-*', direction: 'egress' as const, peer: 'ledger', port: 5432, protocol: 'TCP', source: 'cilium' as const, namespace: 'demo' }
    assert.equal(matchesFilter(drop, f), true)
    assert.equal(matchesFilter(drop, { ...f, port: 80 }), false)
    const pred = compileDropFilter(f)
    assert.equal(pred(drop), true)
    assert.equal(pred(makeDrop({ namespace: 'payments' })), false)
  })

  test('DropFilterSchema accepts a query and rejects bad values', () => {
    assert.equal(Value.Check(DropFilterSchema, { pod: 'web-*', direction: 'ingress', port: 80, protocol: 'tcp', source: 'other' }), true)
    assert.equal(Value.Check(DropFilterSchema, { direction: 'sideways' }), false)
    assert.equal(Value.Check(DropFilterSchema, { port: 70000 }), false)
    assert.equal(Value.Check(DropFilterSchema, { source: 'calico' }), false)
    assert.equal(Value.Check(DropFilterSchema, { pod: '' }), false)
  })
})
