import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Value } from '@sinclair/typebox/value'
import { normalizeProtocol, parseDropEvent, parseDropMessage } from '../../src/drops/parse.ts'
import { DropSchema, type ParsedDropMessage } from '../../src/drops/types.ts'
import { ciliumEvent, tailerEvent } from './fixtures.ts'

type Expect = Partial<ParsedDropMessage>

function check (message: string, expected: Expect): void {
  const got = parseDropMessage(message)
  for (const [key, value] of Object.entries(expected)) {
    assert.deepEqual(got[key as keyof ParsedDropMessage], value, `${key} of ${JSON.stringify(message)}`)
  }
}

const NO_CILIUM = { dropReason: null, policies: [], policyRelation: null }

describe('parseDropMessage: kube-iptables-tailer', () => {
  test('sending, namespace peer with IP, port and protocol', () => {
    check('Packet dropped when sending traffic to payments (10.244.2.17) on port 5432/TCP', {
      format: 'tailer',
      direction: 'egress',
      peer: 'payments',
      peerIP: '10.244.2.17',
      port: 5432,
      protocol: 'TCP',
      peerNamespace: null,
      peerPod: null,
      combined: false,
      ...NO_CILIUM
    })
  })

  test('receiving, README form with trailing period', () => {
    check('Packet dropped when receiving traffic from example-service-2 (22.222.22.222) on port 5678/TCP.', {
      format: 'tailer', direction: 'ingress', peer: 'example-service-2', peerIP: '22.222.22.222', port: 5678, protocol: 'TCP'
    })
  })

  test('old versions: no port part (as in the seed notes)', () => {
    check('Packet dropped when sending traffic to default (192.168.110.144)', {
      format: 'tailer', direction: 'egress', peer: 'default', peerIP: '192.168.110.144', port: null, protocol: null
    })
    check('Packet dropped when receiving traffic from default (192.168.162.147)', {
      direction: 'ingress', peer: 'default', peerIP: '192.168.162.147', port: null
    })
  })

  test('peer equal to the IP: no parenthesised IP (with and without port, trailing period)', () => {
    check('Packet dropped when sending traffic to 1.2.3.4 on port 80/TCP', { peer: '1.2.3.4', peerIP: '1.2.3.4', port: 80, protocol: 'TCP' })
    check('Packet dropped when receiving traffic from 10.12.0.18', { peer: '10.12.0.18', peerIP: '10.12.0.18', port: null })
    check('Packet dropped when sending traffic to 1.2.3.4.', { peer: '1.2.3.4', peerIP: '1.2.3.4' })
  })

  test('IPv6 peers', () => {
    check('Packet dropped when sending traffic to fd00:10:96::a on port 53/UDP', {
      peer: 'fd00:10:96::a', peerIP: 'fd00:10:96::a', port: 53, protocol: 'UDP'
    })
    check('Packet dropped when receiving traffic from payments/ledger-0 (2001:db8::5) on port 443/TCP', {
      direction: 'ingress', peer: 'payments/ledger-0', peerNamespace: 'payments', peerPod: 'ledger-0', peerIP: '2001:db8::5', port: 443
    })
  })

  test('POD_IDENTIFIER variants: name, label value, name_with_namespace; node and DNS names', () => {
    check('Packet dropped when sending traffic to ledger-0 (10.244.2.17) on port 5432/TCP', { peer: 'ledger-0', peerNamespace: null, peerPod: null })
    check('Packet dropped when sending traffic to ledger_v2.blue (10.244.2.17) on port 5432/TCP', { peer: 'ledger_v2.blue', peerIP: '10.244.2.17' })
    check('Packet dropped when sending traffic to payments/ledger-0 (10.244.2.17) on port 5432/TCP', {
      peer: 'payments/ledger-0', peerNamespace: 'payments', peerPod: 'ledger-0'
    })
    check('Packet dropped when receiving traffic from kind-worker2 (172.18.0.3) on port 10250/TCP', { peer: 'kind-worker2', peerIP: '172.18.0.3' })
    // Go's reverse lookup returns fully qualified names with the root dot
    check('Packet dropped when sending traffic to db.example.com. (203.0.113.7) on port 5432/TCP', { peer: 'db.example.com.', peerIP: '203.0.113.7' })
  })

  test("the 'emitted from' variant of one tailer version", () => {
    check('Packet dropped when sending traffic to payments (10.244.2.17) on port 5432/TCP (emitted from: tailer-abcde/10.244.0.4)', {
      peer: 'payments', peerIP: '10.244.2.17', port: 5432, protocol: 'TCP'
    })
  })

  test('protocols are normalised: lower-case, ICMP, numeric PROTO', () => {
    check('Packet dropped when sending traffic to x (10.0.0.1) on port 53/udp', { protocol: 'UDP' })
    check('Packet dropped when sending traffic to x (10.0.0.1) on port 0/ICMP', { protocol: 'ICMPv4', port: 0 })
    check('Packet dropped when sending traffic to x (10.0.0.1) on port 7/132', { protocol: 'SCTP' })
    check('Packet dropped when sending traffic to x (10.0.0.1) on port 99999/TCP', { port: null, protocol: 'TCP' })
  })

  test('combined-events prefix', () => {
    check('(combined from similar events): Packet dropped when sending traffic to payments (10.244.2.17) on port 5432/TCP', {
      combined: true, format: 'tailer', direction: 'egress', peer: 'payments', port: 5432
    })
  })
})

describe('parseDropMessage: Cilium', () => {
  test('ingress from a pod, TCP (v1.16 form, no period)', () => {
    check('Incoming packet dropped (policy_denied) from demo/web-1 (10.244.1.9) TCP/5432', {
      format: 'cilium',
      direction: 'ingress',
      dropReason: 'policy_denied',
      peer: 'demo/web-1',
      peerNamespace: 'demo',
      peerPod: 'web-1',
      peerIP: '10.244.1.9',
      port: 5432,
      protocol: 'TCP',
      policies: [],
      policyRelation: null
    })
  })

  test('egress to a reserved identity, UDP, newer form with period (Cilium test strings)', () => {
    check('Outgoing packet dropped (policy_denied) to remote-node (5.6.7.8) UDP/512.', {
      direction: 'egress', peer: 'remote-node', peerNamespace: null, peerPod: null, peerIP: '5.6.7.8', port: 512, protocol: 'UDP'
    })
    check('Incoming packet dropped (policy_denied) from unknown (1.2.3.4) TCP/443', { peer: 'unknown', peerIP: '1.2.3.4', port: 443 })
    check('Outgoing packet dropped (policy_denied) to world (2606:4700::1111) TCP/443.', { peer: 'world', peerIP: '2606:4700::1111' })
  })

  test('bare IP peer (IPv4 and IPv6)', () => {
    check('Outgoing packet dropped (policy_denied) to 192.0.2.10 TCP/80', { peer: '192.0.2.10', peerIP: '192.0.2.10', port: 80 })
    check('Incoming packet dropped (policy_denied) from fd00::7 UDP/53.', { peer: 'fd00::7', peerIP: 'fd00::7', port: 53, protocol: 'UDP' })
  })

  test('every l4 form, including none (trailing space, or space and period)', () => {
    for (const l4 of ['ICMPv4', 'ICMPv6', 'SCTP', 'VRRP', 'IGMP']) {
      check(`Outgoing packet dropped (policy_denied) to world (1.1.1.1) ${l4}`, { protocol: l4, port: null, peer: 'world' })
      check(`Outgoing packet dropped (policy_denied) to world (1.1.1.1) ${l4}.`, { protocol: l4, port: null })
    }
    check('Outgoing packet dropped (policy_denied) to world (1.1.1.1) ', { protocol: null, port: null, peer: 'world', peerIP: '1.1.1.1' })
    check('Outgoing packet dropped (policy_denied) to world (1.1.1.1) .', { protocol: null, port: null, peer: 'world', peerIP: '1.1.1.1' })
    check('Outgoing packet dropped (policy_denied) to 1.1.1.1 ', { protocol: null, peer: '1.1.1.1', peerIP: '1.1.1.1' })
  })

  test('denying policies, namespaced and clusterwide, names with dots', () => {
    check('Incoming packet dropped (policy_deny) from demo/web-1 (10.0.0.1) TCP/80. Denied by policies: CiliumNetworkPolicy/deny.all,CiliumNetworkPolicy/b. Denied by clusterwide policies: CiliumClusterwideNetworkPolicy/lockdown.', {
      dropReason: 'policy_deny',
      port: 80,
      policies: ['CiliumNetworkPolicy/deny.all', 'CiliumNetworkPolicy/b', 'CiliumClusterwideNetworkPolicy/lockdown'],
      policyRelation: 'denied-by'
    })
  })

  test('applied policies, also after an empty l4', () => {
    check('Incoming packet dropped (policy_denied) from world (10.0.0.1) . Applied policies: NetworkPolicy/default-deny.', {
      protocol: null, policies: ['NetworkPolicy/default-deny'], policyRelation: 'applied'
    })
    check('Outgoing packet dropped (policy_denied) to 10.0.0.1 UDP/53. Applied clusterwide policies: CiliumClusterwideNetworkPolicy/egress.', {
      port: 53, policies: ['CiliumClusterwideNetworkPolicy/egress'], policyRelation: 'applied'
    })
  })

  test('combined-events prefix', () => {
    check('(combined from similar events): Outgoing packet dropped (policy_denied) to world (1.1.1.1) TCP/443', {
      combined: true, format: 'cilium', direction: 'egress', port: 443
    })
  })
})

describe('parseDropMessage: anything else', () => {
  test('garbage yields nulls and format unknown', () => {
    for (const m of ['', 'garbage', 'Packet dropped', 'Incoming packet dropped', '(combined from similar events): something else']) {
      check(m, {
        format: 'unknown', direction: null, peer: null, peerIP: null, port: null, protocol: null, dropReason: null, policies: [], policyRelation: null
      })
    }
    check('(combined from similar events): something else', { combined: true })
  })

  test('a non-string does not throw', () => {
    assert.equal(parseDropMessage(undefined as unknown as string).format, 'unknown')
  })

  test('normalizeProtocol', () => {
    assert.equal(normalizeProtocol('tcp'), 'TCP')
    assert.equal(normalizeProtocol('icmpv6'), 'ICMPv6')
    assert.equal(normalizeProtocol('17'), 'UDP')
    assert.equal(normalizeProtocol('gre'), 'GRE')
    assert.equal(normalizeProtocol(''), null)
    assert.equal(normalizeProtocol(null), null)
  })
})

describe('parseDropEvent', () => {
  test('kube-iptables-tailer event', () => {
    const drop = parseDropEvent(tailerEvent())
    assert.ok(drop)
    assert.ok(Value.Check(DropSchema, drop), JSON.stringify([...Value.Errors(DropSchema, drop)]))
    assert.deepEqual(drop, {
      id: '6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f',
      time: '2026-11-27T10:04:12Z',
      firstTime: '2026-11-27T09:58:01Z',
      namespace: 'demo',
      pod: 'web-7d4b9c6f5-x2x7p',
      direction: 'egress',
      peer: 'payments',
      peerNamespace: null,
      peerPod: null,
      peerIP: '10.244.2.17',
      port: 5432,
      protocol: 'TCP',
      count: 4,
      node: null,
      source: 'kube-iptables-tailer',
      sourceComponent: 'kube-iptables-tailer',
      dropReason: null,
      policies: [],
      policyRelation: null,
      combined: false,
      message: 'Packet dropped when sending traffic to payments (10.244.2.17) on port 5432/TCP',
      resourceVersion: '48213'
    })
  })

  test('Cilium event', () => {
    const drop = parseDropEvent(ciliumEvent())
    assert.ok(drop)
    assert.ok(Value.Check(DropSchema, drop))
    assert.equal(drop.source, 'cilium')
    assert.equal(drop.namespace, 'payments')
    assert.equal(drop.pod, 'ledger-0')
    assert.equal(drop.direction, 'ingress')
    assert.equal(drop.peer, 'demo/web-7d4b9c6f5-x2x7p')
    assert.equal(drop.peerNamespace, 'demo')
    assert.equal(drop.peerPod, 'web-7d4b9c6f5-x2x7p')
    assert.equal(drop.peerIP, '10.244.1.9')
    assert.equal(drop.port, 5432)
    assert.equal(drop.protocol, 'TCP')
    assert.equal(drop.dropReason, 'policy_denied')
    assert.deepEqual(drop.policies, ['CiliumNetworkPolicy/ledger-ingress'])
    assert.equal(drop.policyRelation, 'applied')
    assert.equal(drop.count, 1)
    assert.equal(drop.node, null)
    assert.equal(drop.time, '2026-11-27T10:01:30Z')
  })

  test('not a drop, or unusable → undefined', () => {
    assert.equal(parseDropEvent(null), undefined)
    assert.equal(parseDropEvent('x'), undefined)
    assert.equal(parseDropEvent([]), undefined)
    assert.equal(parseDropEvent({ ...tailerEvent(), reason: 'BackOff' }), undefined)
    assert.equal(parseDropEvent({ ...tailerEvent(), metadata: { uid: 'u' }, involvedObject: { kind: 'Pod', name: 'p' } }), undefined)
    assert.equal(parseDropEvent({ ...tailerEvent(), metadata: { namespace: 'demo' } }), undefined)
  })

  test('custom reason and component (both configurable in the tailer)', () => {
    const ev = { ...tailerEvent(), reason: 'NetDrop', source: { component: 'iptables-drops' } }
    assert.equal(parseDropEvent(ev), undefined)
    const drop = parseDropEvent(ev, { reasons: ['NetDrop'] })
    assert.equal(drop?.source, 'kube-iptables-tailer')
    assert.equal(drop?.sourceComponent, 'iptables-drops')
  })

  test('unparseable message still comes through raw with null fields', () => {
    const drop = parseDropEvent({ ...tailerEvent(), message: 'something odd\nhappened', source: { component: 'acme-fw' } })
    assert.ok(drop)
    assert.equal(drop.message, 'something odd\nhappened')
    assert.equal(drop.source, 'other')
    assert.equal(drop.direction, null)
    assert.equal(drop.peer, null)
    assert.equal(drop.port, null)
    assert.equal(drop.pod, 'web-7d4b9c6f5-x2x7p')
    assert.ok(Value.Check(DropSchema, drop))
  })

  test('fallbacks: id, times, count, node, reporting fields, non-Pod objects', () => {
    const base = tailerEvent()
    const ev = {
      ...base,
      metadata: { name: 'n1.abc', namespace: 'demo', creationTimestamp: '2026-11-27T09:00:00Z' },
      involvedObject: { kind: 'Deployment', name: 'web', namespace: 'demo' },
      source: {},
      firstTimestamp: null,
      lastTimestamp: null,
      eventTime: '2026-11-27T09:00:00.123456Z',
      count: 0,
      reportingComponent: 'cilium',
      reportingInstance: 'kind-worker'
    }
    const drop = parseDropEvent(ev)
    assert.ok(drop)
    assert.equal(drop.id, 'demo/n1.abc')
    assert.equal(drop.time, '2026-11-27T09:00:00.123456Z')
    assert.equal(drop.firstTime, '2026-11-27T09:00:00.123456Z')
    assert.equal(drop.count, 1)
    assert.equal(drop.node, 'kind-worker')
    assert.equal(drop.sourceComponent, 'cilium')
    assert.equal(drop.source, 'cilium')
    assert.equal(drop.pod, null)
    assert.equal(drop.resourceVersion, null)

    const bare = parseDropEvent({ ...ev, eventTime: null, source: { component: 'x', host: 'node-a' } })
    assert.equal(bare?.time, '2026-11-27T09:00:00Z')
    assert.equal(bare?.node, 'node-a')
  })

  test('events.k8s.io/v1 field names are understood', () => {
    const drop = parseDropEvent({
      metadata: { name: 'p.1', namespace: 'demo', uid: 'u-1', resourceVersion: '9' },
      regarding: { kind: 'Pod', name: 'p', namespace: 'demo' },
      reason: 'PacketDrop',
      note: 'Outgoing packet dropped (policy_denied) to world (1.1.1.1) UDP/53.',
      reportingController: 'cilium',
      eventTime: '2026-11-27T10:00:00.000000Z',
      series: { count: 3, lastObservedTime: '2026-11-27T10:05:00.000000Z' }
    })
    assert.equal(drop?.pod, 'p')
    assert.equal(drop?.count, 3)
    assert.equal(drop?.time, '2026-11-27T10:05:00.000000Z')
    assert.equal(drop?.source, 'cilium')
    assert.equal(drop?.port, 53)
  })
})
